"""Live monitoring on a seeded world: the point-in-time join, figures, page and API."""

from __future__ import annotations

import numpy as np
import pytest
from api_support import issue_token
from monitoring_support import labelled_collaborations, serve_before
from sklearn.metrics import brier_score_loss, roc_auc_score
from sqlalchemy import select
from training_helpers import seed_small_world, train_version

from webapp.extensions import db
from webapp.models import PredictionLog
from webapp.monitoring import joins, outcomes, report
from webapp.monitoring.reference import REFERENCE_KEY


@pytest.fixture
def served(app):
    """A trained match_success version, 60 predictions before their labels, 20 after."""
    seed_small_world()
    version = train_version()
    items = labelled_collaborations(80)
    before = serve_before(items[:60])
    after = serve_before(items[60:], hours_before=-2)
    return version, items, before, after


def test_live_figures_agree_with_sklearn_on_the_joined_rows(app, served):
    version, items, before, after = served
    assert version.metrics[REFERENCE_KEY]["log_followers"]["kind"] == "numeric"
    figures = report.compute(report.plugin_of("match_success"))
    entry = next(e for e in figures["versions"] if e["key"] == version.id)
    # Independently: each labelled collaboration of a served pair with the latest
    # prediction of that pair made strictly before its label became known.
    logs = db.session.execute(
        select(
            PredictionLog.influencer_id,
            PredictionLog.company_id,
            PredictionLog.score,
            PredictionLog.created_at,
        ).where(PredictionLog.version_id == version.id)
    ).all()
    realised = outcomes.realised("success", app.config)
    y, p = [], []
    for inf, co, known, label in zip(
        realised.influencer,
        realised.company,
        realised.known_at,
        realised.label,
        strict=True,
    ):
        earlier = [
            (row.created_at, row.score)
            for row in logs
            if row.influencer_id == inf
            and row.company_id == co
            and np.datetime64(row.created_at, "s") < known
        ]
        if earlier:
            y.append(int(label))
            p.append(max(earlier)[1])
    assert entry["overall"]["pairs"] == len(y) >= 60
    assert entry["overall"]["roc_auc"] == pytest.approx(roc_auc_score(y, p))
    assert entry["overall"]["brier"] == pytest.approx(brier_score_loss(y, p))
    assert entry["overall"]["success_rate"] == pytest.approx(np.mean(y))
    assert entry["predictions"] == 80
    assert entry["drift"] and entry["drift_note"] is None
    assert set(entry["drift"]) <= set(version.feature_names)


def test_an_outcome_rated_before_the_prediction_does_not_count(app):
    seed_small_world()
    train_version()
    realised = outcomes.realised("success", app.config)
    pairs = list(zip(realised.influencer, realised.company, strict=True))
    alone = [k for k, pair in enumerate(pairs) if pairs.count(pair) == 1]
    items = [
        item
        for item in labelled_collaborations(len(realised))
        if item[0].id in {int(realised.collaboration[k]) for k in alone}
    ][:2]
    (after, _, _), (before, _, _) = items
    serve_before(items[:1], hours_before=-0.01)  # served 36 s after the rating
    serve_before(items[1:], hours_before=0.01)  # served 36 s before it
    joined = joins.join(
        outcomes.realised("success", app.config), joins.pair_logs("match_success")
    )
    assert set(joined["collaboration_id"]) == {before.id}
    assert (joined["created_at"] < joined["known_at"]).all()


def test_empty_states_before_anything_is_served(app, client, auth, make_user):
    make_user("admin@example.com", role="admin")
    auth.login("admin@example.com")
    for name in ("match_success", "roi", "risk", "trend"):
        page = client.get(f"/monitoring/{name}")
        assert page.status_code == 200, name
        assert b"No alerts" in page.data
        assert b"Nothing to chart yet" in page.data
    figures = report.compute(report.plugin_of("match_success"))
    assert figures["versions"] == [] and figures["alerts"] == []


def test_version_served_without_outcomes_says_so(app, client, auth, make_user):
    seed_small_world()
    train_version()
    items = labelled_collaborations(5)
    serve_before(items, hours_before=-1)  # every label was known before
    make_user("admin@example.com", role="admin")
    auth.login("admin@example.com")
    page = client.get("/monitoring/match_success")
    assert b"no outcomes rated yet since this version served" in page.data


def test_page_for_admins_only_and_linked_from_the_navigation(app, client, auth, world):
    assert client.get("/monitoring/match_success").status_code == 302
    auth.login("brand@example.com")
    assert client.get("/monitoring/match_success").status_code == 403
    assert client.get("/monitoring/").status_code == 403
    auth.logout()
    auth.login("admin@example.com")
    home = client.get("/monitoring/match_success")
    assert home.status_code == 200 and b'href="/monitoring/"' in home.data
    assert client.get("/monitoring/").status_code == 302
    assert client.get("/monitoring/nope").status_code == 404


def test_api_answers_the_same_figures_and_4xx_on_unknown_types(app, client, world):
    admin = {"Authorization": f"Bearer {issue_token(world['admin'])}"}
    brand = {"Authorization": f"Bearer {issue_token(world['brand'])}"}
    answer = client.get("/api/v1/monitoring/match_success", headers=admin)
    assert answer.status_code == 200
    assert answer.json["model_type"] == "match_success"
    assert len(answer.json["windows"]) == app.config["MONITORING_WINDOWS"]
    missing = client.get("/api/v1/monitoring/nope", headers=admin)
    assert missing.status_code == 404 and "match_success" in missing.json["details"]
    assert client.get("/api/v1/monitoring/roi", headers=brand).status_code == 403
    assert client.get("/api/v1/monitoring/roi").status_code == 401
