"""rating revisions for every rating; a time for every cancellation

Revision ID: 0005_leaks_a
Revises: 0004_lifecycle
Create Date: 2026-12-03 10:00:00

Features and labels now read rating revisions (outcome_revisions) instead of
the outcome rows. Ratings saved after 0003 without a revision get their first
one, dated when they were rated (as 0003 did for older ones; an edit made
before this migration cannot be told apart from the first rating).
Cancellations without ``cancelled_at`` (imported ones) get the time of their
first status change to cancelled, the moment Matchloop learned of them.
Data only: downgrade leaves the rows in place.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0005_leaks_a'
down_revision = '0004_lifecycle'
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        "INSERT INTO outcome_revisions (outcome_id, collaboration_id, rater_side, "
        "rated_by_id, success_rating, completion_status, roi_achieved, "
        "would_collaborate_again, recorded_at) "
        "SELECT id, collaboration_id, rater_side, rated_by_id, success_rating, "
        "completion_status, roi_achieved, would_collaborate_again, rated_at "
        "FROM outcomes WHERE NOT EXISTS (SELECT 1 FROM outcome_revisions r "
        "WHERE r.outcome_id = outcomes.id)"
    )
    op.execute(
        "UPDATE collaborations SET cancelled_at = (SELECT min(s.created_at) "
        "FROM status_changes s WHERE s.collaboration_id = collaborations.id "
        "AND s.status = 'cancelled') "
        "WHERE status = 'cancelled' AND cancelled_at IS NULL"
    )


def downgrade():
    pass
