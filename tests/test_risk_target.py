"""The risk target builder: failures, unlabelled rows, label times, profile checks in time."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from webapp.extensions import db
from webapp.learning import feature_sets, training_data
from webapp.models import Outcome, ProfileRevision
from webapp.registry.contract import TrainingFailed

CONFIG = {"SUCCESS_MIN_RATING": 4, "RISK_FAILURE_MAX_RATING": 2}
GROWTH = feature_sets.names("pair_checks").index("log_follower_growth")


def rate(collaboration, rating, status, rated_at):
    """Add the brand's rating of ``collaboration``."""
    db.session.add(
        Outcome(
            collaboration=collaboration,
            rater_side="company",
            success_rating=rating,
            completion_status=status,
            would_collaborate_again=rating > 2,
            rated_at=rated_at,
        )
    )
    db.session.commit()


@pytest.fixture
def finished(world):
    collabs = world["collaborations"]
    rate(collabs["completed"], 4, "completed", datetime(2025, 4, 5, 9))
    collabs["cancelled"].cancelled_at = datetime(2025, 3, 20, 8)
    db.session.commit()
    return world


def build():
    return training_data.build("risk", CONFIG)


def test_cancelled_disputed_and_low_ratings_are_failures(app, finished):
    collabs = finished["collaborations"]
    rate(collabs["other"], 5, "disputed", datetime(2025, 4, 9))
    data = build()
    by_id = dict(zip(data.row_ids.tolist(), data.y.tolist(), strict=True))
    assert by_id == {
        collabs["other"].id: 1,
        collabs["completed"].id: 0,
        collabs["cancelled"].id: 1,
    }
    assert data.labelled.all()
    assert data.feature_names == feature_sets.names("pair_checks")


def test_a_rating_at_the_threshold_fails_and_above_it_does_not(app, finished):
    collabs = finished["collaborations"]
    rate(collabs["other"], 2, "completed", datetime(2025, 4, 9))
    data = build()
    assert data.y[data.row_ids.tolist().index(collabs["other"].id)] == 1
    data = training_data.build("risk", {**CONFIG, "RISK_FAILURE_MAX_RATING": 1})
    assert data.y[data.row_ids.tolist().index(collabs["other"].id)] == 0


def test_an_unrated_completed_collaboration_is_an_unlabelled_row(app, finished):
    data = build()
    other = finished["collaborations"]["other"].id
    k = data.row_ids.tolist().index(other)
    assert not data.labelled[k]
    assert np.isnat(data.label_times[k])
    assert data.meta["unlabelled"] == 1


def test_labels_are_known_when_cancelled_or_rated(app, finished):
    collabs = finished["collaborations"]
    data = build()
    times = dict(zip(data.row_ids.tolist(), data.label_times.tolist(), strict=True))
    assert times[collabs["cancelled"].id] == datetime(2025, 3, 20, 8)
    assert times[collabs["completed"].id] == datetime(2025, 4, 5, 9)


def test_follower_growth_uses_only_revisions_before_the_proposal(app, finished):
    collabs = finished["collaborations"]
    influencer = finished["influencers"][0]
    proposed = collabs["completed"].proposed_on
    for when, followers in (
        (datetime(2024, 1, 1), 10_000),
        (datetime(2025, 1, 1), 40_000),
        # After the proposal: must not move the row.
        (datetime(proposed.year, proposed.month, proposed.day + 1), 900_000),
    ):
        db.session.add(
            ProfileRevision(
                kind="influencer",
                entity_id=influencer.id,
                valid_from=when,
                attributes={**influencer.profile(), "followers": followers},
            )
        )
    db.session.commit()
    data = build()
    k = data.row_ids.tolist().index(collabs["completed"].id)
    assert data.X[k, GROWTH] == pytest.approx(np.log1p(40_000) - np.log1p(10_000))
    other = data.row_ids.tolist().index(collabs["other"].id)
    assert data.X[other, GROWTH] == 0.0


def test_nothing_finished_fails_with_a_reason(app, world):
    for collaboration in world["collaborations"].values():
        collaboration.status = "active"
    db.session.commit()
    with pytest.raises(TrainingFailed, match="finished"):
        build()
