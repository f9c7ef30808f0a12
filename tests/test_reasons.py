"""Match reasons read true of the pair: for every feature, value and sign."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from webapp.learning.features import FEATURE_NAMES
from webapp.learning.reasons import reason
from webapp.serving import fallback
from webapp.serving.predict import factors


def ln(x: float) -> float:
    return math.log(x)


def log10p(x: float) -> float:
    return math.log10(x + 1)


# feature -> [(encoded value, the sentence that is true of it), ...]: at least a
# low / "no" value and a high / "yes" value for every feature.
TRUE_SENTENCES: dict[str, list[tuple[float, str]]] = {
    "niche_primary_match": [
        (0.0, "Main niche is not one the brand targets"),
        (1.0, "Main niche is one the brand targets"),
    ],
    "niche_secondary_match": [
        (0.0, "No secondary niche is one the brand targets"),
        (1.0, "A secondary niche is one the brand targets"),
    ],
    "niche_related_match": [
        (0.0, "Niche is not related to the brand's targets"),
        (1.0, "Niche is related to the brand's targets"),
    ],
    "brand_fit": [
        (0.0, "No niche in common with the brand"),
        (0.5, "Niches overlap the brand's by 50 %"),
        (1.0, "Same niches as the brand"),
    ],
    "audience_country_match": [
        (0.0, "Audience country is not a brand target market"),
        (1.0, "Audience country is a brand target market"),
    ],
    "location_match": [
        (0.0, "Based outside the brand's country"),
        (1.0, "Based in the brand's country"),
    ],
    "log_followers": [
        (log10p(5_000), "Small audience (5k followers)"),
        (log10p(40_000), "Mid-sized audience (40k followers)"),
        (log10p(1_500_000), "Large audience (1.5M followers)"),
    ],
    "log_engagement": [
        (math.log10(0.01), "Low engagement (1.0 %)"),
        (math.log10(0.03), "Moderate engagement (3.0 %)"),
        (math.log10(0.08), "High engagement (8.0 %)"),
    ],
    "content_quality": [
        (4.0, "Low content quality (4.0/10)"),
        (8.5, "High content quality (8.5/10)"),
    ],
    "log_response_hours": [
        (ln(0.25), "Fast replies (15 min)"),
        (ln(2), "Fast replies (about 2 h)"),
        (ln(8), "Replies within a day (about 8 h)"),
        (ln(30), "Slow replies (about 30 h)"),
        (ln(96), "Slow replies (about 4 days)"),
    ],
    "posts_per_week": [
        (1.0, "Posts rarely (1.0 a week)"),
        (3.5, "Posts regularly (3.5 a week)"),
        (6.0, "Posts often (6.0 a week)"),
    ],
    "platform_count": [
        (1.0, "Active on 1 platform"),
        (3.0, "Active on 3 platforms"),
    ],
    "influencer_age_years": [
        (1 / 365.25, "Influencer joined 1 day ago"),
        (30 / 365.25, "Influencer joined 30 days ago"),
        (3.0, "Influencer joined 3.0 years ago"),
    ],
    "company_age_years": [
        (0.0, "Brand joined today"),
        (0.5, "Brand joined 6 months ago"),
        (2.5, "Brand joined 2.5 years ago"),
    ],
    "log_budget_ratio": [
        (ln(0.5), "Budget pays for less than one post (50 % of the rate)"),
        (ln(3), "Budget pays for about 3.0 posts at the creator's rate"),
    ],
    "budget_shortfall": [
        (ln(0.6), "Budget is 40 % short of one post's rate"),
        (0.0, "Budget covers at least one post at the creator's rate"),
    ],
    "log_budget": [
        (log10p(500), "Small budget ($500)"),
        (log10p(25_000), "Large budget ($25,000)"),
    ],
    "influencer_past_collaborations": [
        (math.log1p(0), "Influencer has no collaborations so far"),
        (math.log1p(1), "Influencer has 1 collaboration so far"),
        (math.log1p(12), "Influencer has 12 collaborations so far"),
    ],
    "influencer_rated_outcomes": [
        (math.log1p(0), "Influencer has no rated collaborations so far"),
        (math.log1p(4), "Influencer has 4 rated collaborations so far"),
    ],
    "influencer_success_rate": [
        (0.3, "Influencer's estimated success rate is low (30 %)"),
        (0.5, "Influencer's estimated success rate is average (50 %)"),
        (0.75, "Influencer's estimated success rate is high (75 %)"),
    ],
    "company_past_collaborations": [
        (math.log1p(0), "Brand has no collaborations so far"),
        (math.log1p(1_500), "Brand has 1,500 collaborations so far"),
    ],
    "company_success_rate": [
        (0.3, "Brand's estimated satisfaction rate is low (30 %)"),
        (0.7, "Brand's estimated satisfaction rate is high (70 %)"),
    ],
    "company_partner_rating": [
        (2.5, "Brand's estimated rating by creators is low (2.5/5)"),
        (4.5, "Brand's estimated rating by creators is high (4.5/5)"),
    ],
    "pair_past_collaborations": [
        (0.0, "Have not worked together before"),
        (1.0, "Worked together once before"),
        (3.0, "Worked together 3 times"),
    ],
    "shared_partners": [
        (math.log1p(0), "No past partner in common"),
        (math.log1p(2), "2 past partners in common"),
    ],
    "niche_pair_success_rate": [
        (0.3, "Estimated success rate of this niche with this industry is low (30 %)"),
        (0.7, "Estimated success rate of this niche with this industry is high (70 %)"),
    ],
    "influencer_cancellations": [
        (
            math.log1p(0),
            "No accepted collaborations cancelled by the influencer"
            " (or by an unrecorded side) so far",
        ),
        (
            math.log1p(2),
            "2 accepted collaborations cancelled by the influencer"
            " (or by an unrecorded side) so far",
        ),
    ],
    "company_cancellations": [
        (
            math.log1p(0),
            "No accepted collaborations cancelled by the brand"
            " (or by an unrecorded side) so far",
        ),
        (
            math.log1p(1),
            "1 accepted collaboration cancelled by the brand"
            " (or by an unrecorded side) so far",
        ),
    ],
    "influencer_disputes": [
        (math.log1p(0), "Influencer has no disputes so far"),
        (math.log1p(3), "Influencer has 3 disputes so far"),
    ],
    "company_disputes": [
        (math.log1p(0), "Brand has no disputes so far"),
        (math.log1p(1), "Brand has 1 dispute so far"),
    ],
    "follower_growth": [
        (0.0, "No follower change since the previous profile"),
        (math.log(3.0), "Followers grew 200 % since the previous profile"),
        (math.log(0.5), "Followers fell 50 % since the previous profile"),
    ],
    "engagement_residual": [
        (math.log10(0.5), "Engagement below what the audience size predicts (0.50x)"),
        (0.0, "Engagement about what the audience size predicts (1.00x)"),
        (math.log10(2.0), "Engagement above what the audience size predicts (2.00x)"),
    ],
}
CASES = [
    (feature, value, sentence)
    for feature, rows in TRUE_SENTENCES.items()
    for value, sentence in rows
]


def test_every_feature_has_true_sentences_for_low_and_high_values():
    assert set(TRUE_SENTENCES) == set(FEATURE_NAMES)
    assert all(len(rows) >= 2 for rows in TRUE_SENTENCES.values())


@pytest.mark.parametrize("contribution", [0.2, -0.2], ids=["helps", "hurts"])
@pytest.mark.parametrize(("feature", "value", "sentence"), CASES)
def test_a_reason_is_true_of_its_value_whatever_its_sign(
    feature, value, sentence, contribution
):
    assert reason(feature, value, contribution) == sentence


def test_the_two_values_of_a_feature_never_read_alike():
    for feature, rows in TRUE_SENTENCES.items():
        sentences = [reason(feature, value, 0.1) for value, _ in rows]
        assert len(set(sentences)) == len(sentences), feature


def test_a_feature_core_does_not_know_says_its_name_value_and_effect():
    assert reason("plugin_score", 0.42, 0.1) == "Plugin score of 0.42 raises the score"
    assert reason("plugin_score", 0.42, -0.1) == "Plugin score of 0.42 lowers the score"


def test_factors_carry_the_true_reason_as_their_label():
    row = np.zeros(len(FEATURE_NAMES))
    contribution = np.zeros(len(FEATURE_NAMES))
    primary = FEATURE_NAMES.index("niche_primary_match")
    contribution[primary] = -0.4
    [top] = factors(row, contribution, top=1)
    assert top == {
        "feature": "niche_primary_match",
        "label": "Main niche is not one the brand targets",
        "value": 0.0,
        "contribution": -0.4,
    }


def test_the_page_and_the_api_say_a_mismatched_niche_is_not_targeted(
    client, auth, api, world, monkeypatch
):
    """INF-B's gaming niche is not one CO-A (fitness, wellness) targets."""
    primary = FEATURE_NAMES.index("niche_primary_match")
    real_explain = fallback.explain

    def niche_hurts(rows):
        contribution = real_explain(rows) * 0.01
        contribution[:, primary] = -0.5
        return contribution

    monkeypatch.setattr(fallback, "explain", niche_hurts)
    auth.login("brand@example.com")
    page = client.get("/matches/influencers").get_data(as_text=True)
    bad = re.search(r'<span class="why-bad">(.*?)</span>\s*</td>', page, re.S)
    assert bad, "the ranked row shows what counts against it"
    assert "Main niche is not one the brand targets" in bad.group(1)
    assert "Main niche is one the brand targets" not in page

    from api_support import issue_token

    token = issue_token(world["brand"])
    answer = api.call(
        "GET", "/recommendations?company_id=CO-A", 200, token=token
    ).get_json()
    [first] = answer["recommendations"]
    factor = first["factors"][0]
    assert (factor["feature"], factor["value"]) == ("niche_primary_match", 0.0)
    assert factor["label"] == "Main niche is not one the brand targets"
