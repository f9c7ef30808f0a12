"""Bulk writes with progress reports for the demo seeder."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import insert, select

from webapp.extensions import db

ProgressCallback = Callable[[float, str], None]
CHUNKS_PER_TABLE, MAX_CHUNK = 10, 5000
# render_nulls keeps None values in every row: otherwise the ORM drops those keys
# and splits a chunk into one INSERT per run of rows with the same keys.
BULK_OPTIONS = {"render_nulls": True}


class Progress:
    """Report monotone progress over weighted stages to a ``progress`` callback."""

    def __init__(self, callback: ProgressCallback | None, weights: dict[str, float]):
        self.callback = callback
        self.total = sum(weights.values()) or 1.0
        self.spans: dict[str, tuple[float, float]] = {}
        start = 0.0
        for stage, weight in weights.items():
            self.spans[stage] = (start, weight)
            start += weight  # the same running sum as ``total``: the end is 1.0
        self.fraction = 0.0

    def report(self, stage: str, done: float = 1.0) -> None:
        """Mark ``done`` (0..1) of ``stage`` as finished and tell the callback."""
        start, weight = self.spans[stage]
        fraction = (start + weight * done) / self.total
        self.fraction = max(self.fraction, min(1.0, fraction))
        if self.callback is not None:
            self.callback(self.fraction, stage)


def insert_rows(
    model: type[db.Model],
    rows: Sequence[dict[str, Any]],
    progress: Progress,
    stage: str,
) -> None:
    """Insert ``rows`` in chunks (executemany), reporting progress after each."""
    size = max(1, min(MAX_CHUNK, -(-len(rows) // CHUNKS_PER_TABLE)))
    statement = insert(model)
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        db.session.execute(statement, chunk, execution_options=BULK_OPTIONS)
        progress.report(stage, (start + len(chunk)) / len(rows))
    if not rows:
        progress.report(stage)


def ids_of(model: type[db.Model], rows: Sequence[dict[str, Any]]) -> list[int]:
    """Return the database ids of freshly inserted ``rows``, matched by external_id.

    ``insert().returning(..., sort_by_parameter_order=True)`` would do this, but
    SQLite has no implicit insert sentinel, so SQLAlchemy falls back to one INSERT
    per row and splices the results quadratically (minutes for 100k rows).
    """
    found = dict(db.session.execute(select(model.external_id, model.id)).all())
    return [found[row["external_id"]] for row in rows]
