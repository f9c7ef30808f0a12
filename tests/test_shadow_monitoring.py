"""Shadow against serving on the monitoring page and API; shadow rows never served."""

from __future__ import annotations

import numpy as np
import pytest
from api_support import issue_token
from monitoring_support import labelled_collaborations, serve_before
from shadow_support import TYPE, active_and_candidate
from sklearn.metrics import brier_score_loss, roc_auc_score
from sqlalchemy import select
from sqlalchemy.orm import aliased

from webapp.extensions import db
from webapp.models import PredictionLog
from webapp.monitoring import outcomes, report
from webapp.shadow import store
from workers import scheduled


@pytest.fixture
def compared(app):
    """v2 shadows v1 on 50 requests served a day before their labels, 10 after."""
    active, candidate = active_and_candidate()
    store.start(candidate, None)
    items = labelled_collaborations(60)
    serve_before(items[:50])
    serve_before(items[50:], hours_before=-2)
    assert scheduled.score_shadows() == 60
    return active, candidate


def independent_pairs(app):
    """Return (label, shadow score, served score) per collaboration, computed apart."""
    served = aliased(PredictionLog)
    rows = db.session.execute(
        select(
            PredictionLog.influencer_id,
            PredictionLog.company_id,
            served.created_at,
            PredictionLog.score,
            served.score,
        )
        .join(served, served.id == PredictionLog.shadow_of_id)
        .where(PredictionLog.source == "shadow")
    ).all()
    realised = outcomes.realised("success", app.config)
    found = []
    for inf, co, known, label in zip(
        realised.influencer,
        realised.company,
        realised.known_at,
        realised.label,
        strict=True,
    ):
        earlier = [
            (r.created_at, r[3], r[4])
            for r in rows
            if (r.influencer_id, r.company_id) == (inf, co)
            and np.datetime64(r.created_at, "s") < known
        ]
        if earlier:
            _, shadow_score, served_score = max(earlier)
            found.append((int(label), shadow_score, served_score))
    return found


def test_shadow_and_serving_figures_agree_with_sklearn_on_the_same_pairs(app, compared):
    active, candidate = compared
    figures = report.compute(report.plugin_of(TYPE))
    [entry] = figures["shadow"]
    assert (entry["key"], entry["scored"], entry["served_by"]) == (
        candidate.id,
        60,
        [active.id],
    )
    assert entry["label"] == f"{candidate.label} (shadow)"
    assert entry["period"]["running"] and entry["period"]["last_pass_status"] == (
        "succeeded"
    )
    pairs = independent_pairs(app)
    y = [p[0] for p in pairs]
    assert entry["shadow"]["pairs"] == entry["serving"]["pairs"] == len(y) >= 50
    for side, column in (("shadow", 1), ("serving", 2)):
        scores = [p[column] for p in pairs]
        assert entry[side]["roc_auc"] == pytest.approx(roc_auc_score(y, scores))
        assert entry[side]["brier"] == pytest.approx(brier_score_loss(y, scores))
        assert entry[side]["calibration"]
    assert entry["shadow"]["roc_auc"] != entry["serving"]["roc_auc"]


def test_shadow_rows_are_left_out_of_every_served_figure(app, compared):
    active, candidate = compared
    figures = report.compute(report.plugin_of(TYPE))
    by_key = {e["key"]: e for e in figures["versions"]}
    assert by_key[active.id]["predictions"] == 60
    # The candidate served nothing: its shadow scores are not predictions.
    assert by_key.get(candidate.id, {"predictions": 0})["predictions"] == 0
    assert by_key.get(candidate.id, {"overall": None})["overall"] is None
    assert sum(r["predictions"] for r in figures["error_rates"]) == 60


def test_the_page_and_the_api_show_shadow_against_serving(
    app, client, auth, make_user, compared
):
    active, candidate = compared
    admin = make_user("boss@example.com", role="admin")
    auth.login(admin.email)
    page = client.get(f"/monitoring/{TYPE}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="monitoring-shadow"' in html
    assert f'id="shadow-{candidate.id}-shadow"' in html
    assert f'id="shadow-{candidate.id}-serving"' in html
    assert f"{candidate.label} (shadow)" in html
    assert f"shadow-calibration-{candidate.id}" in html

    token = issue_token(admin)
    body = client.get(
        f"/api/v1/monitoring/{TYPE}", headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    assert [e["key"] for e in body["shadow"]] == [candidate.id]
    assert body["shadow"][0]["shadow"]["pairs"] >= 50
