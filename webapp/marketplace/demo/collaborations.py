"""Who works with whom, when, and for how much: the demo's collaboration pairs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from webapp.marketplace.demo.profiles import (
    Companies,
    Influencers,
    country_match,
    niche_fit,
)
from webapp.marketplace.demo.timeline import Timeline

WINDOW_DAYS = 548  # collaborations were proposed over the last ~18 months
FINISHED_AFTER_DAYS = 45  # older collaborations are completed or cancelled
CANDIDATES = 20  # influencers a brand looks at before proposing to one


@dataclass
class Pairs:
    """Collaboration columns, sorted by proposal date."""

    influencer: np.ndarray
    company: np.ndarray
    proposed: np.ndarray  # datetime64[D]
    age_days: np.ndarray
    budget: np.ndarray
    finished: np.ndarray
    open_status: np.ndarray  # proposed/accepted/active for unfinished ones
    # Rows of the profile states at the proposal (Timeline.states); None: the
    # profiles never change, the entity rows are the states.
    influencer_state: np.ndarray | None = None
    company_state: np.ndarray | None = None

    def influencer_rows(self) -> np.ndarray:
        """Return the rows of each collaboration's creator in the state table."""
        return (
            self.influencer if self.influencer_state is None else self.influencer_state
        )

    def company_rows(self) -> np.ndarray:
        """Return the rows of each collaboration's brand in the state table."""
        return self.company if self.company_state is None else self.company_state


def proposal_dates(rng: np.random.Generator, n: int, today: date) -> np.ndarray:
    """Return sorted proposal dates; volume grows to twice its start by today."""
    x = np.sort(np.sqrt(1.0 + 3.0 * rng.random(n)) - 1.0)
    start = np.datetime64(today - timedelta(days=WINDOW_DAYS), "D")
    return start + np.rint(x * WINDOW_DAYS).astype("timedelta64[D]")


def sample_joined_before(
    rng: np.random.Generator,
    joined: np.ndarray,
    weights: np.ndarray,
    dates: np.ndarray,
    per_row: int,
) -> np.ndarray:
    """Draw ``per_row`` weighted indices per date among profiles joined by then.

    ``joined`` is sorted, so the eligible profiles are a prefix of the array and a
    draw is one binary search in the cumulative weights. The first profile joined
    before the collaboration window opened, so the prefix is never empty.
    """
    cumulative = np.cumsum(weights)
    eligible = np.searchsorted(joined, dates, side="right")
    last = np.maximum(eligible - 1, 0)[:, None]
    u = rng.random((len(dates), per_row)) * cumulative[last]
    return np.minimum(np.searchsorted(cumulative, u, side="right"), last)


def choose_influencers(
    rng: np.random.Generator,
    inf: Influencers,
    comp: Companies,
    company,
    dates,
    states: tuple[Timeline, Timeline] | None = None,
) -> np.ndarray:
    """Return the influencer each brand picks: fit matters, but not always.

    With ``states``, brands judge each candidate by the profiles as they stood
    on the day (``inf`` and ``comp`` are then the entity tables).
    """
    candidates = sample_joined_before(rng, inf.joined, inf.activity, dates, CANDIDATES)
    c = np.repeat(company[:, None], CANDIDATES, axis=1)
    i_rows, c_rows, inf_table, comp_table = candidates, c, inf, comp
    if states is not None:
        day = np.repeat(dates[:, None], CANDIDATES, axis=1).ravel()
        i_rows = states[0].at(candidates.ravel(), day).reshape(candidates.shape)
        c_rows = states[1].at(c.ravel(), day).reshape(c.shape)
        inf_table, comp_table = states[0].states, states[1].states
    budget_fit = np.abs(
        np.log(comp_table.budget[c_rows] / (3.0 * inf_table.rate[i_rows]))
    )
    score = (
        3.0 * niche_fit(inf_table, comp_table, i_rows, c_rows)
        + 2.0 * country_match(inf_table, comp_table, i_rows, c_rows)
        - 0.5 * budget_fit
        + rng.gumbel(size=candidates.shape)
    )
    return candidates[np.arange(len(dates)), np.argmax(score, axis=1)]


def budgets(rng: np.random.Generator, rate: np.ndarray, company_budget: np.ndarray):
    """Return budgets near rate x 1-6 posts, capped by the brand, sometimes low."""
    n = len(rate)
    budget = rate * rng.integers(1, 7, n) * rng.lognormal(0.0, 0.25, n)
    budget = np.minimum(budget, company_budget * rng.lognormal(0.0, 0.3, n))
    lowball = rng.random(n) < 0.08
    budget = np.where(lowball, budget * rng.uniform(0.2, 0.7, n), budget)
    return np.maximum(budget, 20.0).round(2)


def open_statuses(rng: np.random.Generator, age_days: np.ndarray) -> np.ndarray:
    """Return proposed/accepted/active for running collaborations, by age."""
    u = rng.random(len(age_days))
    proposed_share = np.select([age_days < 7, age_days < 21], [0.7, 0.25], 0.1)
    accepted_share = np.select([age_days < 7, age_days < 21], [0.3, 0.45], 0.25)
    return np.where(
        u < proposed_share,
        "proposed",
        np.where(u < proposed_share + accepted_share, "accepted", "active"),
    )


def make_pairs(
    rng: np.random.Generator,
    inf: Influencers,
    comp: Companies,
    n: int,
    today: date,
    states: tuple[Timeline, Timeline] | None = None,
) -> Pairs:
    """Draw ``n`` collaborations between existing profiles.

    :param states: the creators' and brands' timelines; without them profiles
        never change after joining.
    """
    dates = proposal_dates(rng, n, today)
    company = sample_joined_before(rng, comp.joined, comp.activity, dates, 1)[:, 0]
    influencer = choose_influencers(rng, inf, comp, company, dates, states)
    age = (np.datetime64(today, "D") - dates).astype(np.int64)
    i_state = c_state = None
    rate, brand_budget = inf.rate[influencer], comp.budget[company]
    if states is not None:
        i_state = states[0].at(influencer, dates)
        c_state = states[1].at(company, dates)
        rate = states[0].states.rate[i_state]
        brand_budget = states[1].states.budget[c_state]
    return Pairs(
        influencer=influencer,
        company=company,
        proposed=dates,
        age_days=age,
        budget=budgets(rng, rate, brand_budget),
        finished=age > FINISHED_AFTER_DAYS,
        open_status=open_statuses(rng, age),
        influencer_state=i_state,
        company_state=c_state,
    )
