"""The success label, one rule in one place (SQL), read by training data and history.

A collaboration succeeded when it completed, and the brand rated it at least
SUCCESS_MIN_RATING and said it completed. Cancellations and everything else
are failures.
"""

from __future__ import annotations

from sqlalchemy import and_, case

from webapp.models import Collaboration, Outcome


def success_label(min_rating: int, outcome=Outcome):
    """Return SQL that is 1 when ``outcome`` (a brand-side rating) marks a success, else 0.

    :param outcome: the Outcome entity or an alias of it joined to Collaboration.
    """
    return case(
        (
            and_(
                outcome.success_rating >= min_rating,
                outcome.completion_status == "completed",
                Collaboration.status == "completed",
            ),
            1,
        ),
        else_=0,
    )
