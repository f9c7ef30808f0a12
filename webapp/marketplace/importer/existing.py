"""Load, set-based, the rows already in the database that an import touches."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select

from webapp.extensions import db
from webapp.marketplace.importer.kinds import KINDS
from webapp.marketplace.importer.reading import ParsedFile
from webapp.models import (
    Collaboration,
    Company,
    Influencer,
    NicheActivity,
    Outcome,
    ProfileRevision,
)

# Keys per IN (...) query: well inside SQLite's and PostgreSQL's parameter limits.
CHUNK = 900
# Read the whole table once when the import wants at least this share of its rows.
SCAN_SHARE = 0.25

Row = dict[str, Any]


@dataclass
class Existing:
    """Database rows by import key: external_id, (collaboration, side), (niche, day)."""

    influencers: dict[tuple, Row] = field(default_factory=dict)
    companies: dict[tuple, Row] = field(default_factory=dict)
    collaborations: dict[tuple, Row] = field(default_factory=dict)
    outcomes: dict[tuple, Row] = field(default_factory=dict)
    niche_activity: dict[tuple, Row] = field(default_factory=dict)
    # Start of the newest stored profile revision by kind ("influencers", ...) and id.
    latest_revision: dict[str, dict[int, Any]] = field(default_factory=dict)


def chunks(values: Iterable, size: int = CHUNK) -> Iterator[list]:
    """Yield ``values`` in lists of at most ``size``."""
    batch: list = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def matching(query: Select, column, wanted: set, table) -> Iterator[Row]:
    """Yield the rows of ``query`` whose ``column`` value is in ``wanted``.

    A large import reads the table in one pass (fewer round trips, and no repeated
    join per chunk); a small one asks for its keys a chunk at a time.
    """
    if not wanted:
        return
    if len(wanted) > CHUNK:
        rows_in_table = db.session.scalar(select(func.count()).select_from(table))
        if len(wanted) >= SCAN_SHARE * rows_in_table:
            for row in db.session.execute(query).mappings():
                if row[column.key] in wanted:
                    yield dict(row)
            return
    for batch in chunks(sorted(wanted)):
        for row in db.session.execute(query.where(column.in_(batch))).mappings():
            yield dict(row)


def _columns(model, kind: str) -> list:
    """Return the model columns named like the kind's CSV columns, plus its id."""
    names = ["id"] + [c.name for c in KINDS[kind].columns]
    return [getattr(model, name) for name in names if hasattr(model, name)]


def _by_external_id(model, kind: str, wanted: set[str], extra=()) -> dict[tuple, Row]:
    """Return the rows of ``model`` whose external_id is in ``wanted``."""
    query = select(*_columns(model, kind), *extra)
    rows = matching(query, model.external_id, wanted, model.__table__)
    return {(row["external_id"],): row for row in rows}


def _values(parsed: ParsedFile | None, column: str) -> set:
    """Return the distinct values of ``column`` over the valid rows of ``parsed``."""
    return {row.values[column] for row in parsed.rows} if parsed else set()


def _keys(parsed: ParsedFile | None) -> set[str]:
    """Return the external ids of every row of ``parsed`` (valid or not)."""
    return {key[0] for key in parsed.keys} if parsed else set()


def load(files: dict[str, ParsedFile]) -> Existing:
    """Load the rows the files update or refer to."""
    collabs, outcomes = files.get("collaborations"), files.get("outcomes")
    existing = Existing()
    existing.influencers = _by_external_id(
        Influencer,
        "influencers",
        _keys(files.get("influencers")) | _values(collabs, "influencer_external_id"),
    )
    existing.companies = _by_external_id(
        Company,
        "companies",
        _keys(files.get("companies")) | _values(collabs, "company_external_id"),
    )
    existing.collaborations = _by_external_id(
        Collaboration,
        "collaborations",
        _keys(collabs) | _values(outcomes, "collaboration_external_id"),
        extra=(Collaboration.influencer_id, Collaboration.company_id),
    )
    known = {key[0] for key in existing.collaborations}
    existing.outcomes = _outcomes(
        _values(outcomes, "collaboration_external_id") & known
    )
    existing.niche_activity = _niche_activity(files.get("niche_activity"))
    for name, kind in (("influencers", "influencer"), ("companies", "company")):
        ids = {row["id"] for row in getattr(existing, name).values()}
        existing.latest_revision[name] = _latest_revision(kind, ids)
    return existing


def _latest_revision(kind: str, entity_ids: set[int]) -> dict[int, Any]:
    """Return the start of each entity's newest profile revision."""
    latest: dict[int, Any] = {}
    for batch in chunks(sorted(entity_ids)):
        query = (
            select(ProfileRevision.entity_id, func.max(ProfileRevision.valid_from))
            .where(ProfileRevision.kind == kind, ProfileRevision.entity_id.in_(batch))
            .group_by(ProfileRevision.entity_id)
        )
        latest.update(dict(db.session.execute(query).all()))
    return latest


def _outcomes(collaboration_ids: set[str]) -> dict[tuple, Row]:
    """Return the outcomes of the given collaborations by (external_id, side)."""
    query = select(
        *_columns(Outcome, "outcomes"),
        Outcome.collaboration_id,
        Outcome.rated_by_id,
        Outcome.rated_at,
        Outcome.success_factors,
        Collaboration.external_id,
    ).join(Collaboration, Outcome.collaboration_id == Collaboration.id)
    rows = matching(
        query, Collaboration.external_id, collaboration_ids, Collaboration.__table__
    )
    return {(row["external_id"], row["rater_side"]): row for row in rows}


def _niche_activity(parsed: ParsedFile | None) -> dict[tuple, Row]:
    """Return the stored activity rows of the niches in ``parsed`` by (niche, day)."""
    query = select(*_columns(NicheActivity, "niche_activity"))
    rows = matching(
        query, NicheActivity.niche, _values(parsed, "niche"), NicheActivity.__table__
    )
    return {(row["niche"], row["period_start"]): row for row in rows}
