"""Cross-file checks: every reference resolves, only finished work is rated, and
dated profiles do not rewrite history recorded after them."""

from __future__ import annotations

from webapp.core.taxonomy import FINISHED_STATUSES
from webapp.core.timeutil import start_of
from webapp.marketplace.importer.existing import Existing
from webapp.marketplace.importer.reading import ParsedFile
from webapp.marketplace.importer.report import ImportReport, RowError
from webapp.models.marketplace import COMPANY_PROFILE_FIELDS, INFLUENCER_PROFILE_FIELDS

PROFILE_FIELDS = {
    "influencers": INFLUENCER_PROFILE_FIELDS,
    "companies": COMPANY_PROFILE_FIELDS,
}


def _known(parsed: ParsedFile | None, stored: dict) -> set | None:
    """Return the keys known from the file and the database; None if unknowable."""
    if parsed is not None and not parsed.complete:
        # The file could not be read through; it already has its own error.
        return None
    return set(stored) | (set(parsed.keys) if parsed else set())


def _check(
    parsed: ParsedFile,
    column: str,
    noun: str,
    known: set | None,
    report: ImportReport,
) -> None:
    """Report every row of ``parsed`` whose ``column`` names an unknown ``noun``."""
    if known is None:
        return
    for row in parsed.rows:
        value = row.values[column]
        if (value,) not in known:
            reason = f"no {noun} with external_id {value!r} in the database or files"
            report.errors.append(RowError(parsed.name, row.line, column, reason))


def check(files: dict[str, ParsedFile], existing: Existing, report: ImportReport):
    """Add an error for each dangling reference and each unfinished rated work."""
    collabs, outcomes = files.get("collaborations"), files.get("outcomes")
    for name, profile_fields in PROFILE_FIELDS.items():
        if name in files:
            _check_dated_after_history(files[name], existing, profile_fields, report)
    if collabs is not None:
        for column, kind, noun, stored in (
            (
                "influencer_external_id",
                "influencers",
                "influencer",
                existing.influencers,
            ),
            ("company_external_id", "companies", "company", existing.companies),
        ):
            known = _known(files.get(kind), stored)
            _check(collabs, column, noun, known, report)
    if outcomes is not None:
        known = _known(collabs, existing.collaborations)
        _check(outcomes, "collaboration_external_id", "collaboration", known, report)
        _check_finished(outcomes, collabs, existing, report)


def _check_finished(
    outcomes: ParsedFile,
    collabs: ParsedFile | None,
    existing: Existing,
    report: ImportReport,
) -> None:
    """Report outcomes of collaborations that are neither completed nor cancelled."""
    status = {key[0]: row["status"] for key, row in existing.collaborations.items()}
    if collabs is not None:
        # The file wins over the database; an invalid file row has no known status.
        for key in collabs.keys:
            status.pop(key[0], None)
        status.update(
            {row.values["external_id"]: row.values["status"] for row in collabs.rows}
        )
    for row in outcomes.rows:
        external_id = row.values["collaboration_external_id"]
        current = status.get(external_id)
        if current is not None and current not in FINISHED_STATUSES:
            reason = (
                f"collaboration {external_id!r} is {current}; only completed or "
                "cancelled collaborations can be rated"
            )
            report.errors.append(
                RowError(outcomes.name, row.line, "collaboration_external_id", reason)
            )


def _check_dated_after_history(
    parsed: ParsedFile,
    existing: Existing,
    profile_fields: tuple[str, ...],
    report: ImportReport,
) -> None:
    """Report changed profiles dated before the newest revision already stored.

    Such a revision would sit behind the stored one, and every later moment
    would keep reading the stored, outdated profile.
    """
    stored_rows = getattr(existing, parsed.kind.name)
    latest = existing.latest_revision.get(parsed.kind.name, {})
    for row in parsed.rows:
        day = row.values.get("valid_from")
        stored = stored_rows.get(parsed.kind.key_of(row.values))
        if day is None or stored is None or stored["id"] not in latest:
            continue
        changed = any(stored[f] != row.values[f] for f in profile_fields)
        newest = latest[stored["id"]]
        if changed and start_of(day) < newest:
            reason = (
                "is before the profile's newest recorded revision "
                f"({newest.date().isoformat()}); history can only be added after it"
            )
            report.errors.append(RowError(parsed.name, row.line, "valid_from", reason))
