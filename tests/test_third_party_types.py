"""A third-party regression type and series type work through entry points alone.

The package below is installed the way another distribution would be: a module
plus a dist-info with entry points in ``matchloop.model_types`` and
``matchloop.targets`` (the regression type brings its own training target).
Nothing in ``webapp/`` knows either name; both train, serve through the API
(checked against the OpenAPI document, which lists their routes), are logged
with their intervals and forecasts, and appear on the model pages.
"""

from __future__ import annotations

import sys
import textwrap

import pytest
from api_support import ApiClient
from conftest import PASSWORD
from trend_support import seed_activity

from webapp import create_app
from webapp.extensions import db
from webapp.models import ApiToken, ModelVersion, PredictionLog, TrainingRun
from webapp.serving.state import serving_state
from webapp.views.api.openapi import document

PACKAGE = '''
"""ACME's Matchloop extras: spend regression and a last-value series forecaster."""

import numpy as np
from sqlalchemy import select

from webapp.model_types import (
    Forecast, ForecastPoint, Interval, ModelType, Output, Predictions, Subject,
    Task, TrainingData, TrainResult, RetrainPolicy,
)

LEVEL = 0.8


def spend_data(config):
    """Target ``acme_spend``: log budget of each collaboration, point-in-time features."""
    from webapp.extensions import db
    from webapp.learning import features
    from webapp.learning.training_data import pair_features_at_proposal
    from webapp.models import Collaboration

    rows = db.session.execute(
        select(
            Collaboration.id, Collaboration.influencer_id, Collaboration.company_id,
            Collaboration.proposed_on, Collaboration.budget,
            Collaboration.match_snapshot,
        ).order_by(Collaboration.proposed_on, Collaboration.id)
    ).all()
    return TrainingData(
        X=pair_features_at_proposal(rows, int(config["SUCCESS_MIN_RATING"])),
        y=np.log1p(np.array([r.budget for r in rows], dtype=float)),
        feature_names=list(features.FEATURE_NAMES),
        times=np.array([r.proposed_on for r in rows], dtype="datetime64[D]"),
        target="acme_spend",
    )


class SpendArtifact:
    def __init__(self, coef, intercept, half_width, feature_names):
        self.coef, self.intercept = coef, intercept
        self.half_width, self.feature_names = half_width, feature_names


class SpendModel(ModelType):
    name = "acme_spend"
    title = "ACME campaign spend"
    description = "Log budget a pair is likely to agree on."
    subject = Subject.PAIR
    task = Task.INTERVAL_REGRESSION
    target = "acme_spend"
    primary_metric = "mae"
    higher_is_better = False
    summary_metrics = ("mae", "coverage")
    outputs = frozenset({Output.SCORE, Output.INTERVAL})
    score_key = "expected_log_spend"
    score_label = "expected log spend"
    retraining = RetrainPolicy(on="manual")

    def fit(self, data, params, progress):
        cut = int(len(data.y) * 0.7)
        X, y = data.X, data.y
        def solve(rows, labels):
            design = np.hstack([rows, np.ones((len(rows), 1))])
            beta = np.linalg.lstsq(design, labels, rcond=None)[0]
            return beta[:-1], beta[-1]
        coef, icpt = solve(X[:cut], y[:cut])
        residual = np.abs(y[cut:] - (X[cut:] @ coef + icpt))
        half = float(np.quantile(residual, LEVEL))
        progress(0.8, "refitting on all rows")
        coef_all, icpt_all = solve(X, y)
        return TrainResult(
            artifact=SpendArtifact(coef_all, icpt_all, half, list(data.feature_names)),
            metrics={"mae": float(residual.mean()),
                     "coverage": float(np.mean(residual <= half))},
            algorithm="least_squares",
        )

    def predict(self, artifact, rows):
        score = rows @ artifact.coef + artifact.intercept
        return Predictions(
            score=score,
            interval=Interval(score - artifact.half_width, score + artifact.half_width,
                              LEVEL),
        )

    def fallback(self, rows):
        score = np.full(len(rows), 8.0)
        return Predictions(score=score, interval=Interval(score - 2, score + 2, LEVEL))


class PulseModel(ModelType):
    name = "acme_pulse"
    title = "ACME niche pulse"
    subject = Subject.NICHE_SERIES
    task = Task.FORECAST
    target = "activity"
    primary_metric = "mae"
    higher_is_better = False
    outputs = frozenset({Output.FORECAST})
    retraining = RetrainPolicy(on="manual")

    def fit(self, data, params, progress):
        errors = [abs(s.values[-1] - s.values[-2]) for s in data.series
                  if len(s.values) > 1]
        return TrainResult(
            artifact={"spread": float(np.mean(errors))},
            metrics={"mae": float(np.mean(errors))},
            algorithm="last_value",
        )

    def _forecast(self, data, horizon, spread, note=None):
        out = []
        for s in data.series:
            start = s.periods[-1].astype("datetime64[D]")
            step = s.periods[-1] - s.periods[-2]
            value = float(s.values[-1])
            points = [
                ForecastPoint((start + step * (k + 1)).item(), value,
                              value - spread, value + spread)
                for k in range(horizon)
            ]
            out.append(Forecast(s.key, "last_value", 0.8, points, note=note))
        return out

    def forecast(self, artifact, data, horizon):
        return self._forecast(data, horizon, artifact["spread"])

    def fallback_forecast(self, data, horizon):
        return self._forecast(data, horizon, 0.0, note="no model yet")
'''


@pytest.fixture
def acme_package(tmp_path, monkeypatch):
    """Install ACME's package: a module plus a dist-info declaring both groups."""
    (tmp_path / "acme_extras.py").write_text(textwrap.dedent(PACKAGE))
    dist = tmp_path / "acme_extras-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: acme-extras\nVersion: 1.0\n"
    )
    (dist / "entry_points.txt").write_text(
        "[matchloop.model_types]\n"
        "acme_spend = acme_extras:SpendModel\n"
        "acme_pulse = acme_extras:PulseModel\n"
        "[matchloop.targets]\n"
        "acme_spend = acme_extras:spend_data\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop("acme_extras", None)


@pytest.fixture
def acme_app(acme_package, app):
    """A fresh app on the test database that sees ACME's entry points."""
    fresh = create_app(
        {
            "ENV": "testing",
            "SECRET_KEY": "x",
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": app.config["REDIS_URL"],
            "MODEL_DIR": app.config["MODEL_DIR"],
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "MIN_TRAINING_SAMPLES": 3,
            "PREDICTION_LOG_FLUSH": "sync",
        }
    )
    with fresh.app_context():
        yield fresh


def train(model_type: str) -> ModelVersion:
    """Train ``model_type`` in-process as the worker would; return its version."""
    from workers.training import train_model

    run = TrainingRun(model_type=model_type, params={})
    db.session.add(run)
    db.session.commit()
    version_id = train_model(run.id)
    db.session.refresh(run)
    assert run.status == "succeeded", run.error
    return db.session.get(ModelVersion, version_id)


def test_regression_and_series_types_train_serve_log_and_show(
    acme_app, world, make_user
):
    registry = acme_app.extensions["matchloop.model_types"]
    assert {"acme_spend", "acme_pulse"} <= set(registry.names())
    spec = document(acme_app)
    assert "/predict/acme_spend" in spec["paths"]
    assert "/forecasts/acme_pulse" in spec["paths"]
    assert (
        "expected_log_spend"
        in (spec["components"]["schemas"]["AcmeSpendPrediction"]["properties"])
    )

    admin = make_user("ops@example.com", role="admin")
    _, token = ApiToken.issue(admin, "test")
    db.session.commit()
    api = ApiClient(acme_app.test_client(), spec=spec)
    pair = {"influencer_id": "INF-A", "company_id": "CO-A"}

    # Before training, each type's own fallback answers.
    before = api.call("POST", "/predict/acme_spend", 200, token=token, json=pair)
    assert before.get_json()["fallback"] is True
    assert before.get_json()["expected_log_spend"] == 8.0

    seed_activity(months=24)
    spend = train("acme_spend")
    pulse = train("acme_pulse")
    assert spend.status == pulse.status == "active"
    assert spend.metrics["mae"] > 0 and pulse.metrics["mae"] > 0
    # The worker's first version reaches serving within a second; do not wait.
    serving_state().routing.clear()

    answer = api.call("POST", "/predict/acme_spend", 200, token=token, json=pair)
    body = answer.get_json()
    assert body["fallback"] is False, body["fallback_reason"]
    assert body["model"] == {"type": "acme_spend", "version": spend.version}
    low, high = body["interval"]
    assert low <= body["expected_log_spend"] <= high and body["coverage"] == 0.8

    forecast = api.call(
        "GET", "/forecasts/acme_pulse?horizon=3", 200, token=token
    ).get_json()
    assert forecast["model"] == {"type": "acme_pulse", "version": pulse.version}
    assert {n["niche"] for n in forecast["niches"]} == {"fitness", "gaming", "travel"}
    assert all(len(n["forecast"]) == 3 for n in forecast["niches"])

    logged = db.session.scalars(
        db.select(PredictionLog).where(PredictionLog.version_id == spend.id)
    ).all()
    assert len(logged) == 1 and logged[0].interval_level == 0.8
    assert logged[0].interval_low <= logged[0].score <= logged[0].interval_high
    series = db.session.scalars(
        db.select(PredictionLog).where(PredictionLog.version_id == pulse.id)
    ).all()
    assert len(series) == 3 and all(len(row.forecast) == 3 for row in series)

    client = acme_app.test_client()
    client.post("/auth/login", data={"email": "ops@example.com", "password": PASSWORD})
    listing = client.get("/models/").get_data(as_text=True)
    assert "ACME campaign spend" in listing and "ACME niche pulse" in listing
    detail = client.get("/models/acme_spend")
    assert detail.status_code == 200 and "mae" in detail.get_data(as_text=True).lower()
    assert client.get("/models/acme_pulse").status_code == 200
    page = client.get("/collaborations/C-A-active").get_data(as_text=True)
    assert 'id="declared-acme_spend"' in page and "expected log spend" in page
    ranked = client.get("/matches/influencers?company_id=CO-A").get_data(as_text=True)
    assert (
        "ACME campaign spend" in ranked and 'class="num declared-acme_spend"' in ranked
    )


def test_unknown_or_mismatched_types_are_404(acme_app, world, make_user):
    admin = make_user("ops@example.com", role="admin")
    _, token = ApiToken.issue(admin, "test")
    db.session.commit()
    client = acme_app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    pair = {"influencer_id": "INF-A", "company_id": "CO-A"}
    for url, method in (
        ("/api/v1/predict/nope", "POST"),
        ("/api/v1/predict/acme_pulse", "POST"),
        ("/api/v1/forecasts/acme_spend", "GET"),
        ("/api/v1/forecasts/%ED%A0%80", "GET"),
    ):
        response = client.open(url, method=method, headers=headers, json=pair)
        assert response.status_code == 404, url
        assert response.get_json()["error"] == "not_found"
