"""Login, logout, password hashing, roles, admin-only routes, CSRF and rate limits."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from conftest import PASSWORD, outcome_count
from flask import Flask
from werkzeug.routing import (
    AnyConverter,
    FloatConverter,
    IntegerConverter,
    Rule,
    UUIDConverter,
)

from webapp import create_app
from webapp.core.security import TOKEN_BLUEPRINTS
from webapp.extensions import db
from webapp.models import User

# Pages anyone may open; the JSON API (blueprint "api") authenticates by token.
PUBLIC_ENDPOINTS = {"auth.login", "static"}
# Values to put into URL arguments when we only care about who may reach a view.
DUMMY_ARGS = {
    IntegerConverter: 1,
    FloatConverter: 1.0,
    UUIDConverter: "00000000-0000-0000-0000-000000000001",
}


def sibling_app(app: Flask, **overrides) -> Flask:
    """Build a second app on the same test database, with some settings changed."""
    keys = ("ENV", "TESTING", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "MODEL_DIR")
    config = {key: app.config[key] for key in keys}
    config.update(PER_PAGE=10, WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)
    config.update(overrides)
    return create_app(config)


@pytest.fixture
def csrf_app(app):
    """An app like ``app`` but with CSRF protection switched on."""
    protected = sibling_app(app, WTF_CSRF_ENABLED=True)
    yield protected
    with protected.app_context():
        db.engine.dispose()


def csrf_token(html: str) -> str:
    """Return the CSRF token embedded in a rendered form."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def logged_in_user_id(client) -> str | None:
    """Return the user id stored in the client's session cookie, if any."""
    with client.session_transaction() as session:
        return session.get("_user_id")


def example_url(rule: Rule) -> str:
    """Return a URL for ``rule`` with dummy values in its arguments."""
    values = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        else:
            values[name] = DUMMY_ARGS.get(type(converter), "x")
    return rule.build(values, append_unknown=False)[1]


def rules(app: Flask, admin_only: bool | None = None) -> list[Rule]:
    """Return the page rules that need a session, optionally only the admin ones."""
    found = []
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.rpartition(".")[0]
        if rule.endpoint in PUBLIC_ENDPOINTS or blueprint in TOKEN_BLUEPRINTS:
            continue
        view = app.view_functions[rule.endpoint]
        if admin_only is None or getattr(view, "admin_only", False) == admin_only:
            found.append(rule)
    return found


def is_login_redirect(response) -> bool:
    """True when ``response`` sends the browser to the login page."""
    return response.status_code == 302 and response.location.startswith("/auth/login")


# -- login and logout ---------------------------------------------------------


def test_login_page_has_email_and_password_fields(client):
    response = client.get("/auth/login")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="email"' in html
    assert 'name="password"' in html
    assert 'type="password"' in html


def test_member_logs_in_and_lands_on_their_collaborations(client, auth, world):
    response = auth.login("brand@example.com")
    assert response.status_code == 302
    assert response.location == "/"
    assert logged_in_user_id(client) == str(world["brand"].id)
    assert client.get("/").location == "/collaborations/"
    assert client.get("/collaborations/").status_code == 200


def test_admin_lands_on_the_outcomes(client, auth, world):
    auth.login("admin@example.com")
    assert client.get("/").location == "/outcomes/"


def test_email_is_case_insensitive(client, auth, world):
    auth.login("Brand@Example.COM")
    assert logged_in_user_id(client) == str(world["brand"].id)


@pytest.mark.parametrize(
    ("email", "password"),
    [("brand@example.com", "wrong-password"), ("nobody@example.com", PASSWORD)],
)
def test_bad_credentials_rerender_with_one_message(
    client, auth, world, email, password
):
    response = auth.login(email, password)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # Same message for an unknown email and a wrong password: no account probing.
    assert "Wrong email or password." in html
    assert logged_in_user_id(client) is None


def test_malformed_email_gets_a_field_error(client, world):
    response = client.post(
        "/auth/login", data={"email": "not-an-email", "password": "x"}
    )
    assert 'id="email-error"' in response.get_data(as_text=True)
    assert logged_in_user_id(client) is None


def test_keep_me_signed_in_sets_an_http_only_remember_cookie(client, world):
    response = client.post(
        "/auth/login",
        data={"email": "brand@example.com", "password": PASSWORD, "remember": "y"},
    )
    cookie = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_login_follows_a_local_next_only(client, auth, world):
    response = client.post(
        "/auth/login?next=/collaborations/%3Fpage%3D2",
        data={"email": "brand@example.com", "password": PASSWORD},
    )
    assert response.location == "/collaborations/?page=2"


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"],
)
def test_login_ignores_an_external_next(client, world, target):
    response = client.post(
        "/auth/login",
        query_string={"next": target},
        data={"email": "brand@example.com", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response.location == "/"


def test_anonymous_visit_remembers_where_it_was_going(client, world):
    response = client.get("/collaborations/?page=2")
    assert is_login_redirect(response)
    assert "next=/collaborations/?page%3D2" in response.location


def test_logged_in_user_visiting_login_goes_home(client, auth, world):
    auth.login("brand@example.com")
    assert client.get("/auth/login").location == "/"


def test_logout_ends_the_session(client, auth, world):
    auth.login("brand@example.com")
    response = auth.logout()
    assert is_login_redirect(response)
    assert logged_in_user_id(client) is None
    assert is_login_redirect(client.get("/collaborations/"))


def test_logout_refuses_get(client, auth, world):
    """A link or an <img> on another site must not be able to sign people out."""
    auth.login("brand@example.com")
    response = client.get("/auth/logout")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"OPTIONS", "POST"}
    assert logged_in_user_id(client) == str(world["brand"].id)


# -- passwords and roles ------------------------------------------------------


def test_passwords_are_stored_salted_and_hashed():
    first, second = User(email="a@example.com"), User(email="b@example.com")
    first.set_password(PASSWORD)
    second.set_password(PASSWORD)
    assert PASSWORD not in first.password_hash
    assert first.password_hash != second.password_hash  # same password, other salt
    assert first.check_password(PASSWORD)
    assert not first.check_password(PASSWORD.upper())


def test_roles(world):
    assert world["admin"].is_admin
    assert not world["brand"].is_admin
    assert world["brand"].side == "company"
    assert world["creator"].side == "influencer"
    assert world["loner"].side is None


def test_database_rejects_an_unknown_role(app):
    user = User(email="odd@example.com", role="owner")
    user.set_password(PASSWORD)
    db.session.add(user)
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


# -- who may reach which route --------------------------------------------------


def test_the_admin_route_list_is_not_empty(app):
    endpoints = {rule.endpoint for rule in rules(app, admin_only=True)}
    assert "outcomes.index" in endpoints
    outcome_endpoints = {
        rule.endpoint for rule in rules(app) if rule.endpoint.startswith("outcomes.")
    }
    assert outcome_endpoints <= endpoints, "every outcomes view is admin-only"


def test_every_page_but_login_redirects_anonymous_visitors(app, client, world):
    checked = 0
    for rule in rules(app):
        url = example_url(rule)
        for method in sorted(rule.methods & {"GET", "POST"}):
            response = client.open(url, method=method)
            assert response.status_code != 200, (method, url)
            assert is_login_redirect(response), (method, url, response.status_code)
            checked += 1
    assert checked >= 4


def test_admin_routes_answer_403_to_members(app, client, auth, world):
    admin_rules = rules(app, admin_only=True)
    for email in ("brand@example.com", "creator@example.com", "loner@example.com"):
        auth.login(email)
        for rule in admin_rules:
            url = example_url(rule)
            for method in sorted(rule.methods & {"GET", "POST"}):
                response = client.open(url, method=method)
                assert response.status_code == 403, (email, method, url)
        auth.logout()


def test_admin_routes_open_for_admins(app, client, auth, world):
    auth.login("admin@example.com")
    for rule in rules(app, admin_only=True):
        if "GET" not in rule.methods:
            continue  # never fire admin actions with dummy arguments
        url = example_url(rule)
        response = client.get(url)
        assert response.status_code != 403, url
        assert not is_login_redirect(response), url
        assert response.status_code < 500, url


def test_forbidden_page_is_rendered_in_the_layout(client, auth, world):
    auth.login("brand@example.com")
    response = client.get("/outcomes/")
    assert response.status_code == 403
    assert "403" in response.get_data(as_text=True)
    assert "Signed in as brand@example.com" in response.get_data(as_text=True)


def test_unknown_page_is_a_404_for_everyone(client):
    assert client.get("/no/such/page").status_code == 404


# -- CSRF -----------------------------------------------------------------------


def test_login_without_csrf_token_is_rejected(csrf_app, world):
    client = csrf_app.test_client()
    response = client.post(
        "/auth/login", data={"email": "brand@example.com", "password": PASSWORD}
    )
    assert response.status_code == 400
    assert logged_in_user_id(client) is None


def login_with_token(client, email: str) -> None:
    """Log in through the rendered form, CSRF token included."""
    token = csrf_token(client.get("/auth/login").get_data(as_text=True))
    response = client.post(
        "/auth/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    assert logged_in_user_id(client) is not None


RATING = {
    "success_rating": "4",
    "completion_status": "completed",
    "would_collaborate_again": "yes",
}


def test_rating_without_csrf_token_is_rejected(csrf_app, world):
    client = csrf_app.test_client()
    login_with_token(client, "brand@example.com")
    response = client.post("/collaborations/C-A-completed/rate", data=RATING)
    assert response.status_code == 400
    assert outcome_count() == 0

    bad = client.post(
        "/collaborations/C-A-completed/rate", data={**RATING, "csrf_token": "forged"}
    )
    assert bad.status_code == 400
    assert outcome_count() == 0


def test_rating_with_the_forms_csrf_token_is_saved(csrf_app, world):
    client = csrf_app.test_client()
    login_with_token(client, "brand@example.com")
    page = client.get("/collaborations/C-A-completed/rate").get_data(as_text=True)
    response = client.post(
        "/collaborations/C-A-completed/rate",
        data={**RATING, "csrf_token": csrf_token(page)},
    )
    assert response.status_code == 302
    assert outcome_count() == 1


def test_logout_without_csrf_token_keeps_the_session(csrf_app, world):
    client = csrf_app.test_client()
    login_with_token(client, "brand@example.com")
    assert client.post("/auth/logout").status_code == 400
    assert logged_in_user_id(client) is not None


# -- rate limit -----------------------------------------------------------------


def test_login_is_rate_limited_per_address(app, world):
    limited = sibling_app(
        app, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://"
    )
    assert limited.config["RATELIMIT_LOGIN"] == "10 per minute"
    client = limited.test_client()
    attempt = {"email": "brand@example.com", "password": "wrong-password"}
    for _ in range(10):
        assert client.post("/auth/login", data=attempt).status_code == 200
    blocked = client.post(
        "/auth/login", data={"email": "brand@example.com", "password": PASSWORD}
    )
    assert blocked.status_code == 429
    assert logged_in_user_id(client) is None
    # Showing the form is not limited, and another address still gets through.
    assert client.get("/auth/login").status_code == 200
    other = limited.test_client()
    elsewhere = other.post(
        "/auth/login",
        data={"email": "brand@example.com", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    )
    assert elsewhere.status_code == 302
    with limited.app_context():
        db.engine.dispose()
