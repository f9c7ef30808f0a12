"""The one list of niches, platforms, countries and statuses used everywhere."""

from __future__ import annotations

NICHES: tuple[str, ...] = (
    "fashion",
    "beauty",
    "fitness",
    "food",
    "travel",
    "gaming",
    "technology",
    "finance",
    "parenting",
    "home",
    "pets",
    "music",
    "sports",
    "education",
    "automotive",
    "wellness",
)

# Niches whose audiences overlap; used by the demo world and by the features.
RELATED_NICHES: dict[str, tuple[str, ...]] = {
    "fashion": ("beauty", "travel"),
    "beauty": ("fashion", "wellness"),
    "fitness": ("wellness", "sports", "food"),
    "food": ("wellness", "travel", "home"),
    "travel": ("food", "fashion"),
    "gaming": ("technology", "music"),
    "technology": ("gaming", "education", "finance"),
    "finance": ("technology", "education"),
    "parenting": ("home", "education", "food"),
    "home": ("parenting", "pets", "food"),
    "pets": ("home", "parenting"),
    "music": ("gaming", "fashion"),
    "sports": ("fitness", "automotive"),
    "education": ("technology", "parenting", "finance"),
    "automotive": ("sports", "technology"),
    "wellness": ("fitness", "beauty", "food"),
}

PLATFORMS: tuple[str, ...] = (
    "instagram",
    "tiktok",
    "youtube",
    "twitch",
    "x",
    "linkedin",
    "pinterest",
    "podcast",
)

# Markets the marketplace operates in (ISO 3166-1 alpha-2).
COUNTRIES: tuple[str, ...] = (
    "US", "GB", "CA", "AU", "DE", "FR", "ES", "IT", "NL", "SE",
    "PL", "BR", "MX", "IN", "JP", "KR", "ZA", "NG", "AE", "IE",
)  # fmt: skip

COLLABORATION_STATUSES: tuple[str, ...] = (
    "proposed",
    "accepted",
    "active",
    "completed",
    "cancelled",
)
# Collaborations in these states are still under way (a pair has at most one).
OPEN_STATUSES: tuple[str, ...] = ("proposed", "accepted", "active")
# Collaborations in these states can be rated.
FINISHED_STATUSES: tuple[str, ...] = ("completed", "cancelled")

COMPLETION_STATUSES: tuple[str, ...] = (
    "completed",
    "partially_completed",
    "cancelled",
    "disputed",
)

RATER_SIDES: tuple[str, ...] = ("influencer", "company")

ROLES: tuple[str, ...] = ("admin", "member")

SUCCESS_FACTORS: dict[str, str] = {
    "audience_fit": "The audience matched the brand",
    "clear_brief": "The brief was clear",
    "creative_freedom": "Enough creative freedom",
    "on_time": "Delivered on time",
    "communication": "Good communication",
    "fair_budget": "Fair budget for the work",
    "engagement": "Strong audience engagement",
    "values_fit": "Shared values",
}

RATING_MIN, RATING_MAX = 1, 5
FEEDBACK_MAX_LENGTH = 2000


def label(value: str) -> str:
    """Return a human label for ``partially_completed`` -> ``Partially completed``."""
    return value.replace("_", " ").capitalize()


def choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    """Return ``(value, label)`` pairs for a select field."""
    return [(value, label(value)) for value in values]
