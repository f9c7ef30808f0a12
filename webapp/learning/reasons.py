"""Turn one feature of a match into a sentence that is true of its value.

A reason states what the feature *is* for this pair ("Main niche is not one the
brand targets", "Slow replies (about 30 h)"); whether it helps or hurts is the
contribution's sign, shown beside it (✓ / ✗). So a reason reads true whatever the
model made of it. Yes/no features say "is" or "is not"; counts give the count;
levels ("fast", "slow") use the fixed bands below, with the figure in brackets.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from webapp.core.formatting import compact, money, noun, percent, plural
from webapp.learning.features import FEATURE_LABELS

# (yes, no): the sentence for a yes/no feature, by value.
YES_NO: dict[str, tuple[str, str]] = {
    "niche_primary_match": (
        "Main niche is one the brand targets",
        "Main niche is not one the brand targets",
    ),
    "niche_secondary_match": (
        "A secondary niche is one the brand targets",
        "No secondary niche is one the brand targets",
    ),
    "niche_related_match": (
        "Niche is related to the brand's targets",
        "Niche is not related to the brand's targets",
    ),
    "audience_country_match": (
        "Audience country is a brand target market",
        "Audience country is not a brand target market",
    ),
    "location_match": (
        "Based in the brand's country",
        "Based outside the brand's country",
    ),
}


def level(value: float, low: float, high: float, words: tuple[str, str, str]) -> str:
    """Return words[0] below ``low``, words[2] from ``high`` on, else words[1]."""
    if value < low:
        return words[0]
    return words[2] if value >= high else words[1]


def count(value: float, log: bool = True) -> int:
    """Return the count a feature encodes (``log1p`` of it, or itself)."""
    return max(round(math.expm1(value) if log else value), 0)


def hours(value: float) -> str:
    """Describe a duration in hours: "15 min", "about 8 h", "about 2 days"."""
    if value < 1:
        return f"{round(value * 60)} min"
    if value < 48:
        return f"about {value:.0f} h"
    return f"about {value / 24:.0f} days"


def age(years: float, who: str) -> str:
    """Describe how long ago an account joined: "Brand joined 2.5 years ago"."""
    days = years * 365.25
    if days < 1:
        return f"{who} joined today"
    if days < 61:
        return f"{who} joined {plural(round(days), 'day')} ago"
    if years < 2:
        return f"{who} joined {plural(round(days / 30.44), 'month')} ago"
    return f"{who} joined {years:.1f} years ago"


def followers(value: float) -> str:
    """log10(followers + 1) -> audience size."""
    n = max(10**value - 1, 0)
    size = level(n, 10_000, 100_000, ("Small", "Mid-sized", "Large"))
    return f"{size} audience ({compact(n)} {noun(round(n), 'follower')})"


def engagement(value: float) -> str:
    """log10(engagement rate) -> engagement level."""
    rate = 10**value
    word = level(rate, 0.015, 0.05, ("Low", "Moderate", "High"))
    return f"{word} engagement ({percent(rate, 1)})"


def quality(value: float) -> str:
    """Content quality on 0-10."""
    word = level(value, 5, 7.5, ("Low", "Fair", "High"))
    return f"{word} content quality ({value:.1f}/10)"


def response(value: float) -> str:
    """ln(response hours, floored at 15 min) -> reply speed."""
    h = math.exp(value)
    word = level(h, 4, 24, ("Fast replies", "Replies within a day", "Slow replies"))
    return f"{word} ({hours(h)})"


def posting(value: float) -> str:
    """Posts per week."""
    word = level(value, 1.5, 5, ("Posts rarely", "Posts regularly", "Posts often"))
    return f"{word} ({value:.1f} a week)"


def platforms(value: float) -> str:
    """Number of platforms."""
    n = count(value, log=False)
    return f"Active on {plural(n, 'platform')}" if n else "No platform listed"


def budget_ratio(value: float) -> str:
    """ln(budget / rate per post) -> posts the budget pays for."""
    posts = math.exp(value)
    if posts < 1:
        return f"Budget pays for less than one post ({percent(posts)} of the rate)"
    return f"Budget pays for about {posts:.1f} posts at the creator's rate"


def shortfall(value: float) -> str:
    """min(ln(budget / rate), 0) -> how far the budget falls short of one post."""
    if value >= 0:
        return "Budget covers at least one post at the creator's rate"
    return f"Budget is {percent(1 - math.exp(value))} short of one post's rate"


def budget(value: float) -> str:
    """log10(budget + 1) -> budget size."""
    amount = max(10**value - 1, 0)
    word = level(amount, 1_000, 20_000, ("Small", "Medium", "Large"))
    return f"{word} budget ({money(amount)})"


def past(who: str, what: str) -> Callable[[float], str]:
    """Return a reason for a log1p count of ``who``'s past ``what``."""

    def reason(value: float) -> str:
        n = count(value)
        return f"{who} has {plural(n, what) if n else 'no ' + what + 's'} so far"

    return reason


def cancellations(who: str) -> Callable[[float], str]:
    """Return a reason for a log1p count of accepted collaborations cancelled by ``who``.

    Says what is counted (``loaders._cancellations``): only collaborations
    cancelled after acceptance, by ``who``'s side or by a side not on record.
    """

    def reason(value: float) -> str:
        n = count(value)
        return (
            f"{plural(n, 'accepted collaboration') if n else 'No accepted collaborations'}"
            f" cancelled by the {who} (or by an unrecorded side) so far"
        )

    return reason


def estimate(subject: str, scale: Callable[[float], str], low: float, high: float):
    """Return a reason for a history estimate shrunk toward a prior (never a count).

    A newcomer's estimate is the prior, so the sentence says "estimated" and
    makes no claim about how many collaborations there were.
    """

    def reason(value: float) -> str:
        word = level(value, low, high, ("low", "average", "high"))
        return f"{subject} is {word} ({scale(value)})"

    return reason


def pair(value: float) -> str:
    """Earlier collaborations of this very pair."""
    n = count(value, log=False)
    if n == 0:
        return "Have not worked together before"
    return "Worked together once before" if n == 1 else f"Worked together {n} times"


def shared(value: float) -> str:
    """log1p of partners both sides worked with."""
    n = count(value)
    return (
        f"{plural(n, 'past partner')} in common" if n else "No past partner in common"
    )


def fit(value: float) -> str:
    """Jaccard overlap of niches."""
    if value <= 0:
        return "No niche in common with the brand"
    if value >= 1:
        return "Same niches as the brand"
    return f"Niches overlap the brand's by {percent(value)}"


def growth(value: float) -> str:
    """log ratio of followers between the last two profiles -> change in percent."""
    change = math.expm1(value)
    if abs(change) < 0.005:
        return "No follower change since the previous profile"
    direction = "grew" if change > 0 else "fell"
    return f"Followers {direction} {percent(abs(change))} since the previous profile"


def engagement_for_size(value: float) -> str:
    """log10(engagement / the engagement the audience size predicts) -> a ratio."""
    ratio = 10**value
    word = level(ratio, 0.8, 1.25, ("below", "about", "above"))
    return f"Engagement {word} what the audience size predicts ({ratio:.2f}x)"


NUMERIC: dict[str, Callable[[float], str]] = {
    "brand_fit": fit,
    "log_followers": followers,
    "log_engagement": engagement,
    "content_quality": quality,
    "log_response_hours": response,
    "posts_per_week": posting,
    "platform_count": platforms,
    "influencer_age_years": lambda v: age(v, "Influencer"),
    "company_age_years": lambda v: age(v, "Brand"),
    "log_budget_ratio": budget_ratio,
    "budget_shortfall": shortfall,
    "log_budget": budget,
    "influencer_past_collaborations": past("Influencer", "collaboration"),
    "influencer_rated_outcomes": past("Influencer", "rated collaboration"),
    "influencer_success_rate": estimate(
        "Influencer's estimated success rate", percent, 0.4, 0.6
    ),
    "company_past_collaborations": past("Brand", "collaboration"),
    "company_success_rate": estimate(
        "Brand's estimated satisfaction rate", percent, 0.4, 0.6
    ),
    "company_partner_rating": estimate(
        "Brand's estimated rating by creators", lambda v: f"{v:.1f}/5", 3.0, 4.0
    ),
    "pair_past_collaborations": pair,
    "shared_partners": shared,
    "niche_pair_success_rate": estimate(
        "Estimated success rate of this niche with this industry", percent, 0.4, 0.6
    ),
    "influencer_cancellations": cancellations("influencer"),
    "company_cancellations": cancellations("brand"),
    "influencer_disputes": past("Influencer", "dispute"),
    "company_disputes": past("Brand", "dispute"),
    "follower_growth": growth,
    "engagement_residual": engagement_for_size,
}


def reason(feature: str, value: float, contribution: float) -> str:
    """Return a sentence about ``feature`` that is true of ``value``.

    ``contribution`` only words features this module does not know (a plugin's
    own), which can say no more than their name and effect.
    """
    if feature in YES_NO:
        yes, no = YES_NO[feature]
        return yes if value >= 0.5 else no
    if feature in NUMERIC:
        return NUMERIC[feature](float(value))
    name = FEATURE_LABELS.get(feature, feature.replace("_", " ").capitalize())
    if contribution == 0:
        return f"{name} of {value:.3g} does not change the score"
    effect = "raises" if contribution > 0 else "lowers"
    return f"{name} of {value:.3g} {effect} the score"
