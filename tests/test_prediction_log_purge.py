"""The retention purge: expired prediction-log rows go in small transactions, oldest first."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from webapp.core.timeutil import utcnow
from webapp.extensions import db
from webapp.models import PredictionLog
from webapp.serving import prediction_log
from workers.scheduled import purge_prediction_logs


def add_rows(days_old: list[float]) -> None:
    """Store one log row per age in days (through the log's own writer)."""
    rows = []
    for age in days_old:
        row = prediction_log.entry("match_success", None, "CO-A", "api", score=0.5)
        row["created_at"] = utcnow() - timedelta(days=age)
        rows.append(row)
    prediction_log.write(rows)


def ages() -> list[int]:
    now = utcnow()
    db.session.rollback()
    return sorted(
        round((now - row.created_at) / timedelta(days=1))
        for row in db.session.scalars(sa.select(PredictionLog))
    )


def test_the_purge_deletes_expired_rows_in_batches_that_let_writers_in(app):
    app.config.update(PREDICTION_LOG_RETENTION_DAYS=30, PREDICTION_LOG_PURGE_BATCH=5)
    add_rows([31 + k for k in range(12)] + [29, 1, 0])
    deleted_per_statement: list[int] = []
    written_between = []

    def count_deletes(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("DELETE"):
            deleted_per_statement.append(cursor.rowcount)

    def write_between_batches(session):
        # Another process inserts while the purge runs: each batch has released
        # its locks (on SQLite, the whole database) before the next begins.
        if deleted_per_statement and not written_between:
            with db.engine.connect() as other:
                other.execute(
                    sa.insert(PredictionLog),
                    [
                        prediction_log.entry(
                            "match_success", None, "CO-B", "api", score=0.4
                        )
                    ],
                )
                other.commit()
            written_between.append(True)

    sa.event.listen(db.engine, "after_cursor_execute", count_deletes)
    sa.event.listen(db.session, "after_commit", write_between_batches)
    try:
        assert purge_prediction_logs() == 12
    finally:
        sa.event.remove(db.engine, "after_cursor_execute", count_deletes)
        sa.event.remove(db.session, "after_commit", write_between_batches)
    assert deleted_per_statement == [5, 5, 2]
    assert written_between == [True]
    assert ages() == [0, 0, 1, 29]


def test_the_purge_takes_the_oldest_rows_first_and_stops_at_the_cutoff(app):
    app.config.update(PREDICTION_LOG_RETENTION_DAYS=30, PREDICTION_LOG_PURGE_BATCH=2)
    add_rows([40, 35, 50, 31, 10])
    after_first_batch = []

    def look(session):
        if not after_first_batch:
            with db.engine.connect() as other:
                after_first_batch.append(
                    other.scalar(sa.select(sa.func.count()).select_from(PredictionLog))
                )
                oldest = other.scalar(sa.select(sa.func.min(PredictionLog.created_at)))
                after_first_batch.append(round((utcnow() - oldest) / timedelta(days=1)))

    sa.event.listen(db.session, "after_commit", look)
    try:
        assert purge_prediction_logs() == 4
    finally:
        sa.event.remove(db.session, "after_commit", look)
    # The first batch took the 50- and 40-day-old rows.
    assert after_first_batch == [3, 35]
    assert ages() == [10]
    assert purge_prediction_logs() == 0
