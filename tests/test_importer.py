"""CSV import: the sample files, upserts, revisions, and all-or-nothing refusals."""

from __future__ import annotations

import csv
import shutil
from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import PROJECT_ROOT, make_company, make_influencer

from webapp.extensions import db
from webapp.marketplace import importer
from webapp.marketplace.importer import writing
from webapp.models import (
    Collaboration,
    Company,
    Influencer,
    NicheActivity,
    Outcome,
    ProfileRevision,
)

SAMPLES = PROJECT_ROOT / "tests" / "data" / "csv"
KINDS = ("influencers", "companies", "collaborations", "outcomes", "niche_activity")


def read_rows(path: Path) -> list[dict[str, str]]:
    """Return the rows of a CSV file as dicts."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def write_rows(path: Path, rows: list[dict[str, str]], encoding="utf-8") -> Path:
    """Write ``rows`` (all with the same keys) as a CSV file at ``path``."""
    with path.open("w", newline="", encoding=encoding) as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    """Copies of the five sample files in a temporary directory, by kind."""
    paths = {}
    for kind in KINDS:
        paths[kind] = tmp_path / f"{kind}.csv"
        shutil.copy(SAMPLES / f"{kind}.csv", paths[kind])
    return paths


def edit(path: Path, line: int, **cells: str) -> None:
    """Change cells of the row on file line ``line`` (the header is line 1)."""
    rows = read_rows(path)
    rows[line - 2].update(cells)
    write_rows(path, rows)


def cli_args(paths: dict[str, Path]) -> list[str]:
    """Return the import-csv command line for ``paths``."""
    args = ["import-csv"]
    for kind, path in paths.items():
        args += [f"--{kind.replace('_', '-')}", str(path)]
    return args


def table_counts() -> dict[str, int]:
    """Return the row count of every table but the audit log (it records every import)."""
    db.session.expire_all()
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in db.metadata.sorted_tables
        if table.name != "audit_log"
    }


def one(model, **where):
    """Return the single ``model`` row matching ``where``, read fresh."""
    db.session.expire_all()
    return db.session.scalars(sa.select(model).filter_by(**where)).one()


def outcome(collaboration: str, side: str) -> Outcome:
    """Return the outcome of one collaboration by one side, read fresh."""
    db.session.expire_all()
    return db.session.scalars(
        sa.select(Outcome)
        .join(Outcome.collaboration)
        .where(Collaboration.external_id == collaboration, Outcome.rater_side == side)
    ).one()


@pytest.fixture
def seeded_counts(app) -> dict[str, int]:
    """Put rows in the database first, so "nothing written" is not just "empty"."""
    db.session.add_all([make_influencer("INF-OLD"), make_company("CO-OLD")])
    db.session.commit()
    return table_counts()


def test_sample_files_import_through_the_cli(runner, files):
    result = runner.invoke(args=cli_args(files))

    assert result.exit_code == 0, result.output
    assert "influencers: 4 created, 0 updated, 0 unchanged" in result.output
    assert "outcomes: 6 created" in result.output
    counts = table_counts()
    assert counts["influencers"] == 4 and counts["companies"] == 3
    assert counts["collaborations"] == 6 and counts["outcomes"] == 6
    assert counts["niche_activity"] == 6 and counts["profile_revisions"] == 7

    mia = one(Influencer, external_id="INF-001")
    assert mia.profile() == {
        "niche": "fitness",
        "secondary_niches": ["wellness", "sports"],
        "platforms": ["instagram", "tiktok"],
        "followers": 48200,
        "engagement_rate": pytest.approx(0.052),
        "country": "US",
        "rate_per_post": 650.0,
        "posts_per_week": 5.0,
        "avg_response_hours": 4.5,
        "content_quality": pytest.approx(8.2),
    }
    assert mia.handle == "@trailrunner_mia" and mia.joined_on == date(2024, 2, 14)
    assert one(Influencer, external_id="INF-003").secondary_niches == []
    copperpot = one(Company, external_id="CO-003")
    assert copperpot.target_countries == [] and copperpot.industry == "home"

    cancelled = one(Collaboration, external_id="COL-003")
    assert cancelled.status == "cancelled" and cancelled.completed_on is None
    assert cancelled.influencer.external_id == "INF-003"
    assert cancelled.company.external_id == "CO-003"
    assert cancelled.match_snapshot == {}

    rated = outcome("COL-001", "company")
    assert rated.success_rating == 5 and rated.roi_achieved == pytest.approx(0.42)
    assert rated.would_collaborate_again is True
    assert rated.rated_at == datetime(2024, 4, 2)
    assert rated.rated_by_id is None and rated.success_factors == []
    assert rated.feedback.startswith("Great fit: the audience converted, and")
    blank = outcome("COL-001", "influencer")
    assert blank.roi_achieved is None and blank.feedback is None
    assert outcome("COL-003", "company").roi_achieved == pytest.approx(-0.1)

    activity = one(NicheActivity, niche="gaming", period_start=date(2024, 9, 9))
    assert activity.value == pytest.approx(236.8)

    revision = one(ProfileRevision, kind="influencer", entity_id=mia.id)
    assert revision.attributes == mia.profile()
    assert (
        isinstance(revision.valid_from, datetime) and revision.valid_from.tzinfo is None
    )


def test_reimport_updates_rows_and_revises_only_changed_profiles(app, files):
    assert importer.import_files(files).ok
    before = table_counts()
    mia_id = one(Influencer, external_id="INF-001").id
    edit(files["influencers"], 2, followers="50000")  # a profile field
    edit(files["influencers"], 3, handle="@pixelpanda_official")  # not versioned
    edit(files["collaborations"], 7, status="completed", completed_on="2024-10-20")
    edit(files["outcomes"], 4, success_rating="2", feedback="")

    report = importer.import_files(files)

    assert report.ok, report.errors
    assert table_counts() == {
        **before,
        "profile_revisions": before["profile_revisions"] + 1,
        # COL-006 went from active to completed: one history row.
        "status_changes": before["status_changes"] + 1,
        # COL-002's brand rating changed: a revision dated at the import.
        "outcome_revisions": before["outcome_revisions"] + 1,
    }
    assert str(report.counts["influencers"]) == "0 created, 2 updated, 2 unchanged"
    assert str(report.counts["outcomes"]) == "0 created, 1 updated, 5 unchanged"
    assert report.revisions == 1
    mia = one(Influencer, external_id="INF-001")
    assert mia.id == mia_id and mia.followers == 50000
    assert one(Influencer, external_id="INF-002").handle == "@pixelpanda_official"
    assert one(Collaboration, external_id="COL-006").completed_on == date(2024, 10, 20)
    changed = outcome("COL-002", "company")
    assert changed.success_rating == 2 and changed.feedback is None
    first, edited = changed.revisions
    assert first.recorded_at == changed.rated_at and first.success_rating != 2
    assert edited.success_rating == 2 and edited.recorded_at > changed.rated_at
    db.session.expire_all()
    latest = db.session.scalars(
        sa.select(ProfileRevision)
        .filter_by(kind="influencer", entity_id=mia_id)
        .order_by(ProfileRevision.valid_from.desc(), ProfileRevision.id.desc())
    ).first()
    assert latest.attributes == mia.profile()
    assert latest.attributes["followers"] == 50000


def test_reimport_of_the_same_files_changes_nothing(runner, files):
    assert runner.invoke(args=cli_args(files)).exit_code == 0
    before = table_counts()
    stamp = one(Influencer, external_id="INF-001").updated_at

    result = runner.invoke(args=cli_args(files))

    assert result.exit_code == 0, result.output
    assert "collaborations: 0 created, 0 updated, 6 unchanged" in result.output
    assert "profile revisions: 0 added" in result.output
    assert table_counts() == before
    assert one(Influencer, external_id="INF-001").updated_at == stamp


# (kind, file line, column, new cell value, words the reason must contain)
BAD_ROWS = [
    ("influencers", 3, "niche", "knitting", "unknown niche 'knitting'"),
    ("influencers", 2, "secondary_niches", "fitness;knitting", "unknown niche"),
    ("influencers", 4, "platforms", "instagram;myspace", "unknown platform"),
    ("influencers", 2, "platforms", "", "is required"),
    ("influencers", 5, "country", "XX", "unknown country"),
    ("influencers", 2, "followers", "-5", "at least 0 (got -5)"),
    ("influencers", 2, "followers", "12.5", "whole number"),
    ("influencers", 2, "followers", "3000000000", "too large to store"),
    ("influencers", 3, "engagement_rate", "1.2", "between 0 and 1 (got 1.2)"),
    ("influencers", 3, "engagement_rate", "nan", "must be a number"),
    ("influencers", 3, "engagement_rate", "abc", "must be a number"),
    ("influencers", 2, "rate_per_post", "inf", "must be a number"),
    ("influencers", 2, "rate_per_post", "1e999", "finite"),
    ("influencers", 2, "rate_per_post", "-10", "at least 0"),
    ("influencers", 4, "content_quality", "10.5", "between 0 and 10"),
    ("influencers", 4, "posts_per_week", "-1", "at least 0"),
    ("influencers", 4, "avg_response_hours", "-0.5", "at least 0"),
    ("influencers", 2, "joined_on", "2024-02-30", "YYYY-MM-DD"),
    ("influencers", 2, "joined_on", "14/02/2024", "YYYY-MM-DD"),
    ("influencers", 2, "handle", "", "is required"),
    ("influencers", 2, "handle", "h" * 101, "at most 100 characters"),
    ("companies", 2, "industry", "crypto", "unknown niche"),
    ("companies", 3, "target_countries", "GB;ZZ", "unknown country"),
    ("companies", 3, "budget_per_campaign", "-1", "at least 0"),
    ("companies", 4, "joined_on", "2024-5-30", "YYYY-MM-DD"),
    ("collaborations", 2, "status", "done", "unknown status"),
    ("collaborations", 3, "budget", "-100", "at least 0"),
    ("collaborations", 2, "completed_on", "2024-02-01", "before proposed_on"),
    ("collaborations", 4, "proposed_on", "", "is required"),
    ("collaborations", 5, "influencer_external_id", "INF-404", "no influencer"),
    ("collaborations", 6, "company_external_id", "CO-404", "no company"),
    ("outcomes", 2, "success_rating", "0", "between 1 and 5 (got 0)"),
    ("outcomes", 3, "success_rating", "6", "between 1 and 5 (got 6)"),
    ("outcomes", 3, "success_rating", "4.5", "whole number"),
    ("outcomes", 4, "rater_side", "agency", "unknown rater side"),
    ("outcomes", 5, "completion_status", "finished", "unknown completion status"),
    ("outcomes", 6, "roi_achieved", "-1.5", "at least -1"),
    ("outcomes", 6, "would_collaborate_again", "yes", "true or false"),
    ("outcomes", 7, "rated_on", "tomorrow", "YYYY-MM-DD"),
    ("outcomes", 7, "feedback", "x" * 2001, "at most 2000 characters"),
    ("outcomes", 2, "collaboration_external_id", "COL-404", "no collaboration"),
    ("outcomes", 2, "collaboration_external_id", "COL-005", "is active"),
    ("niche_activity", 3, "niche", "knitting", "unknown niche"),
    ("niche_activity", 4, "period_start", "2024-09", "YYYY-MM-DD"),
    ("niche_activity", 5, "value", "NaN", "must be a number"),
]


@pytest.mark.parametrize(
    ("kind", "line", "column", "value", "reason"),
    BAD_ROWS,
    ids=[f"{kind}-{column}-{value[:12]}" for kind, _, column, value, _ in BAD_ROWS],
)
def test_a_bad_row_refuses_the_whole_import(
    runner, files, seeded_counts, kind, line, column, value, reason
):
    edit(files[kind], line, **{column: value})

    result = runner.invoke(args=cli_args(files))

    assert result.exit_code == 1
    errors = [row for row in result.output.splitlines() if ".csv line " in row]
    assert len(errors) == 1, result.output
    assert errors[0].startswith(f"{kind}.csv line {line}, column {column}: ")
    assert reason in errors[0]
    assert "Import refused: 1 bad row(s); nothing was written." in result.output
    assert table_counts() == seeded_counts


@pytest.mark.parametrize(
    ("kind", "key_cells", "column"),
    [
        ("influencers", {}, "external_id"),
        ("outcomes", {}, "collaboration_external_id"),
        ("niche_activity", {"value": "99"}, "niche"),
    ],
)
def test_a_duplicate_key_refuses_the_import(
    runner, files, seeded_counts, kind, key_cells, column
):
    rows = read_rows(files[kind])
    write_rows(files[kind], [*rows, {**rows[1], **key_cells}])
    duplicate_line = len(rows) + 2

    result = runner.invoke(args=cli_args(files))

    assert result.exit_code == 1
    assert (
        f"{kind}.csv line {duplicate_line}, column {column}: duplicate key"
        in result.output
    )
    assert "(first on line 3)" in result.output
    assert table_counts() == seeded_counts


def test_the_report_lists_every_bad_row_in_file_order(app, files, seeded_counts):
    edit(files["influencers"], 2, followers="-1", engagement_rate="2")
    edit(files["influencers"], 4, niche="")
    edit(files["collaborations"], 3, influencer_external_id="NOBODY")
    edit(files["outcomes"], 7, success_rating="9")
    edit(files["niche_activity"], 2, period_start="someday")

    report = importer.import_files(files)

    assert [(e.file, e.line, e.column) for e in report.errors] == [
        ("influencers.csv", 2, "followers"),
        ("influencers.csv", 2, "engagement_rate"),
        ("influencers.csv", 4, "niche"),
        ("collaborations.csv", 3, "influencer_external_id"),
        ("outcomes.csv", 7, "success_rating"),
        ("niche_activity.csv", 2, "period_start"),
    ]
    assert str(report.errors[-1]) == (
        "niche_activity.csv line 2, column period_start: "
        "must be a date YYYY-MM-DD (got 'someday')"
    )
    assert "nothing was written" in report.summary()
    assert table_counts() == seeded_counts


def test_a_bad_row_in_a_later_file_keeps_earlier_good_files_out(
    runner, files, seeded_counts
):
    edit(files["niche_activity"], 7, value="lots")

    result = runner.invoke(args=cli_args(files))

    assert result.exit_code == 1
    assert "niche_activity.csv line 7, column value: must be a number" in result.output
    assert table_counts() == seeded_counts


def test_extra_columns_are_ignored_with_one_warning(runner, files):
    rows = [
        {**row, "notes": "vip", "tier": "gold"} for row in read_rows(files["companies"])
    ]
    write_rows(files["companies"], rows)

    result = runner.invoke(args=cli_args({"companies": files["companies"]}))

    assert result.exit_code == 0, result.output
    warnings = [row for row in result.output.splitlines() if row.startswith("warning")]
    assert warnings == ["warning: companies.csv: ignored extra column(s): notes, tier"]
    assert table_counts()["companies"] == 3


def test_missing_columns_are_a_file_error(runner, files, seeded_counts):
    rows = read_rows(files["influencers"])
    write_rows(
        files["influencers"],
        [
            {k: v for k, v in row.items() if k not in ("followers", "country")}
            for row in rows
        ],
    )

    result = runner.invoke(args=cli_args(files))

    assert result.exit_code == 1
    assert (
        "influencers.csv line 1: missing required column(s): followers, country"
        in result.output
    )
    # The unreadable file's ids are unknown, so its references are not flagged too.
    assert "no influencer" not in result.output
    assert table_counts() == seeded_counts


def test_a_byte_order_mark_is_accepted(app, files):
    rows = read_rows(files["influencers"])
    write_rows(files["influencers"], rows, encoding="utf-8-sig")
    assert files["influencers"].read_bytes().startswith(b"\xef\xbb\xbf")

    report = importer.import_files({"influencers": files["influencers"]})

    assert report.ok, report.errors
    assert one(Influencer, external_id="INF-001").handle == "@trailrunner_mia"


def test_references_resolve_against_rows_already_in_the_database(app, world, tmp_path):
    creator, brand = world["influencers"][0], world["companies"][0]
    collaborations = write_rows(
        tmp_path / "collaborations.csv",
        [
            {
                "external_id": "COL-NEW",
                "influencer_external_id": "INF-A",
                "company_external_id": "CO-A",
                "proposed_on": "2025-06-01",
                "status": "completed",
                "budget": "800",
                "completed_on": "2025-06-20",
            }
        ],
    )
    outcomes = write_rows(
        tmp_path / "outcomes.csv",
        [
            {
                "collaboration_external_id": collaboration,
                "rater_side": "company",
                "success_rating": "4",
                "completion_status": "completed",
                "roi_achieved": "0.3",
                "would_collaborate_again": "TRUE",
                "rated_on": "2025-07-01",
                "feedback": "",
            }
            for collaboration in ("COL-NEW", "C-A-completed")
        ],
    )

    report = importer.import_files(
        {"collaborations": collaborations, "outcomes": outcomes}
    )

    assert report.ok, report.errors
    new = one(Collaboration, external_id="COL-NEW")
    assert (new.influencer_id, new.company_id) == (creator.id, brand.id)
    assert outcome("COL-NEW", "company").would_collaborate_again is True
    stored = outcome("C-A-completed", "company")
    assert stored.collaboration_id == world["collaborations"]["completed"].id


def test_an_outcome_of_a_collaboration_unfinished_in_the_database_is_refused(
    app, world, tmp_path
):
    outcomes = write_rows(
        tmp_path / "outcomes.csv",
        [
            {
                "collaboration_external_id": "C-A-active",
                "rater_side": "influencer",
                "success_rating": "4",
                "completion_status": "completed",
                "roi_achieved": "",
                "would_collaborate_again": "false",
                "rated_on": "2025-07-01",
                "feedback": "",
            }
        ],
    )

    report = importer.import_files({"outcomes": outcomes})

    assert [str(error) for error in report.errors] == [
        "outcomes.csv line 2, column collaboration_external_id: collaboration "
        "'C-A-active' is active; only completed or cancelled collaborations can be "
        "rated"
    ]


def test_line_numbers_count_lines_inside_quoted_values(app, files):
    rows = read_rows(files["outcomes"])
    rows[0]["feedback"] = "First line.\nSecond line.\nThird line."
    rows[1]["success_rating"] = "7"
    write_rows(files["outcomes"], rows)

    report = importer.import_files(files)

    assert [(e.line, e.column) for e in report.errors] == [(5, "success_rating")]


def test_a_row_with_more_values_than_the_header_is_refused(app, files):
    path = files["niche_activity"]
    path.write_text(path.read_text() + "food,2024-09-16,92.0,extra\n")

    report = importer.import_files({"niche_activity": path})

    assert [str(error) for error in report.errors] == [
        "niche_activity.csv line 8: has 4 values but the header has 3 columns"
    ]


def test_a_failed_write_rolls_back_and_raises(app, files, seeded_counts, monkeypatch):
    def explode(self, name, result):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(writing.Writer, "revise", explode)

    with pytest.raises(RuntimeError, match="disk on fire"):
        importer.import_files(files)

    assert table_counts() == seeded_counts


def test_an_unknown_kind_is_a_programming_error(app, files):
    with pytest.raises(ValueError, match="unknown import kind"):
        importer.import_files({"brands": files["companies"]})


@pytest.mark.parametrize(
    ("content", "line", "reason"),
    [
        (b"", 1, "has no header row"),
        (b"niche,period_start,value,niche\n", 1, "column(s) appearing twice: niche"),
        (
            b"niche,period_start,value\nfood,2024-01-01,caf\xe9\n",
            None,
            "is not UTF-8 text",
        ),
    ],
    ids=["empty", "repeated-column", "latin-1"],
)
def test_an_unreadable_file_is_a_file_error(
    app, tmp_path, seeded_counts, content, line, reason
):
    path = tmp_path / "activity.csv"
    path.write_bytes(content)

    report = importer.import_files({"niche_activity": path})

    assert [(e.file, e.line, e.column) for e in report.errors] == [
        ("activity.csv", line, None)
    ]
    assert reason in report.errors[0].reason
    assert table_counts() == seeded_counts
