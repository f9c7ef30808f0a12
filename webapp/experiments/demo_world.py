"""A ranking world drawn by seed-demo's own generator, for simulated experiments.

``seed-demo`` draws influencers and brands (``webapp.marketplace.demo``) and a
hidden success probability for each collaboration (``demo.truth``). Here the
same generator draws a marketplace and the true chance of every brand x creator
pair at the budget a match offers (``default_budget``), so a simulated brand
choosing from a ranked list succeeds as the demo world says it would.

Two versions rank it, as two model versions would: ``profile`` scores what the
stored profiles say (``truth.profile_logit``: the true logit without the hidden
reliabilities, bought audiences and noise, engagement believed up to a
plausible level) and ``no_engagement`` the same without engagement (a version
blind to one signal). Which is truly better is
decided by their exact expected success rates, not assumed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from webapp.experiments.simulation import (
    default_examination,
    expected_success_rate,
    order_by_scores,
)
from webapp.learning.features import default_budget
from webapp.marketplace.demo.collaborations import Pairs
from webapp.marketplace.demo.profiles import make_companies, make_influencers
from webapp.marketplace.demo.truth import compute_truth, profile_logit


@dataclass(frozen=True)
class RankingWorld:
    """True chances ``success_prob[brand, creator]`` and two versions' rankings."""

    success_prob: np.ndarray
    rankings: dict[str, np.ndarray]

    def expected_rates(self, length: int = 10) -> dict[str, float]:
        """Return each version's exact expected success rate over every brand."""
        examination = default_examination(length)
        return {
            name: expected_success_rate(self.success_prob, ranking, examination)
            for name, ranking in self.rankings.items()
        }

    def better_and_worse(self, length: int = 10) -> tuple[str, str]:
        """Return the names of the truly better and the worse version."""
        rates = self.expected_rates(length)
        better = max(rates, key=rates.get)
        return better, min(rates, key=rates.get)


def demo_ranking_world(
    n_influencers: int = 600,
    n_companies: int = 80,
    seed: int = 42,
    today: date | None = None,
) -> RankingWorld:
    """Draw a seed-demo marketplace and rank every creator for every brand twice."""
    rng = np.random.default_rng(seed)
    today = today or date.today()
    influencers = make_influencers(rng, n_influencers, today)
    companies = make_companies(rng, n_companies, today)
    creator = np.tile(np.arange(n_influencers), n_companies)
    brand = np.repeat(np.arange(n_companies), n_influencers)
    n = len(creator)
    pairs = Pairs(
        influencer=creator,
        company=brand,
        proposed=np.full(n, np.datetime64(today, "D")),
        age_days=np.zeros(n),
        budget=default_budget(influencers.rate[creator], companies.budget[brand]),
        finished=np.zeros(n, dtype=bool),
        open_status=np.full(n, "proposed"),
    )
    truth = compute_truth(rng, influencers, companies, pairs)
    shape = (n_companies, n_influencers)
    return RankingWorld(
        success_prob=truth.probability.reshape(shape),
        rankings={
            "profile": order_by_scores(profile_logit(truth).reshape(shape)),
            "no_engagement": order_by_scores(
                profile_logit(truth, engagement=False).reshape(shape)
            ),
        },
    )
