"""Training trend versions: through a real queue, and what the registry keeps."""

from __future__ import annotations

import pytest
from test_training_queue import fetch, run_worker
from trend_support import FAST_TREND, seed_activity, train_trend

from webapp.extensions import db
from webapp.learning import training_data, training_runs
from webapp.models import TrainingRun
from webapp.registry import artifacts


@pytest.mark.queue
def test_the_worker_trains_a_trend_version(app, redis):
    seed_activity()
    run = training_runs.start_training("trend", FAST_TREND)
    assert fetch(run.job_id, redis).args == [run.id]

    run_worker(app)

    db.session.expire_all()
    run = db.session.get(TrainingRun, run.id)
    assert run.status == "succeeded", run.error
    version = run.version
    assert version.status == "active"
    assert version.sample_count == 3 * 36
    assert version.data_start.isoformat() == "2022-01-01"
    assert version.data_end.isoformat() == "2024-12-01"
    metrics = version.metrics
    assert {r["niche"] for r in metrics["niches"]} == {"fitness", "gaming", "travel"}
    assert metrics["mase"] < metrics["mase_naive"]
    assert all(r["method"] != "naive" for r in metrics["niches"])
    assert "statsmodels" in version.library_versions
    artifacts.read_verified(
        app.config["MODEL_DIR"], version.artifact_path, version.sha256
    )


def test_activity_builder_returns_one_series_per_niche(app):
    seed_activity(months=14)
    data = training_data.build("activity", app.config)
    assert [s.key for s in data.series] == ["fitness", "gaming", "travel"]
    assert all(len(s.values) == 14 for s in data.series)
    assert str(data.series[0].periods[0]) == "2022-01-01"


def test_training_without_activity_fails_clearly(app):
    run = TrainingRun(model_type="trend", params=FAST_TREND)
    db.session.add(run)
    db.session.commit()
    from workers.training import train_model

    with pytest.raises(Exception, match="no niche activity"):
        train_model(run.id)
    db.session.expire_all()
    assert db.session.get(TrainingRun, run.id).status == "failed"


def test_the_model_page_draws_the_trend_charts(app, client, auth, world):
    seed_activity()
    version = train_trend()
    auth.login(world["admin"].email)
    page = client.get("/models/trend").get_data(as_text=True)
    assert f"v{version.version}" in page
    assert 'id="chart-mase_by_niche"' in page
    assert "Backtest per niche" in page
    assert "fitness" in page


def test_train_command_queues_trend_with_typed_params(app, redis, runner):
    result = runner.invoke(
        args=["train", "trend", "--param", "horizon=6", "--param", "method=ets"]
    )
    assert result.exit_code == 0, result.output
    run = db.session.scalars(db.select(TrainingRun)).one()
    assert run.model_type == "trend" and run.trigger == "cli"
    assert run.params["horizon"] == 6 and run.params["method"] == "ets"
    assert run.params["origins"] == 3  # the form's default


def test_train_command_refuses_a_bad_trend_param(app, redis, runner):
    result = runner.invoke(args=["train", "trend", "--param", "horizon=99"])
    assert result.exit_code != 0
    assert "horizon" in result.output
    assert db.session.scalars(db.select(TrainingRun)).all() == []


def test_the_train_page_shows_the_trend_form(client, auth, world):
    auth.login(world["admin"].email)
    page = client.get("/runs/new?type=trend").get_data(as_text=True)
    assert "Backtest horizon" in page and "Largest ARIMA p and q" in page


def test_the_registry_api_lists_trend_metrics(app, client, world):
    from api_support import ApiClient, issue_token

    seed_activity(months=30)
    version = train_trend()
    body = (
        ApiClient(client)
        .call("GET", "/models/trend", 200, token=issue_token(world["admin"]))
        .get_json()
    )
    [listed] = body["versions"]
    assert listed["version"] == version.version
    assert set(listed["metrics"]) == {"mase", "mase_naive", "beats_naive_share"}
    assert listed["metrics"]["mase"] < listed["metrics"]["mase_naive"]
