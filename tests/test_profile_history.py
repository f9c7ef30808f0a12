"""Profiles as of the past: dated CSV history, and approximations said out loud."""

from __future__ import annotations

import shutil
from datetime import date, datetime

import numpy as np
import sqlalchemy as sa
from conftest import PROJECT_ROOT
from test_importer_history import edit
from test_models_pages import admin  # noqa: F401 - fixture
from training_helpers import seed_small_world, train_version

from webapp.core.timeutil import utcnow
from webapp.extensions import db
from webapp.learning import features, loaders, training_data
from webapp.marketplace import importer
from webapp.models import Collaboration, Influencer, ProfileRevision

SAMPLES = PROJECT_ROOT / "tests" / "data" / "csv"
KINDS = ("influencers", "companies", "collaborations", "outcomes")
CONFIG = {"SUCCESS_MIN_RATING": 4}


def copies(tmp_path, dated: bool) -> dict:
    """Copy the sample files; ``dated`` adds valid_from = joined_on to the profiles."""
    paths = {}
    for kind in KINDS:
        paths[kind] = tmp_path / f"{kind}.csv"
        shutil.copy(SAMPLES / f"{kind}.csv", paths[kind])
    if dated:
        for kind in ("influencers", "companies"):
            add_valid_from(paths[kind])
    return paths


def add_valid_from(path) -> None:
    """Add a valid_from column equal to each row's joined_on."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    joined = header.index("joined_on")
    rows = [lines[0] + ",valid_from"]
    for line in lines[1:]:
        rows.append(f"{line},{line.split(',')[joined]}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def followers_feature(external_id: str) -> float:
    """Return the log_followers training feature of one collaboration."""
    data = training_data.build("success", CONFIG)
    collab = db.session.scalar(
        sa.select(Collaboration.id).where(Collaboration.external_id == external_id)
    )
    row = int(np.flatnonzero(data.row_ids == collab)[0])
    return float(data.X[row, features.FEATURE_NAMES.index("log_followers")])


def test_undated_profiles_are_counted_as_approximated(app, tmp_path):
    report = importer.import_files(copies(tmp_path, dated=False))
    assert not report.errors
    data = training_data.build("success", CONFIG)
    # Every profile was first recorded at the import, after all four proposals.
    assert data.n_samples == 4
    assert data.meta["profiles_approximated"] == 4


def test_valid_from_dates_the_revisions_and_nothing_is_approximated(app, tmp_path):
    report = importer.import_files(copies(tmp_path, dated=True))
    assert not report.errors, report.errors
    starts = db.session.execute(
        sa.select(Influencer.external_id, ProfileRevision.valid_from).join(
            Influencer,
            sa.and_(
                ProfileRevision.entity_id == Influencer.id,
                ProfileRevision.kind == "influencer",
            ),
        )
    ).all()
    assert dict(starts)["INF-001"] == datetime(2024, 2, 14)
    assert training_data.build("success", CONFIG).meta["profiles_approximated"] == 0


def test_a_later_dated_profile_does_not_move_an_earlier_row(app, tmp_path):
    paths = copies(tmp_path, dated=True)
    assert not importer.import_files(paths).errors
    before = followers_feature("COL-001")  # proposed 2024-03-01
    # The same influencer grew later: a second import dated 2024-06-01.
    edit(paths["influencers"], 2, followers="999999", valid_from="2024-06-01")
    report = importer.import_files({"influencers": paths["influencers"]})
    assert not report.errors and report.revisions == 1
    assert followers_feature("COL-001") == before == np.log10(48200 + 1)
    # A moment after the new date sees the new profile, not the earliest one.
    inf = db.session.scalar(
        sa.select(Influencer.id).where(Influencer.external_id == "INF-001")
    )
    days = np.array(
        [features.day_number(d) for d in (date(2024, 3, 1), date(2024, 7, 1))]
    )
    profiles, approximated = loaders.profiles_as_of("influencer", np.full(2, inf), days)
    assert [p["followers"] for p in profiles] == [48200, 999999]
    assert not approximated.any()


def test_bad_valid_from_is_reported_and_nothing_is_written(app, tmp_path):
    paths = copies(tmp_path, dated=True)
    today = utcnow().date()
    edit(paths["influencers"], 2, valid_from="2024-13-01")
    edit(paths["influencers"], 3, valid_from="2020-01-01")  # before joined_on
    edit(paths["influencers"], 4, valid_from=f"{today.year + 1}-01-01")
    report = importer.import_files(paths)
    reasons = {(e.line, e.column): e.reason for e in report.errors}
    assert "must be a date" in reasons[(2, "valid_from")]
    assert "before joined_on" in reasons[(3, "valid_from")]
    assert "in the future" in reasons[(4, "valid_from")]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Influencer)) == 0
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(ProfileRevision)) == 0
    )


def test_a_change_dated_before_stored_history_is_refused(app, tmp_path):
    paths = copies(tmp_path, dated=True)
    edit(paths["influencers"], 2, valid_from="2024-06-01")
    assert not importer.import_files(paths).errors
    edit(paths["influencers"], 2, followers="50000", valid_from="2024-03-01")
    report = importer.import_files({"influencers": paths["influencers"]})
    assert [(e.line, e.column) for e in report.errors] == [(2, "valid_from")]
    assert "newest recorded revision (2024-06-01)" in report.errors[0].reason
    # Re-importing the unchanged row with an older date is harmless and accepted.
    edit(paths["influencers"], 2, followers="48200", valid_from="2024-03-01")
    assert not importer.import_files({"influencers": paths["influencers"]}).errors


def test_the_model_page_says_how_many_rows_approximated_profiles(app, admin):  # noqa: F811
    seed_small_world()
    # The demo dates each first profile at its join day (a proposal that very day
    # is approximated: a revision counts from the next day).
    baseline = training_data.build("success", CONFIG).meta["profiles_approximated"]
    # Plant the leak: some influencers' only known profile is dated today.
    ids = db.session.scalars(sa.select(Influencer.id).order_by(Influencer.id).limit(30))
    db.session.execute(
        sa.update(ProfileRevision)
        .where(
            ProfileRevision.kind == "influencer",
            ProfileRevision.entity_id.in_(list(ids)),
        )
        .values(valid_from=utcnow())
    )
    db.session.commit()
    planted = training_data.build("success", CONFIG).meta["profiles_approximated"]
    assert planted > baseline + 20
    version = train_version()
    assert version.metrics["training_data"]["profiles_approximated"] == planted
    page = admin.get("/models/match_success").get_data(as_text=True)
    assert f"profile history approximated for {planted:,} rows" in page
    final = version.metrics["windows"]["final"]
    assert f"final window {final['from']} → {final['to']}" in page
    assert "selection windows" in page
