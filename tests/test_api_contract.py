"""The OpenAPI document: valid, served, true to the routes, every response exercised.

``CASES`` holds one request per documented (method, path, status). Each case runs
through ``ApiClient.call``, which asserts the status and validates the body
against the document, and a test checks that no documented response lacks a case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from api_support import (
    PREFIX,
    ApiClient,
    check_response,
    database_down,
    issue_token,
    rate_limited,
)
from flask import jsonify
from openapi_spec_validator import validate

from webapp.extensions import db
from webapp.models import TrainingRun
from webapp.registry.plugins import installed_types
from webapp.views.api import declared
from webapp.views.api.openapi import document

PAIR = {"influencer_id": "INF-A", "company_id": "CO-A"}
OTHERS_PAIR = {"influencer_id": "INF-B", "company_id": "CO-B"}
HUGE = b'{"pad": "' + b"x" * (2 * 1024 * 1024) + b'"}'


@dataclass
class Ctx:
    """What a case needs: the checked client, tokens by role, the app."""

    api: ApiClient
    tokens: dict[str, str]
    app: object


# (method, template) -> an admin's request that succeeds: (url, keyword arguments)
EXAMPLES: dict[tuple[str, str], tuple[str, dict]] = {
    ("post", "/predict/match"): ("/predict/match", {"json": PAIR}),
    ("post", "/predict/roi"): ("/predict/roi", {"json": PAIR}),
    ("post", "/predict/risk"): ("/predict/risk", {"json": PAIR}),
    ("post", "/predict/match/batch"): (
        "/predict/match/batch",
        {"json": {"pairs": [PAIR]}},
    ),
    ("get", "/recommendations"): ("/recommendations?company_id=CO-A", {}),
    ("post", "/train"): ("/train", {"json": {"type": "match_success"}}),
    ("get", "/trends"): ("/trends?horizon=4", {}),
    ("get", "/forecasts/trend"): ("/forecasts/trend?horizon=3", {}),
    ("get", "/runs/{run_id}"): ("/runs/1", {}),
    ("get", "/models"): ("/models", {}),
    ("get", "/models/{model_type}"): ("/models/match_success", {}),
    ("get", "/monitoring/{model_type}"): ("/monitoring/match_success", {}),
    ("get", "/health"): ("/health", {}),
    ("get", "/openapi.json"): ("/openapi.json", {}),
    ("get", "/collaborations/{external_id}"): ("/collaborations/C-A-active", {}),
    # The actions' examples are well-formed; admins may only cancel (see CASES).
    **{
        ("post", f"/collaborations/{{external_id}}/{action}"): (
            f"/collaborations/C-A-active/{action}",
            {"json": {"reason": "Dispute"} if action == "cancel" else {}},
        )
        for action in ("accept", "decline", "withdraw", "start", "complete", "cancel")
    },
}
EXP = "/experiments/{key}"
EXPERIMENT_BODY = {
    "key": "exp-a",
    "name": "Experiment A",
    "model_type": "match_success",
    "unit": "company",
    "metric": "acceptance_rate",
    "baseline": 0.3,
    "variants": [
        {"key": "control", "weight": 0.5, "model_version_id": None},
        {"key": "treatment", "weight": 0.5},
    ],
}
EXAMPLES |= {
    ("get", "/experiments"): ("/experiments?page=1", {}),
    ("post", "/experiments"): ("/experiments", {"json": EXPERIMENT_BODY}),
    ("get", EXP): ("/experiments/exp-a", {}),
    ("patch", EXP): ("/experiments/exp-a", {"json": {"coverage": 0.5}}),
    ("get", f"{EXP}/results"): ("/experiments/exp-a/results", {}),
    ("post", f"{EXP}/start"): ("/experiments/exp-a/start", {}),
    ("post", f"{EXP}/stop"): ("/experiments/exp-a/stop", {}),
    ("post", f"{EXP}/conclude"): ("/experiments/exp-a/conclude", {"json": {}}),
    ("post", f"{EXP}/assign"): (
        "/experiments/exp-a/assign",
        {"json": {"unit_id": "CO-A"}},
    ),
    ("post", f"{EXP}/events"): (
        "/experiments/exp-a/events",
        {"json": {"unit_id": "CO-A", "type": "exposure"}},
    ),
}
ADMIN_ONLY = {
    ("get", "/experiments"),
    ("post", "/experiments"),
    ("get", EXP),
    ("patch", EXP),
    ("get", f"{EXP}/results"),
    ("post", f"{EXP}/start"),
    ("post", f"{EXP}/stop"),
    ("post", f"{EXP}/conclude"),
    ("post", "/train"),
    ("get", "/runs/{run_id}"),
    ("get", "/models"),
    ("get", "/models/{model_type}"),
    ("get", "/monitoring/{model_type}"),
}
PUBLIC = {("get", "/openapi.json")}


def example(ctx: Ctx, key, status: int, token_role: str | None = "admin", **extra):
    """Send the example request of ``key`` as ``token_role`` and expect ``status``."""
    url, kwargs = EXAMPLES[key]
    token = ctx.tokens[token_role] if token_role else None
    return ctx.api.call(key[0].upper(), url, status, token=token, **kwargs | extra)


def body(ctx, method, url, status, payload, role="admin", **kwargs):
    """Send a JSON (or raw) body and expect ``status``."""
    if isinstance(payload, bytes):
        kwargs |= {"data": payload, "content_type": "application/json"}
    else:
        kwargs["json"] = payload
    return ctx.api.call(method, url, status, token=ctx.tokens[role], **kwargs)


def too_many(ctx: Ctx, key) -> None:
    """Exhaust a one-call limit, then expect 429."""
    with rate_limited(ctx.app) as limited:
        client = limited.test_client()
        api = ApiClient(client, spec=ctx.api.spec)
        url, kwargs = EXAMPLES[key]
        auth = {} if key in PUBLIC else {"token": ctx.tokens["admin"]}
        headers = {"Authorization": f"Bearer {auth['token']}"} if auth else {}
        client.open(PREFIX + url, method=key[0].upper(), headers=headers, **kwargs)
        response = api.call(key[0].upper(), url, 429, **auth, **kwargs)
        assert response.get_json()["error"] == "rate_limited"


def unavailable(ctx: Ctx, key) -> None:
    """Expect 503 when the database cannot be reached."""
    with database_down(ctx.app) as broken:
        api = ApiClient(broken.test_client(), spec=ctx.api.spec)
        url, kwargs = EXAMPLES[key]
        response = api.call(key[0].upper(), url, 503, token="ml_anything", **kwargs)
        assert response.get_json()["error"] == "database_unavailable"


def conflict(ctx: Ctx) -> None:
    """Start one run, then a second of the same type."""
    body(ctx, "POST", "/train", 202, {"type": "match_success"})
    response = body(ctx, "POST", "/train", 409, {"type": "match_success"})
    assert response.get_json()["error"] == "training_busy"


def a_run(ctx: Ctx) -> None:
    """Show a run that exists."""
    run = TrainingRun(model_type="match_success")
    db.session.add(run)
    db.session.commit()
    ctx.api.call("GET", f"/runs/{run.id}", 200, token=ctx.tokens["admin"])


Case = Callable[[Ctx], object]
PREDICT = "/predict/match"
BATCH = "/predict/match/batch"
ROI = "/predict/roi"
RISK = "/predict/risk"
CASES: dict[tuple[str, str, int], Case] = {
    ("post", PREDICT, 200): lambda c: body(c, "POST", PREDICT, 200, PAIR),
    ("post", PREDICT, 400): lambda c: body(c, "POST", PREDICT, 400, b"{"),
    ("post", PREDICT, 403): lambda c: body(
        c, "POST", PREDICT, 403, OTHERS_PAIR, "brand"
    ),
    ("post", PREDICT, 404): lambda c: body(
        c, "POST", PREDICT, 404, {**PAIR, "company_id": "CO-X"}
    ),
    ("post", PREDICT, 413): lambda c: body(c, "POST", PREDICT, 413, HUGE),
    ("post", PREDICT, 422): lambda c: body(
        c, "POST", PREDICT, 422, {"company_id": "C"}
    ),
    ("post", ROI, 200): lambda c: body(c, "POST", ROI, 200, PAIR),
    ("post", ROI, 400): lambda c: body(c, "POST", ROI, 400, b'{"company_id": '),
    ("post", ROI, 403): lambda c: body(c, "POST", ROI, 403, OTHERS_PAIR, "brand"),
    ("post", ROI, 404): lambda c: body(
        c, "POST", ROI, 404, {**PAIR, "influencer_id": "INF-X"}
    ),
    ("post", ROI, 413): lambda c: body(c, "POST", ROI, 413, HUGE),
    ("post", ROI, 422): lambda c: body(c, "POST", ROI, 422, {**PAIR, "budget": -1}),
    ("post", RISK, 200): lambda c: body(c, "POST", RISK, 200, PAIR, "brand"),
    ("post", RISK, 400): lambda c: body(c, "POST", RISK, 400, b"[NaN"),
    ("post", RISK, 403): lambda c: body(c, "POST", RISK, 403, OTHERS_PAIR, "brand"),
    ("post", RISK, 404): lambda c: body(
        c, "POST", RISK, 404, {**PAIR, "company_id": "CO-X"}
    ),
    ("post", RISK, 413): lambda c: body(c, "POST", RISK, 413, HUGE),
    ("post", RISK, 422): lambda c: body(
        c, "POST", RISK, 422, {**PAIR, "budget": "1e400"}
    ),
    ("post", BATCH, 200): lambda c: body(c, "POST", BATCH, 200, {"pairs": [PAIR]}),
    ("post", BATCH, 400): lambda c: body(c, "POST", BATCH, 400, b"[1, NaN]"),
    ("post", BATCH, 403): lambda c: body(
        c, "POST", BATCH, 403, {"pairs": [PAIR, OTHERS_PAIR]}, "brand"
    ),
    ("post", BATCH, 413): lambda c: body(c, "POST", BATCH, 413, HUGE),
    ("post", BATCH, 422): lambda c: body(c, "POST", BATCH, 422, {"pairs": []}),
    ("get", "/recommendations", 200): lambda c: example(
        c, ("get", "/recommendations"), 200
    ),
    ("get", "/recommendations", 403): lambda c: c.api.call(
        "GET", "/recommendations?company_id=CO-B", 403, token=c.tokens["brand"]
    ),
    ("get", "/recommendations", 404): lambda c: c.api.call(
        "GET", "/recommendations?influencer_id=INF-X", 404, token=c.tokens["admin"]
    ),
    ("get", "/recommendations", 422): lambda c: c.api.call(
        "GET", "/recommendations?company_id=CO-A&limit=0", 422, token=c.tokens["admin"]
    ),
    ("get", "/trends", 200): lambda c: example(c, ("get", "/trends"), 200),
    ("get", "/trends", 400): lambda c: c.api.call(
        "GET", "/trends?horizon=0", 400, token=c.tokens["creator"]
    ),
    ("get", "/forecasts/trend", 200): lambda c: example(
        c, ("get", "/forecasts/trend"), 200, token_role="creator"
    ),
    ("get", "/forecasts/trend", 400): lambda c: c.api.call(
        "GET", "/forecasts/trend?horizon=53", 400, token=c.tokens["creator"]
    ),
    ("post", "/train", 202): lambda c: example(c, ("post", "/train"), 202),
    ("post", "/train", 400): lambda c: body(c, "POST", "/train", 400, b'"match"'),
    ("post", "/train", 404): lambda c: body(c, "POST", "/train", 404, {"type": "nope"}),
    ("post", "/train", 409): conflict,
    ("post", "/train", 413): lambda c: body(c, "POST", "/train", 413, HUGE),
    ("post", "/train", 422): lambda c: body(c, "POST", "/train", 422, {"type": 3}),
    ("get", "/runs/{run_id}", 200): a_run,
    ("get", "/runs/{run_id}", 404): lambda c: c.api.call(
        "GET", "/runs/999999", 404, token=c.tokens["admin"]
    ),
    ("get", "/models", 200): lambda c: example(c, ("get", "/models"), 200),
    ("get", "/models/{model_type}", 200): lambda c: example(
        c, ("get", "/models/{model_type}"), 200
    ),
    ("get", "/models/{model_type}", 404): lambda c: c.api.call(
        "GET", "/models/nope", 404, token=c.tokens["admin"]
    ),
    ("get", "/monitoring/{model_type}", 200): lambda c: example(
        c, ("get", "/monitoring/{model_type}"), 200
    ),
    ("get", "/monitoring/{model_type}", 404): lambda c: c.api.call(
        "GET", "/monitoring/nope", 404, token=c.tokens["admin"]
    ),
    ("get", "/health", 200): lambda c: example(c, ("get", "/health"), 200),
    ("get", "/openapi.json", 200): lambda c: example(
        c, ("get", "/openapi.json"), 200, token_role=None
    ),
}
COLLAB = "/collaborations/{external_id}"


def an_experiment(ctx: Ctx, status: str = "draft") -> str:
    """Create experiment exp-a through the API and move it to ``status``; return its url."""
    body(ctx, "POST", "/experiments", 201, EXPERIMENT_BODY)
    url = "/experiments/exp-a"
    moves = {"draft": [], "running": ["start"], "stopped": ["start", "stop"]}
    for action in moves[status]:
        ctx.api.call("POST", f"{url}/{action}", 200, token=ctx.tokens["admin"])
    return url


def experiment_case(
    status: str, method: str, tail: str, payload, state="draft", role="admin"
):
    """Return a case: create exp-a in ``state``, then send ``payload`` to its ``tail``."""

    def case(ctx):
        url = an_experiment(ctx, state) + tail
        if payload is None:
            return ctx.api.call(method, url, status, token=ctx.tokens[role])
        return body(ctx, method, url, status, payload, role)

    return case


def missing(method: str, tail: str, payload=None):
    """Return a case: an unknown experiment key answers 404."""

    def case(ctx):
        url = "/experiments/nope" + tail
        if payload is None:
            return ctx.api.call(method, url, 404, token=ctx.tokens["admin"])
        return body(ctx, method, url, 404, payload)

    return case


def assigned_event(ctx: Ctx):
    """Assign CO-A in a running experiment, then record its exposure (200)."""
    url = an_experiment(ctx, "running")
    body(ctx, "POST", f"{url}/assign", 200, {"unit_id": "CO-A"})
    response = body(
        ctx,
        "POST",
        f"{url}/events",
        200,
        {"unit_id": "CO-A", "type": "exposure"},
        "brand",
    )
    assert response.get_json()["recorded"] is True


ASSIGN = {"unit_id": "CO-A"}
EVENT = {"unit_id": "CO-A", "type": "acceptance"}
CASES |= {
    ("get", "/experiments", 200): experiment_case(200, "GET", "", None),
    ("get", "/experiments", 422): lambda c: c.api.call(
        "GET", "/experiments?page=0", 422, token=c.tokens["admin"]
    ),
    ("post", "/experiments", 201): lambda c: body(
        c, "POST", "/experiments", 201, EXPERIMENT_BODY
    ),
    ("post", "/experiments", 400): lambda c: body(c, "POST", "/experiments", 400, b"{"),
    ("post", "/experiments", 413): lambda c: body(c, "POST", "/experiments", 413, HUGE),
    ("post", "/experiments", 422): lambda c: body(
        c,
        "POST",
        "/experiments",
        422,
        {
            **EXPERIMENT_BODY,
            "variants": [{"key": "aa", "weight": 0.5}, {"key": "bb", "weight": 0.2}],
        },
    ),
    ("get", EXP, 200): experiment_case(200, "GET", "", None),
    ("get", EXP, 404): missing("GET", ""),
    ("patch", EXP, 200): experiment_case(
        200, "PATCH", "", {"coverage": 0.5}, "running"
    ),
    ("patch", EXP, 400): experiment_case(400, "PATCH", "", b"[", "running"),
    ("patch", EXP, 404): missing("PATCH", "", {"coverage": 0.5}),
    ("patch", EXP, 409): experiment_case(
        409, "PATCH", "", {"coverage": 0.5}, "stopped"
    ),
    ("patch", EXP, 413): experiment_case(413, "PATCH", "", HUGE),
    ("patch", EXP, 422): experiment_case(
        422, "PATCH", "", {"variants": [{"key": "control", "weight": 0.9}]}
    ),
    ("get", f"{EXP}/results", 200): experiment_case(
        200, "GET", "/results", None, "running"
    ),
    ("get", f"{EXP}/results", 404): missing("GET", "/results"),
    ("post", f"{EXP}/start", 200): experiment_case(200, "POST", "/start", None),
    ("post", f"{EXP}/start", 404): missing("POST", "/start"),
    ("post", f"{EXP}/start", 409): experiment_case(
        409, "POST", "/start", None, "running"
    ),
    ("post", f"{EXP}/stop", 200): experiment_case(
        200, "POST", "/stop", None, "running"
    ),
    ("post", f"{EXP}/stop", 404): missing("POST", "/stop"),
    ("post", f"{EXP}/stop", 409): experiment_case(409, "POST", "/stop", None),
    ("post", f"{EXP}/conclude", 200): experiment_case(
        200, "POST", "/conclude", {}, "stopped"
    ),
    ("post", f"{EXP}/conclude", 400): experiment_case(
        400, "POST", "/conclude", b"{", "stopped"
    ),
    ("post", f"{EXP}/conclude", 404): missing("POST", "/conclude", {}),
    # Shipping without a winner changes nothing.
    ("post", f"{EXP}/conclude", 409): experiment_case(
        409, "POST", "/conclude", {"ship": True}, "running"
    ),
    ("post", f"{EXP}/conclude", 413): experiment_case(413, "POST", "/conclude", HUGE),
    ("post", f"{EXP}/conclude", 422): experiment_case(
        422, "POST", "/conclude", {"ship": "yes"}, "stopped"
    ),
    ("post", f"{EXP}/assign", 200): experiment_case(
        200, "POST", "/assign", ASSIGN, "running", "creator"
    ),
    ("post", f"{EXP}/assign", 400): experiment_case(400, "POST", "/assign", b"1"),
    ("post", f"{EXP}/assign", 404): missing("POST", "/assign", ASSIGN),
    ("post", f"{EXP}/assign", 413): experiment_case(413, "POST", "/assign", HUGE),
    ("post", f"{EXP}/assign", 422): experiment_case(
        422, "POST", "/assign", {"unit_id": ""}
    ),
    ("post", f"{EXP}/events", 200): assigned_event,
    ("post", f"{EXP}/events", 400): experiment_case(
        400, "POST", "/events", b"{", "running"
    ),
    ("post", f"{EXP}/events", 403): experiment_case(
        403,
        "POST",
        "/events",
        {"unit_id": "CO-B", "type": "exposure"},
        "running",
        "brand",
    ),
    ("post", f"{EXP}/events", 404): missing("POST", "/events", EVENT),
    # CO-A was never assigned.
    ("post", f"{EXP}/events", 409): experiment_case(
        409, "POST", "/events", EVENT, "running"
    ),
    ("post", f"{EXP}/events", 413): experiment_case(413, "POST", "/events", HUGE),
    ("post", f"{EXP}/events", 422): experiment_case(
        422,
        "POST",
        "/events",
        {"unit_id": "CO-A", "type": "rating", "value": 9},
        "running",
    ),
}


def collab(ctx, role, external_id, action, status, payload=None, **kwargs):
    """Take a collaboration action as ``role`` and expect ``status``."""
    url = f"/collaborations/{external_id}/{action}"
    if payload is None:
        return ctx.api.call("POST", url, status, token=ctx.tokens[role], **kwargs)
    return body(ctx, "POST", url, status, payload, role, **kwargs)


def accepted(ctx) -> str:
    """Accept C-A-proposed as the creator (the invited side); return its id."""
    collab(ctx, "creator", "C-A-proposed", "accept", 200)
    return "C-A-proposed"


# For each action: who succeeds where, who is refused (403), a wrong status (409),
# a bad body (422).
ACTION_CASES = {
    "accept": ("creator", "C-A-proposed", "brand", "C-A-active", {"note": 5}),
    "decline": ("creator", "C-A-proposed", "brand", "C-A-completed", {"x": 1}),
    "withdraw": ("brand", "C-A-proposed", "creator", "C-A-active", {"note": "x" * 501}),
    "start": ("brand", accepted, "admin", "C-A-active", {"note": None}),
    "complete": (
        "creator",
        "C-A-active",
        "admin",
        "C-A-proposed",
        {"completed_on": "2999-01-01"},
    ),
    "cancel": ("brand", "C-A-active", None, "C-A-completed", {}),
}


def _succeeds(action, role, where):
    def case(ctx):
        external_id = where(ctx) if callable(where) else where
        payload = {"reason": "Budget cut"} if action == "cancel" else None
        response = collab(ctx, role, external_id, action, 200, payload)
        assert response.get_json()["history"][-1]["action"] == action

    return case


for _action, (_ok, _where, _refused, _wrong, _bad) in ACTION_CASES.items():
    _path = f"{COLLAB}/{_action}"
    _reason = {"reason": "x"} if _action == "cancel" else {}
    CASES[("post", _path, 200)] = _succeeds(_action, _ok, _where)
    CASES[("post", _path, 400)] = lambda c, a=_action: collab(
        c, "brand", "C-A-active", a, 400, b"{"
    )
    CASES[("post", _path, 404)] = lambda c, a=_action, r=_reason: collab(
        c, "brand", "C-B-completed", a, 404, r
    )
    CASES[("post", _path, 409)] = lambda c, a=_action, w=_wrong, r=_reason: collab(
        c, "admin" if a == "cancel" else _refused_or_party(a), w, a, 409, r
    )
    CASES[("post", _path, 413)] = lambda c, a=_action: collab(
        c, "brand", "C-A-active", a, 413, HUGE
    )
    CASES[("post", _path, 422)] = lambda c, a=_action, b=_bad: collab(
        c, "brand" if a != "complete" else "creator", "C-A-active", a, 422, b
    )
    if _refused:
        CASES[("post", _path, 403)] = lambda c, a=_action, r=_refused: collab(
            c, r, "C-A-proposed" if a in ("accept", "decline") else "C-A-active", a, 403
        )
CASES[("get", COLLAB, 200)] = lambda c: c.api.call(
    "GET", "/collaborations/C-A-active", 200, token=c.tokens["creator"]
)
CASES[("get", COLLAB, 404)] = lambda c: c.api.call(
    "GET", "/collaborations/C-B-completed", 404, token=c.tokens["brand"]
)


def _refused_or_party(action: str) -> str:
    """Return a role allowed to take ``action`` (so only the status is wrong)."""
    return {"accept": "creator", "decline": "creator", "withdraw": "brand"}.get(
        action, "brand"
    )


ROLL = "/rollouts/{rollout_id}"
ROLLOUT_BODY = {
    "model_type": "match_success",
    "candidate_version": 2,
    "steps": [10, 100],
}
ROLLOUT_ACTIONS = ("start", "pause", "resume", "advance", "rollback")
EXAMPLES |= {
    ("get", "/rollouts"): ("/rollouts?page=1", {}),
    ("post", "/rollouts"): ("/rollouts", {"json": ROLLOUT_BODY}),
    ("get", ROLL): ("/rollouts/1", {}),
    **{(("post", f"{ROLL}/{a}")): (f"/rollouts/1/{a}", {}) for a in ROLLOUT_ACTIONS},
}
ADMIN_ONLY |= {key for key in EXAMPLES if key[1].startswith("/rollouts")}


def a_rollout(ctx: Ctx, moves: tuple[str, ...] = ()) -> str:
    """Create v1 (active), v2 (candidate) and a rollout of v2, moved by ``moves``."""
    from rollout_support import active_and_candidate

    active_and_candidate()
    created = body(ctx, "POST", "/rollouts", 201, ROLLOUT_BODY)
    url = f"/rollouts/{created.get_json()['id']}"
    for action in moves:
        ctx.api.call("POST", f"{url}/{action}", 200, token=ctx.tokens["admin"])
    return url


def rollout_case(status: int, tail: str = "", moves: tuple[str, ...] = ()):
    """Return a case: a rollout moved by ``moves``, then a POST (or GET) to ``tail``."""

    def case(ctx):
        url = a_rollout(ctx, moves)
        method = "POST" if tail else "GET"
        return ctx.api.call(method, url + tail, status, token=ctx.tokens["admin"])

    return case


def rollout_body(status: int, payload):
    """Return a case: POST /rollouts with ``payload`` (versions exist)."""

    def case(ctx):
        from rollout_support import active_and_candidate

        active_and_candidate()
        return body(ctx, "POST", "/rollouts", status, payload)

    return case


CASES |= {
    ("get", "/rollouts", 200): lambda c: example(c, ("get", "/rollouts"), 200),
    ("get", "/rollouts", 422): lambda c: c.api.call(
        "GET", "/rollouts?page=0", 422, token=c.tokens["admin"]
    ),
    ("post", "/rollouts", 201): rollout_body(201, ROLLOUT_BODY),
    ("post", "/rollouts", 400): rollout_body(400, b"{"),
    ("post", "/rollouts", 413): rollout_body(413, HUGE),
    ("post", "/rollouts", 422): rollout_body(422, {**ROLLOUT_BODY, "steps": [50, 10]}),
    ("get", ROLL, 200): rollout_case(200),
    ("get", ROLL, 404): lambda c: c.api.call(
        "GET", "/rollouts/999", 404, token=c.tokens["admin"]
    ),
}
EXAMPLES[("get", "/audit")] = ("/audit?action=model.promote&page=1", {})
ADMIN_ONLY.add(("get", "/audit"))
CASES |= {
    ("get", "/audit", 200): lambda c: example(c, ("get", "/audit"), 200),
    ("get", "/audit", 400): lambda c: c.api.call(
        "GET", "/audit?actor=%00", 400, token=c.tokens["admin"]
    ),
    ("get", "/audit", 422): lambda c: c.api.call(
        "GET", "/audit?since=2026-02-30", 422, token=c.tokens["admin"]
    ),
}
_BEFORE = {
    "start": ((), ("start",)),
    "pause": (("start",), ()),
    "resume": (("start", "pause"), ("start",)),
    "advance": (("start",), ()),
    "rollback": (("start",), ()),
}
for _action, (_ready, _wrong) in _BEFORE.items():
    _path = f"{ROLL}/{_action}"
    CASES[("post", _path, 200)] = rollout_case(200, f"/{_action}", _ready)
    CASES[("post", _path, 409)] = rollout_case(409, f"/{_action}", _wrong)
    CASES[("post", _path, 404)] = lambda c, a=_action: c.api.call(
        "POST", f"/rollouts/999/{a}", 404, token=c.tokens["admin"]
    )

SHADOWS = "/models/{model_type}/shadow"
SHADOW = "/models/{model_type}/versions/{version}/shadow"
EXAMPLES |= {
    ("get", SHADOWS): ("/models/match_success/shadow", {}),
    ("post", f"{SHADOW}/start"): ("/models/match_success/versions/2/shadow/start", {}),
    ("post", f"{SHADOW}/stop"): ("/models/match_success/versions/2/shadow/stop", {}),
}
ADMIN_ONLY |= {key for key in EXAMPLES if "shadow" in key[1]}


def shadow_case(status: int, tail: str, moves: tuple[str, ...] = ()):
    """Return a case: v1 active, v2 candidate, v2's shadow moved by ``moves``, then ``tail``."""

    def case(ctx):
        from rollout_support import active_and_candidate

        active_and_candidate()
        url = "/models/match_success/versions/2/shadow"
        for move in moves:
            ctx.api.call("POST", f"{url}/{move}", 201, token=ctx.tokens["admin"])
        if tail == "list":
            return ctx.api.call(
                "GET", "/models/match_success/shadow", status, token=ctx.tokens["admin"]
            )
        return ctx.api.call("POST", f"{url}/{tail}", status, token=ctx.tokens["admin"])

    return case


CASES |= {
    ("get", SHADOWS, 200): shadow_case(200, "list", ("start",)),
    ("get", SHADOWS, 404): lambda c: c.api.call(
        "GET", "/models/nope/shadow", 404, token=c.tokens["admin"]
    ),
    ("post", f"{SHADOW}/start", 201): shadow_case(201, "start"),
    ("post", f"{SHADOW}/start", 409): shadow_case(409, "start", ("start",)),
    ("post", f"{SHADOW}/start", 404): lambda c: c.api.call(
        "POST",
        "/models/match_success/versions/99/shadow/start",
        404,
        token=c.tokens["admin"],
    ),
    ("post", f"{SHADOW}/stop", 200): shadow_case(200, "stop", ("start",)),
    ("post", f"{SHADOW}/stop", 409): shadow_case(409, "stop"),
    ("post", f"{SHADOW}/stop", 404): lambda c: c.api.call(
        "POST",
        "/models/nope/versions/2/shadow/stop",
        404,
        token=c.tokens["admin"],
    ),
}


for _key in EXAMPLES:
    CASES[(*_key, 429)] = lambda c, k=_key: too_many(c, k)
    if _key in PUBLIC:
        continue
    CASES[(*_key, 401)] = lambda c, k=_key: example(c, k, 401, token_role=None)
    CASES[(*_key, 503)] = lambda c, k=_key: unavailable(c, k)
    if _key in ADMIN_ONLY:
        CASES[(*_key, 403)] = lambda c, k=_key: example(c, k, 403, token_role="brand")


@pytest.fixture
def ctx(app, client, world, redis):
    """A checked client and a token for the admin, the brand member and the creator."""
    tokens = {role: issue_token(world[role]) for role in ("admin", "brand", "creator")}
    return Ctx(ApiClient(client), tokens, app)


def documented_responses(spec) -> set[tuple[str, str, int]]:
    """Return every (method, path template, status) the document describes."""
    return {
        (method, template, int(status))
        for template, item in spec["paths"].items()
        for method, operation in item.items()
        for status in operation["responses"]
    }


def test_document_is_valid_openapi(app):
    validate(document(app))


def test_served_document_is_the_built_one(client, app):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json() == document(app)
    assert document(app)["openapi"].startswith("3.1")


def test_batch_limit_in_the_document_follows_the_config(app):
    app.extensions.pop("matchloop.api.openapi", None)
    app.config["API_MAX_BATCH"] = 7
    pairs = document(app)["components"]["schemas"]["BatchRequest"]["properties"]
    assert pairs["pairs"]["maxItems"] == 7


def declared_routes(app, template: str) -> list[str]:
    """Return the concrete paths a declared route stands for (one per installed type)."""
    types = installed_types(app)
    if template == "/predict/<model_type>":
        return [f"/predict/{t.name}" for t in declared.pair_types(types)]
    if template == "/forecasts/<model_type>":
        return [f"/forecasts/{t.name}" for t in declared.series_types(types)]
    return [template]


def test_every_api_route_is_documented_and_nothing_else(app):
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            for template in declared_routes(app, rule.rule.removeprefix(PREFIX)):
                template = template.replace("<int:run_id>", "{run_id}")
                template = template.replace("<model_type>", "{model_type}")
                template = template.replace("<external_id>", "{external_id}")
                template = template.replace("<key>", "{key}")
                template = template.replace("<int:rollout_id>", "{rollout_id}")
                template = template.replace("<int:version>", "{version}")
                for method in rule.methods - {"HEAD", "OPTIONS"}:
                    routes.add((method.lower(), template))
    documented = {(m, t) for m, t, _ in documented_responses(document(app))}
    assert routes == documented
    assert set(EXAMPLES) == documented


def test_every_documented_response_has_a_case(app):
    assert documented_responses(document(app)) == set(CASES)


@pytest.mark.parametrize("key", sorted(CASES), ids=lambda k: f"{k[0]} {k[1]} {k[2]}")
def test_documented_response(ctx, key):
    CASES[key](ctx)


@pytest.mark.parametrize(
    ("status", "payload"),
    [
        (418, {"error": "teapot", "details": None}),
        (200, {"status": "ok"}),
        (401, {"error": "unauthorized"}),
        (422, {"error": "validation_failed", "details": "not a list"}),
    ],
)
def test_the_checker_rejects_what_the_document_does_not_describe(
    app, client, status, payload
):
    spec = ApiClient(client).spec
    with app.test_request_context():
        response = jsonify(payload)
    response.status_code = status
    with pytest.raises(AssertionError):
        check_response(spec, "GET", "/api/v1/health", response)
