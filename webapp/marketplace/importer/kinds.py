"""The five CSV kinds: their columns, parsers, keys and cross-column checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from webapp.core import taxonomy
from webapp.core.timeutil import utcnow
from webapp.marketplace.importer import fields as f

# Largest values the database columns hold: Numeric(12, 2), Numeric(10, 4), INTEGER.
MONEY_MAX = 9_999_999_999.99
ROI_MAX = 999_999.9999
INT_MAX = 2**31 - 1


def none() -> None:
    """Return None: the value of an empty optional cell."""
    return None


@dataclass(frozen=True)
class Column:
    """One expected column; ``empty`` makes its cells optional and gives the empty value.

    ``optional`` columns may be left out of the header too: every row then gets
    the empty value.
    """

    name: str
    parse: f.Parser
    empty: Callable[[], Any] | None = None
    optional: bool = False


@dataclass(frozen=True)
class Kind:
    """One importable file: its columns, the columns forming its key, row checks."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    check: Callable[[dict[str, Any]], list[tuple[str, str]]] | None = None

    def key_of(self, values: dict[str, Any]) -> tuple | None:
        """Return the row's key, or None when a key column is missing or invalid."""
        try:
            return tuple(values[name] for name in self.key)
        except KeyError:
            return None


EXTERNAL_ID = Column("external_id", f.text(64))
money = f.number(minimum=0, limit=MONEY_MAX, places=2)
niche = f.choice(taxonomy.NICHES, "niche")
niches = f.choice_list(taxonomy.NICHES, "niche")
at_least_one_niche = f.choice_list(taxonomy.NICHES, "niche", minimum=1)
country = f.choice(taxonomy.COUNTRIES, "country", upper=True)
countries = f.choice_list(taxonomy.COUNTRIES, "country", upper=True)


def completed_after_proposed(values: dict[str, Any]) -> list[tuple[str, str]]:
    """Flag a collaboration completed before it was proposed."""
    proposed, completed = values.get("proposed_on"), values.get("completed_on")
    if proposed and completed and completed < proposed:
        return [("completed_on", f"is before proposed_on ({proposed.isoformat()})")]
    return []


def valid_from_in_range(values: dict[str, Any]) -> list[tuple[str, str]]:
    """Flag a profile dated before the member joined or after today."""
    valid_from, joined = values.get("valid_from"), values.get("joined_on")
    if valid_from is None:
        return []
    if joined and valid_from < joined:
        return [("valid_from", f"is before joined_on ({joined.isoformat()})")]
    today = utcnow().date()
    if valid_from > today:
        return [("valid_from", f"is in the future (today is {today.isoformat()})")]
    return []


# The day from which the row's profile held (profile history); without it the
# profile is dated at the import and training says it approximated history.
VALID_FROM = Column("valid_from", f.day, empty=none, optional=True)

INFLUENCERS = Kind(
    "influencers",
    (
        EXTERNAL_ID,
        Column("handle", f.text(100)),
        Column("niche", niche),
        Column("secondary_niches", niches, empty=list),
        Column("platforms", f.choice_list(taxonomy.PLATFORMS, "platform", minimum=1)),
        Column("followers", f.integer(minimum=0, limit=INT_MAX)),
        Column("engagement_rate", f.number(minimum=0, maximum=1)),
        Column("country", country),
        Column("rate_per_post", money),
        Column("joined_on", f.day),
        Column("posts_per_week", f.number(minimum=0)),
        Column("avg_response_hours", f.number(minimum=0)),
        Column("content_quality", f.number(minimum=0, maximum=10)),
        VALID_FROM,
    ),
    key=("external_id",),
    check=valid_from_in_range,
)

COMPANIES = Kind(
    "companies",
    (
        EXTERNAL_ID,
        Column("name", f.text(200)),
        Column("industry", niche),
        Column("target_niches", at_least_one_niche),
        Column("country", country),
        Column("target_countries", countries, empty=list),
        Column("budget_per_campaign", money),
        Column("joined_on", f.day),
        VALID_FROM,
    ),
    key=("external_id",),
    check=valid_from_in_range,
)

COLLABORATIONS = Kind(
    "collaborations",
    (
        EXTERNAL_ID,
        Column("influencer_external_id", f.text(64)),
        Column("company_external_id", f.text(64)),
        Column("proposed_on", f.day),
        Column("status", f.choice(taxonomy.COLLABORATION_STATUSES, "status")),
        Column("budget", money),
        Column("completed_on", f.day, empty=none),
    ),
    key=("external_id",),
    check=completed_after_proposed,
)

OUTCOMES = Kind(
    "outcomes",
    (
        Column("collaboration_external_id", f.text(64)),
        Column("rater_side", f.choice(taxonomy.RATER_SIDES, "rater side")),
        Column(
            "success_rating",
            f.integer(minimum=taxonomy.RATING_MIN, maximum=taxonomy.RATING_MAX),
        ),
        Column(
            "completion_status",
            f.choice(taxonomy.COMPLETION_STATUSES, "completion status"),
        ),
        Column(
            "roi_achieved",
            f.number(minimum=-1, limit=ROI_MAX, places=4),
            empty=none,
        ),
        Column("would_collaborate_again", f.boolean),
        Column("rated_on", f.day),
        Column("feedback", f.text(taxonomy.FEEDBACK_MAX_LENGTH), empty=none),
    ),
    key=("collaboration_external_id", "rater_side"),
)

NICHE_ACTIVITY = Kind(
    "niche_activity",
    (
        Column("niche", niche),
        Column("period_start", f.day),
        Column("value", f.number()),
    ),
    key=("niche", "period_start"),
)

# In dependency order: a later kind may refer to an earlier one.
KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (INFLUENCERS, COMPANIES, COLLABORATIONS, OUTCOMES, NICHE_ACTIVITY)
}
