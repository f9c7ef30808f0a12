"""Imported collaborations get an 'import' row in their status history."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import sqlalchemy as sa
from conftest import PROJECT_ROOT

from webapp.extensions import db
from webapp.marketplace import importer
from webapp.models import Collaboration, StatusChange

SAMPLES = PROJECT_ROOT / "tests" / "data" / "csv"


def edit(path: Path, line: int, **cells: str) -> None:
    """Change cells of the row on file line ``line`` (the header is line 1)."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    rows[line - 2].update(cells)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def import_rows() -> dict[str, list[tuple]]:
    """Return (from_status, status, action) of every history row, by collaboration."""
    rows = db.session.execute(
        sa.select(
            Collaboration.external_id,
            StatusChange.from_status,
            StatusChange.status,
            StatusChange.action,
            StatusChange.actor_id,
        )
        .join(StatusChange.collaboration)
        .order_by(StatusChange.id)
    ).all()
    found: dict[str, list[tuple]] = {}
    for external_id, *rest in rows:
        found.setdefault(external_id, []).append(tuple(rest))
    return found


def test_new_and_changed_statuses_are_recorded_once(app, tmp_path):
    paths = {}
    for kind in ("influencers", "companies", "collaborations"):
        paths[kind] = tmp_path / f"{kind}.csv"
        shutil.copy(SAMPLES / f"{kind}.csv", paths[kind])
    report = importer.import_files(paths)
    assert not report.errors
    first = import_rows()
    statuses = {
        external_id: status
        for external_id, status in db.session.execute(
            sa.select(Collaboration.external_id, Collaboration.status)
        )
    }
    assert set(first) == set(statuses)
    for external_id, rows in first.items():
        assert rows == [(None, statuses[external_id], "import", None)]

    # Re-importing the same file changes nothing; a changed status adds one row.
    importer.import_files(paths)
    assert import_rows() == first
    edit(paths["collaborations"], 3, status="cancelled", completed_on="")
    importer.import_files(paths)
    after = import_rows()
    assert after["COL-002"] == first["COL-002"] + [
        ("completed", "cancelled", "import", None)
    ]
    assert {k: v for k, v in after.items() if k != "COL-002"} == {
        k: v for k, v in first.items() if k != "COL-002"
    }
