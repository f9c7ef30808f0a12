"""No page, form or API route answers 5xx, whatever is typed into it.

The walk is generic: every GET route of the url_map is visited (its URL
parameters filled with real ids and with hostile ones), every form those pages
show is submitted with hostile values in every field, and every API operation
of the OpenAPI document gets hostile bodies, queries and ids. Routes added
later are covered without touching this file.
"""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from fuzz_support import (
    HOSTILE,
    HOSTILE_INTS,
    encode,
    form_body,
    forms_of,
    hostile_variants,
    multipart,
    query_string,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webapp.experiments import store
from webapp.extensions import db
from webapp.models import ModelVersion, TrainingRun

SKIPPED_ACTIONS = {"/auth/logout"}
# Query parameters every list page may be sent besides its filter form's fields.
COMMON_QUERY = ["page", "next", "compare", "focus", "q"]


@pytest.fixture
def fuzz_world(app, world, redis):
    """The small world plus a run and a version whose artifact is missing.

    Exceptions become 500 answers (as in production) so one run lists them all.
    """
    app.config["PROPAGATE_EXCEPTIONS"] = False
    run = TrainingRun(model_type="match_success", status="failed", error="x")
    db.session.add(run)
    db.session.add(
        ModelVersion(
            model_type="match_success",
            version=1,
            status="candidate",
            algorithm="logistic_regression",
            artifact_path="match_success/missing.joblib",
            sha256="0" * 64,
            size_bytes=1,
            data_start=date(2025, 1, 1),
            data_end=date(2025, 6, 1),
        )
    )
    db.session.commit()
    experiment = store.create_experiment(
        {
            "key": "fuzz-exp",
            "model_type": "match_success",
            "unit": "company",
            "metric": "acceptance_rate",
            "baseline": 0.3,
            "variants": [
                {"key": "control", "weight": 0.5},
                {"key": "treatment", "weight": 0.5},
            ],
        },
        actor=None,
    )
    store.start(experiment, None)
    return {**world, "run_id": run.id}


def real_values(fuzz_world) -> dict[str, list[str]]:
    """Return real values for URL parameters by name."""
    return {
        "external_id": [c.external_id for c in fuzz_world["collaborations"].values()],
        "model_type": ["match_success"],
        "run_id": [str(fuzz_world["run_id"])],
        "version": ["1"],
        "key": ["fuzz-exp"],
    }


PLACEHOLDER = re.compile(r"<(?:[^:<>]+:)?(\w+)>")


def urls_of(rule, real: dict[str, list[str]]) -> list[str]:
    """Return concrete URLs of ``rule``: real ids first, then hostile ones, one at a time."""
    names = sorted(rule.arguments)
    if not names:
        return [rule.rule]

    def build(values: dict[str, str]) -> str:
        return PLACEHOLDER.sub(lambda match: values[match.group(1)], rule.rule)

    base = {name: real.get(name, ["x"])[0] for name in names}
    urls = [build(base)]
    for name in names:
        is_int = type(rule._converters[name]).__name__ == "IntegerConverter"
        values = HOSTILE_INTS if is_int else [encode(h) for h in HOSTILE[:10] if h]
        urls += [build(base | {name: value}) for value in values]
    return list(dict.fromkeys(urls))


def page_rules(app):
    """Yield the GET rules of the HTML pages (not static files, not the API)."""
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.rule.startswith(("/static", "/api/")):
            yield rule


def send(client, method: str, url: str, fields=None, files=None):
    """Send one request with hostile fields (a query for GET, a body for POST)."""
    if method == "get":
        return client.get(url, query_string=query_string(fields or {}))
    if files:
        return client.post(url, data=multipart(fields or {}, files))
    return client.post(
        url,
        data=form_body(fields or {}),
        content_type="application/x-www-form-urlencoded",
    )


def fuzz_pages(app, client, real) -> list[str]:
    """Visit every page and submit every form with hostile values; return the 5xx seen."""
    failures = []

    def check(response, what: str) -> None:
        if response.status_code >= 500:
            failures.append(f"{what} -> {response.status_code}")

    for rule in page_rules(app):
        for url in urls_of(rule, real):
            response = client.get(url)
            check(response, f"GET {url}")
            if response.status_code != 200 or "text/html" not in response.content_type:
                continue
            forms = forms_of(url, response.get_data(as_text=True))
            names = set(COMMON_QUERY)
            for form in forms:
                if form.method == "get":
                    names |= set(form.fields)
            for value in HOSTILE:
                query = {name: [value] for name in names}
                check(send(client, "get", url, query), f"GET {url}?*={value[:20]!r}")
            for form in forms:
                if form.action.split("?")[0] in SKIPPED_ACTIONS:
                    continue
                for fields, files in hostile_variants(form):
                    response = send(client, form.method, form.action, fields, files)
                    check(
                        response, f"{form.method.upper()} {form.action} {fields}"[:300]
                    )
    return failures


@pytest.mark.slow
@pytest.mark.parametrize("role", ["admin", "brand", "creator"])
def test_no_page_or_form_answers_5xx_to_hostile_input(
    app, client, auth, fuzz_world, role
):
    auth.login(f"{role}@example.com")
    failures = fuzz_pages(app, client, real_values(fuzz_world))
    assert failures == []


def test_the_login_form_answers_hostile_input_without_5xx(client, world):
    for value in HOSTILE:
        body = form_body({"email": [value], "password": [value], "remember": [value]})
        response = client.post(
            "/auth/login", data=body, content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code < 500, value


# -- the JSON API -------------------------------------------------------------------

JSON_HOSTILE = [
    '"\\ud800"',
    '"\\udfff\\ud800"',
    '"x\\u0000"',
    "1e400",
    "-1e400",
    "123456789012345678901234567890",
    "-0",
    "null",
    "[]",
    "{}",
    "true",
    '""',
    json.dumps("x" * 5000),
]


def api_bodies(schema_name: str, spec) -> list[str]:
    """Return hostile JSON texts for a request schema: each property gets each value."""
    schema = spec["components"]["schemas"][schema_name]
    properties = list(schema.get("properties", {}))
    base = {
        "influencer_id": '"INF-A"',
        "company_id": '"CO-A"',
        "type": '"match_success"',
    }
    bodies = []
    for name in properties:
        for value in JSON_HOSTILE:
            members = {key: base.get(key, '"x"') for key in properties} | {name: value}
            text = "{" + ",".join(f'"{k}": {v}' for k, v in members.items()) + "}"
            bodies.append(text)
            if name == "pairs":
                continue
            pair = "{" + ",".join(f'"{k}": {v}' for k, v in members.items()) + "}"
            bodies.append('{"pairs": [' + pair + "]}")
    return bodies + [
        '{"pairs": [' + ",".join(['{"influencer_id": "\\ud800"}'] * 3) + "]}"
    ]


def fuzz_api(client, token: str) -> list[str]:
    """Send hostile bodies, queries and ids to every API operation; return the 5xx seen."""
    spec = client.get("/api/v1/openapi.json").get_json()
    headers = {"Authorization": f"Bearer {token}"}
    failures = []
    for template, item in spec["paths"].items():
        for method, operation in item.items():
            urls = [template]
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    hostile = HOSTILE_INTS + [encode(h) for h in HOSTILE if h]
                    urls = [
                        template.replace("{" + parameter["name"] + "}", value)
                        for value in hostile
                    ]
            queries = [""]
            names = [
                p["name"] for p in operation.get("parameters", []) if p["in"] == "query"
            ]
            for value in HOSTILE:
                queries.append(query_string({name: [value] for name in names}))
                for name in names:
                    queries.append(query_string({name: [value]}))
            body_ref = (
                operation.get("requestBody", {})
                .get("content", {})
                .get("application/json", {})
                .get("schema", {})
                .get("$ref")
            )
            bodies = api_bodies(body_ref.split("/")[-1], spec) if body_ref else [None]
            for url in urls:
                for query in queries if method == "get" else [""]:
                    for body in bodies:
                        response = client.open(
                            "/api/v1" + url,
                            method=method.upper(),
                            query_string=query,
                            data=body,
                            content_type="application/json" if body else None,
                            headers=headers,
                        )
                        if response.status_code >= 500:
                            failures.append(
                                f"{method.upper()} {url}?{query[:60]!r} {body!r:.120} -> "
                                f"{response.status_code}"
                            )
    return failures


@pytest.mark.slow
@pytest.mark.parametrize("role", ["admin", "brand"])
def test_no_api_route_answers_5xx_to_hostile_input(client, fuzz_world, role):
    from api_support import issue_token

    assert fuzz_api(client, issue_token(fuzz_world[role])) == []


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    values=st.dictionaries(
        st.sampled_from(
            [
                "page",
                "niche",
                "country",
                "min_followers",
                "max_rate",
                "limit",
                "company_id",
                "q",
                "status",
                "rating",
                "side",
                "rated_from",
                "rated_to",
                "type",
                "compare",
                "focus",
            ]
        ),
        st.sampled_from(HOSTILE) | st.text(max_size=30),
        max_size=8,
    ),
    path=st.sampled_from(
        [
            "/outcomes/",
            "/collaborations/",
            "/matches/influencers",
            "/matches/brands",
            "/runs/",
            "/models/match_success",
            "/matches/",
        ]
    ),
)
def test_list_pages_take_any_query_without_5xx(client, auth, fuzz_world, values, path):
    auth.login("admin@example.com")
    response = client.get(
        path, query_string=query_string({k: [v] for k, v in values.items()})
    )
    assert response.status_code < 500


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    pair=st.fixed_dictionaries(
        {
            "influencer_id": st.text(max_size=70)
            | st.sampled_from(["INF-A", "\ud800"]),
            "company_id": st.text(max_size=70) | st.sampled_from(["CO-A", "\udfff"]),
        },
        optional={"budget": st.floats(allow_nan=False) | st.integers()},
    )
)
def test_predictions_take_any_pair_without_5xx(client, fuzz_world, pair):
    from api_support import issue_token

    token = fuzz_world.setdefault("token", issue_token(fuzz_world["admin"]))
    body = json.dumps(pair, ensure_ascii=True)
    response = client.post(
        "/api/v1/predict/match",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code < 500
