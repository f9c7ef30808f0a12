"""Redirects after login and after a proposal go to this site only, however ``next`` is spelled."""

from __future__ import annotations

import pytest
from conftest import PASSWORD

from webapp.core.security import is_local_path

# Known open-redirect bypasses: every one must be refused.
BYPASSES = [
    "//evil.example",
    "////evil.example",
    "///evil.example/x",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\\/evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "\t//evil.example",
    " //evil.example",
    " /collaborations/",
    "/collaborations/\nSet-Cookie: x=1",
    "%2F%2Fevil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "/%09/evil.example",
    "/%5Cevil.example",
    "/%252F/evil.example",
    "https://evil.example/",
    "https:evil.example",
    "http:/evil.example",
    "HTTPS://evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "/\uff0f\uff0fevil.example",  # fullwidth solidus folds to '/'
    "/\uff3cevil.example",  # fullwidth backslash
    "\uff0f\uff0fevil.example",
    "/\u2028/evil.example",  # line separator
    "/\x00/evil.example",
    "evil.example",
    "",
    "/" + "a" * 3000,
]
LOCAL = [
    "/",
    "/collaborations/?page=2",
    "/models/match_success#versions",
    "/matches/?company_id=CO-A&niche=fitness",
    "/outcomes/?q=caf%C3%A9",
    "/collaborations/C-1/rate",
]


@pytest.mark.parametrize("target", BYPASSES)
def test_off_site_targets_are_refused(target):
    assert is_local_path(target) is False


@pytest.mark.parametrize("target", LOCAL)
def test_paths_on_this_site_are_kept(target):
    assert is_local_path(target) is True


@pytest.mark.parametrize("target", BYPASSES[:20])
def test_login_never_redirects_off_site(client, world, target):
    response = client.post(
        "/auth/login",
        query_string={"next": target},
        data={"email": "brand@example.com", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response.location == "/"


@pytest.mark.parametrize("target", ["////evil.example", "/\\evil.example", "https:x"])
def test_a_proposal_never_redirects_off_site(client, auth, world, target):
    auth.login("brand@example.com")
    response = client.post(
        "/matches/propose",
        data={"influencer_id": "INF-B", "company_id": "CO-A", "next": target},
    )
    assert response.status_code == 302
    assert response.location.startswith("/")
    assert not response.location.startswith(("//", "/\\"))
    assert "evil" not in response.location


def test_a_proposal_returns_to_a_local_next(client, auth, world):
    auth.login("brand@example.com")
    response = client.post(
        "/matches/propose",
        data={
            "influencer_id": "INF-B",
            "company_id": "CO-A",
            "next": "/matches/?company_id=CO-A",
        },
    )
    assert response.location == "/matches/?company_id=CO-A"
