"""The roi target builder: which rows, which labels, and when each label was known."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from webapp.extensions import db
from webapp.learning import training_data
from webapp.models import Outcome, OutcomeRevision
from webapp.registry.contract import TrainingFailed

CONFIG = {"SUCCESS_MIN_RATING": 4}


def rate(collaboration, side, roi, rated_at, revised_at=()):
    """Add a rating of ``collaboration`` by ``side`` with revisions at ``revised_at``."""
    outcome = Outcome(
        collaboration=collaboration,
        rater_side=side,
        success_rating=4,
        completion_status="completed",
        roi_achieved=roi,
        would_collaborate_again=True,
        rated_at=rated_at,
    )
    db.session.add(outcome)
    db.session.flush()
    for when in revised_at:
        db.session.add(
            OutcomeRevision(
                outcome_id=outcome.id,
                collaboration_id=collaboration.id,
                rater_side=side,
                success_rating=4,
                completion_status="completed",
                roi_achieved=roi,
                would_collaborate_again=True,
                recorded_at=when,
            )
        )
    db.session.commit()
    return outcome


@pytest.fixture
def rated(world):
    collabs = world["collaborations"]
    rate(collabs["completed"], "company", 0.4, datetime(2025, 4, 5, 9))
    # Rated in April, its ROI revised in June: the label is known from June on.
    rate(
        collabs["cancelled"],
        "company",
        -0.2,
        datetime(2025, 4, 6, 9),
        revised_at=(datetime(2025, 4, 6, 9), datetime(2025, 6, 1, 12)),
    )
    # No ROI reported by the brand: not a row. The creator's ROI never counts.
    rate(collabs["other"], "company", None, datetime(2025, 4, 7))
    rate(collabs["completed"], "influencer", 9.0, datetime(2025, 4, 8))
    return world


def test_labels_are_the_brands_reported_roi_in_proposal_order(app, rated):
    data = training_data.build("roi", CONFIG)
    collabs = rated["collaborations"]
    assert data.target == "roi"
    assert data.row_ids.tolist() == [collabs["completed"].id, collabs["cancelled"].id]
    assert data.y.tolist() == [0.4, -0.2]
    assert data.times.tolist() == [
        collabs["completed"].proposed_on,
        collabs["cancelled"].proposed_on,
    ]


def test_a_label_is_known_from_its_latest_revision_or_its_rating(app, rated):
    data = training_data.build("roi", CONFIG)
    assert data.label_times.tolist() == [
        datetime(2025, 4, 5, 9),
        datetime(2025, 6, 1, 12),
    ]
    # Every label is known after the moment its features describe.
    assert np.all(data.label_times > data.times.astype("datetime64[s]"))


def test_features_are_the_success_targets_point_in_time_features(app, rated):
    roi = training_data.build("roi", CONFIG)
    success = training_data.build("success", CONFIG)
    for k, row_id in enumerate(roi.row_ids):
        [j] = np.flatnonzero(success.row_ids == row_id)
        np.testing.assert_array_equal(roi.X[k], success.X[j])


def test_collaborations_of_opted_out_members_are_left_out(app, rated):
    rated["brand"].training_opt_out = True
    db.session.commit()
    with pytest.raises(TrainingFailed, match="reported ROI"):
        training_data.build("roi", CONFIG)


def test_an_unknown_target_fails_with_a_reason(app):
    with pytest.raises(TrainingFailed, match="no_such_target"):
        training_data.build("no_such_target", CONFIG)
