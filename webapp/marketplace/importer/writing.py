"""Write validated rows: bulk inserts, bulk updates by primary key, revisions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, update

from webapp.core.timeutil import start_of, utcnow
from webapp.extensions import db
from webapp.marketplace.importer.existing import Existing, Row, chunks, matching
from webapp.marketplace.importer.reading import ParsedFile
from webapp.marketplace.importer.report import ImportReport, KindCounts
from webapp.models import (
    Collaboration,
    Company,
    Influencer,
    NicheActivity,
    Outcome,
    OutcomeRevision,
    ProfileRevision,
    StatusChange,
)
from webapp.models.marketplace import (
    COMPANY_PROFILE_FIELDS,
    INFLUENCER_PROFILE_FIELDS,
    OUTCOME_REVISION_FIELDS,
    revision_row,
)


@dataclass
class Plan:
    """New rows to insert, (stored, new) pairs to update, and the unchanged count."""

    inserts: list[Row] = field(default_factory=list)
    updates: list[tuple[Row, Row]] = field(default_factory=list)
    unchanged: int = 0

    def counts(self) -> KindCounts:
        """Return the plan as created / updated / unchanged counts."""
        return KindCounts(len(self.inserts), len(self.updates), self.unchanged)


def plan(rows: Iterable[tuple[tuple, Row]], stored: dict[tuple, Row]) -> Plan:
    """Split ``(key, row)`` pairs into inserts, real changes and unchanged rows."""
    result = Plan()
    for key, new in rows:
        old = stored.get(key)
        if old is None:
            result.inserts.append(new)
        elif changes(old, new):
            result.updates.append((old, new))
        else:
            result.unchanged += 1
    return result


def apply(model, result: Plan, now: datetime) -> dict[str, int]:
    """Insert and update ``model`` rows; return new ids by external_id if it has one."""
    stamps = {
        name: now for name in ("created_at", "updated_at") if hasattr(model, name)
    }
    new_ids: dict[str, int] = {}
    if result.inserts:
        # Core executemany without RETURNING, then one read of the new ids: the ORM
        # bulk path costs half as much again per row, and psycopg 3 spends seconds
        # parsing the multi-row INSERT ... RETURNING statements SQLAlchemy builds.
        table = model.__table__
        db.session.execute(insert(table), [{**row, **stamps} for row in result.inserts])
        if "external_id" in table.c:
            wanted = {row["external_id"] for row in result.inserts}
            query = select(table.c.id, table.c.external_id)
            rows = matching(query, table.c.external_id, wanted, table)
            new_ids = {row["external_id"]: row["id"] for row in rows}
    if result.updates:
        touched = {"updated_at": now} if hasattr(model, "updated_at") else {}
        rows = [
            {"id": old["id"], **changes(old, new), **touched}
            for old, new in result.updates
        ]
        # Set only what changed (the database then leaves untouched indexes alone);
        # sorted so rows changing the same columns share one executemany.
        rows.sort(key=lambda row: tuple(row))
        db.session.execute(update(model), rows)
    return new_ids


def changes(old: Row, new: Row) -> Row:
    """Return the values of ``new`` that differ from ``old``."""
    return {name: value for name, value in new.items() if old[name] != value}


MODELS = {
    "influencers": Influencer,
    "companies": Company,
    "collaborations": Collaboration,
    "outcomes": Outcome,
    "niche_activity": NicheActivity,
}
# Kinds whose profile is versioned: the revision kind and the versioned fields.
PROFILES = {
    "influencers": ("influencer", INFLUENCER_PROFILE_FIELDS),
    "companies": ("company", COMPANY_PROFILE_FIELDS),
}


def write(files: dict[str, ParsedFile], existing: Existing, report: ImportReport):
    """Write every file's rows, in the dependency order of ``files``; do not commit."""
    writer = Writer(existing, report)
    for parsed in files.values():
        writer.upsert(parsed)


class Writer:
    """Upsert one import's files, resolving references to ids as it goes."""

    def __init__(self, existing: Existing, report: ImportReport) -> None:
        self.existing, self.report, self.now = existing, report, utcnow()
        # Database ids by external_id, per referenced kind; new rows are added.
        self.ids = {
            name: {key[0]: row["id"] for key, row in getattr(existing, name).items()}
            for name in ("influencers", "companies", "collaborations")
        }
        # The CSV's valid_from per profile kind and external_id (None: not given).
        self.valid_from: dict[str, dict[str, date | None]] = {
            name: {} for name in PROFILES
        }

    def upsert(self, parsed: ParsedFile) -> None:
        """Insert new rows, update changed ones and revise changed profiles."""
        name = parsed.kind.name
        if name in PROFILES:
            build = self.profile_row(name)
        else:
            build = {
                "collaborations": self.collaboration,
                "outcomes": self.outcome,
            }.get(name, dict)
        result = plan(
            (
                (parsed.kind.key_of(row.values), build(row.values))
                for row in parsed.rows
            ),
            getattr(self.existing, name),
        )
        new_ids = apply(MODELS[name], result, self.now)
        if name in self.ids:
            self.ids[name].update(new_ids)
        self.report.counts[name] = result.counts()
        if name in PROFILES:
            self.revise(name, result)
        if name == "collaborations":
            self.record_statuses(result)
        if name == "outcomes":
            self.revise_outcomes(result)

    def revise_outcomes(self, result: Plan) -> None:
        """Add a rating revision per new rating (dated when rated) and per changed one.

        A changed rating is dated at the import: that is when Matchloop learned it,
        so moments before the import keep seeing the earlier values.
        """
        changed = [
            {**old, **new}
            for old, new in result.updates
            if any(old[name] != new[name] for name in OUTCOME_REVISION_FIELDS)
        ]
        revisions = [revision_row(row, self.now) for row in changed]
        if result.inserts:
            wanted = {row["collaboration_id"] for row in result.inserts}
            query = select(Outcome.id, Outcome.collaboration_id, Outcome.rater_side)
            ids = {
                (row["collaboration_id"], row["rater_side"]): row["id"]
                for row in matching(
                    query, Outcome.collaboration_id, wanted, Outcome.__table__
                )
            }
            revisions += [
                revision_row(
                    {**row, "id": ids[(row["collaboration_id"], row["rater_side"])]},
                    row["rated_at"],
                )
                for row in result.inserts
            ]
        if revisions:
            db.session.execute(insert(OutcomeRevision), revisions)

    def record_statuses(self, result: Plan) -> None:
        """Add an 'import' history row for each new status, dated at the import.

        A collaboration imported as cancelled is cancelled as of the import (the
        file says nothing of when): its label is known from then on.
        """
        ids = self.ids["collaborations"]
        changes = [(None, new) for new in result.inserts] + [
            (old["status"], new)
            for old, new in result.updates
            if old["status"] != new["status"]
        ]
        cancelled = [
            ids[new["external_id"]]
            for _, new in changes
            if new["status"] == "cancelled"
        ]
        for batch in chunks(cancelled):
            db.session.execute(
                update(Collaboration)
                .where(
                    Collaboration.id.in_(batch), Collaboration.cancelled_at.is_(None)
                )
                .values(cancelled_at=self.now)
                .execution_options(synchronize_session=False)
            )
        if changes:
            db.session.execute(
                insert(StatusChange),
                [
                    {
                        "collaboration_id": ids[new["external_id"]],
                        "from_status": before,
                        "status": new["status"],
                        "action": "import",
                        "actor_id": None,
                        "note": None,
                        "created_at": self.now,
                    }
                    for before, new in changes
                ],
            )

    def profile_row(self, name: str):
        """Return a builder of ``name`` rows that sets their valid_from aside for revisions."""
        dated = self.valid_from[name]

        def build(values: dict[str, Any]) -> Row:
            row = dict(values)
            dated[row["external_id"]] = row.pop("valid_from", None)
            return row

        return build

    def revise(self, name: str, result: Plan) -> None:
        """Add a profile revision for each new profile and each changed one.

        A revision holds from the row's ``valid_from`` day when the file gives
        one, else from the import (training then counts it as approximated
        history for anything earlier).
        """
        kind, profile_fields = PROFILES[name]
        ids = self.ids[name]
        revised = result.inserts + [
            new
            for old, new in result.updates
            if any(old[field] != new[field] for field in profile_fields)
        ]
        if not revised:
            return
        revisions = [
            {
                "kind": kind,
                "entity_id": ids[row["external_id"]],
                "valid_from": self.revision_start(name, row["external_id"]),
                "attributes": {field: row[field] for field in profile_fields},
            }
            for row in revised
        ]
        db.session.execute(insert(ProfileRevision), revisions)
        self.report.revisions += len(revisions)

    def revision_start(self, name: str, external_id: str) -> datetime:
        """Return when the imported profile of ``external_id`` started to hold."""
        day = self.valid_from[name].get(external_id)
        return start_of(day) if day is not None else self.now

    def collaboration(self, values: dict[str, Any]) -> Row:
        """Return a collaborations row, its parties resolved to ids."""
        row = {k: v for k, v in values.items() if not k.endswith("_external_id")}
        row["influencer_id"] = self.ids["influencers"][values["influencer_external_id"]]
        row["company_id"] = self.ids["companies"][values["company_external_id"]]
        return row

    def outcome(self, values: dict[str, Any]) -> Row:
        """Return an outcomes row: no rater user, rated at midnight, no factors."""
        row = {
            k: v
            for k, v in values.items()
            if k not in ("collaboration_external_id", "rated_on")
        }
        collaborations = self.ids["collaborations"]
        row["collaboration_id"] = collaborations[values["collaboration_external_id"]]
        row["rated_at"] = start_of(values["rated_on"])
        row["rated_by_id"] = None
        row["success_factors"] = []
        return row
