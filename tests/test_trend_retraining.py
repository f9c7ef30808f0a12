"""Trend retrains when niche activity is imported, never on ratings."""

from __future__ import annotations

import pytest
from trend_support import activity_rows, seed_activity

from webapp.extensions import db
from webapp.learning import retraining, training_runs
from webapp.models import TrainingRun
from webapp.runtime import jobs


def queued_types() -> list[str]:
    return sorted(
        db.session.scalars(
            db.select(TrainingRun.model_type).where(TrainingRun.trigger == "auto")
        )
    )


def write_activity_csv(path, rows) -> None:
    lines = ["niche,period_start,value"]
    lines += [
        f"{r['niche']},{r['period_start'].isoformat()},{r['value']}" for r in rows
    ]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def trained_once(app, redis):
    """Activity up to 2024-06, and a finished trend run that saw all of it."""
    seed_activity(months=30)
    run = training_runs.start_training("trend")
    run.status = "succeeded"
    run.started_at = run.created_at
    db.session.commit()
    jobs.get_queue(jobs.TRAINING_QUEUE).empty()
    return run


def test_importing_new_activity_starts_a_trend_run(app, runner, trained_once, tmp_path):
    later = [r for r in activity_rows(months=32) if r["period_start"].year == 2024]
    later = [r for r in later if r["period_start"].month > 6]
    assert later
    path = tmp_path / "activity.csv"
    write_activity_csv(path, later)
    result = runner.invoke(args=["import-csv", "--niche-activity", str(path)])
    assert result.exit_code == 0, result.output
    assert queued_types() == ["trend"]  # match_success has no new outcomes


def test_reimporting_known_periods_is_not_new_activity(
    app, runner, trained_once, tmp_path
):
    path = tmp_path / "activity.csv"
    write_activity_csv(path, activity_rows(months=30)[:5])
    result = runner.invoke(args=["import-csv", "--niche-activity", str(path)])
    assert result.exit_code == 0, result.output
    assert queued_types() == []


def test_ratings_do_not_retrain_trend(app, trained_once):
    from webapp.models import NicheActivity

    db.session.add(
        NicheActivity(
            niche="fitness",
            period_start=activity_rows(months=31)[30]["period_start"],
            value=1.0,
        )
    )
    db.session.commit()
    # A rating calls the outcomes check only: trend, though due, is not started.
    retraining.retrain_after_new_outcomes(app)
    assert "trend" not in queued_types()
    assert retraining.due_types(app, "activity") == ["trend"]
    # The scheduler checks every policy.
    retraining.retrain_if_due(app)
    assert queued_types() == ["trend"]


def test_a_type_without_new_activity_is_not_due(app, trained_once):
    assert retraining.new_items_since_last_run("trend", "activity") == 0
    assert "trend" not in retraining.due_types(app)
