"""A staged rollout simulated on a seed-demo world: how early do the gates stop harm?

The world is drawn by seed-demo's own generator (``webapp.marketplace.demo``):
creators, brands, collaboration pairs with their budgets (``make_pairs``) and
each pair's hidden success chance (``compute_truth``). During the rollout,
proposals arrive at the demo's current daily volume (``demo_daily_volume``: the
generator's proposal dates grow to 4/3 of their mean rate by today, so
``n_collaborations`` * 4/3 / ``WINDOW_DAYS`` a day, about 24 for seed-demo's
10,000), all dated at midnight as the demo dates them.

What happens to each collaboration, and when, is the demo's generator again,
drawn once for each arm on the same pairs (``sample_results`` and
``status_history``): success with the arm's chance; a failure is cancelled
3-40 days after the proposal with the demo's odds, else completed 14-60 days
after it; acceptance falls in the first 2-40 % of that span; the brand rates
within 14 days of the end (88 % of collaborations; cancelled ones too, 1-2
stars). The success label is the app's rule (brand rating >= 4, completed).

Modelling assumptions (beyond the generator):

- the baseline arm's collaborations succeed with the demo's true chance, the
  candidate's with that chance + ``shift`` (clipped to 1-99 %): "10 points
  worse" is ``shift = -0.10`` on every pair the candidate serves;
- each version is calibrated: it logs, for each of its collaborations, the
  chance that collaboration truly has under it (``candidate_bias`` adds a
  miscalibration to the candidate's logged probabilities, to show the
  calibration check at work);
- the rollout unit is the brand, bucketed once (a uniform draw per brand: a
  brand in at 5 % stays in at 25 %), and a proposal is credited to the arm its
  brand was in when it was proposed;
- the demo world has no declined proposals, so the acceptance rate carries no
  signal here; the leading evidence is the cancellation rate;
- nothing fails to serve (error rates are zero in both arms).

Ticks run every ``tick_hours`` through ``evaluation.decide``, the rollout
job's own decision function, once with every gate and once with the realised
gate alone. Reported per run: the day and the number of candidate outcomes
rated (and proposals made) when it was rolled back or completed, and which
gate decided.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from webapp.experiments.stats import RatioMoments
from webapp.marketplace.demo.collaborations import WINDOW_DAYS, make_pairs
from webapp.marketplace.demo.history import status_history
from webapp.marketplace.demo.outcomes import sample_results
from webapp.marketplace.demo.profiles import make_companies, make_influencers
from webapp.marketplace.demo.truth import compute_truth
from webapp.rollouts import evaluation, gates
from webapp.rollouts.bucketing import ARMS, BASELINE, CANDIDATE
from webapp.rollouts.gates import ArmLeading, ArmScores, Evidence
from webapp.rollouts.guardrails import ArmNumbers

START = datetime(2026, 1, 5)
SUCCESS_MIN_RATING = 4  # the app's default SUCCESS_MIN_RATING
DEMO_COLLABORATIONS = 10_000  # seed-demo's default size


def demo_daily_volume(n_collaborations: int = DEMO_COLLABORATIONS) -> float:
    """Return the proposals a day at the end of a seed-demo world of that size."""
    return n_collaborations * 4 / 3 / WINDOW_DAYS


@dataclass(frozen=True)
class Setup:
    """The simulated rollout's schedule and the marketplace around it."""

    steps: tuple[float, ...] = (1, 5, 10, 25, 50, 100)
    hold_days: float = 2.0
    min_outcomes: int = 20
    tolerance: float = 0.05
    alpha: float = 0.05
    calibration_tolerance: float = gates.DEFAULT_CALIBRATION_TOLERANCE
    per_day: float = demo_daily_volume()
    days: int = 365
    tick_hours: int = 6
    n_influencers: int = 2000
    n_companies: int = 300
    # The last step waits until the candidate is shown no worse (a rollout's option).
    prove: bool = False


@dataclass(frozen=True)
class Arm:
    """Each collaboration as it would go under one arm (arrays over collaborations)."""

    probability: np.ndarray  # the true chance under this arm
    logged: np.ndarray  # what the arm's version logged
    accepted_at: np.ndarray  # seconds from START, inf when never
    cancelled_at: np.ndarray
    rated_at: np.ndarray  # the brand's rating, inf when unrated
    rating: np.ndarray
    success: np.ndarray


@dataclass(frozen=True)
class World:
    """The rollout's proposals: when, which brand, and both arms' potential outcomes."""

    proposed_at: np.ndarray  # seconds from START
    brand: np.ndarray
    brand_draw: np.ndarray  # per brand, uniform: in the candidate at share > draw
    arms: dict[str, Arm]


def seconds(moments: np.ndarray) -> np.ndarray:
    """Return datetime64 moments as seconds after START (inf for NaT)."""
    out = (moments.astype("datetime64[s]") - np.datetime64(START, "s")).astype(float)
    return np.where(np.isnat(moments), np.inf, out)


def arm_outcomes(rng, pairs, truth, probability, bias: float, far: datetime) -> Arm:
    """Draw what happens to every collaboration when it runs with ``probability``."""
    arm_truth = dataclasses.replace(truth, probability=probability)
    results = sample_results(rng, pairs, arm_truth, far)
    history = status_history(rng, pairs, results, far)
    brand = results.ratings[0]
    n = len(probability)
    rated_at, rating = np.full(n, np.inf), np.zeros(n)
    completed = np.zeros(n, dtype=bool)
    rated_at[brand.collaboration] = seconds(brand.rated_at)
    rating[brand.collaboration] = brand.rating
    completed[brand.collaboration] = brand.completion == "completed"
    success = (
        (rating >= SUCCESS_MIN_RATING) & completed & (results.status == "completed")
    )
    return Arm(
        probability=probability,
        logged=np.clip(probability + bias, 0.001, 0.999),
        accepted_at=seconds(history.times[:, 1]),
        cancelled_at=seconds(history.cancelled_at),
        rated_at=rated_at,
        rating=rating,
        success=success,
    )


def draw_world(
    setup: Setup, shift: float, candidate_bias: float = 0.0, seed: int = 0
) -> World:
    """Draw a seed-demo marketplace and every rollout proposal's two potential paths."""
    rng = np.random.default_rng(seed)
    today = START.date()
    influencers = make_influencers(rng, setup.n_influencers, today)
    companies = make_companies(rng, setup.n_companies, today)
    n = int(round(setup.per_day * setup.days))
    pairs = make_pairs(rng, influencers, companies, n, today)
    truth = compute_truth(rng, influencers, companies, pairs)
    day = np.sort(rng.integers(0, setup.days, n))
    proposed = np.datetime64(today, "D") + day.astype("timedelta64[D]")
    pairs = dataclasses.replace(
        pairs,
        proposed=proposed,
        age_days=np.full(n, 10 * 365),
        finished=np.ones(n, dtype=bool),
    )
    far = START + timedelta(days=setup.days + 400)
    baseline = truth.probability
    candidate = np.clip(baseline + shift, 0.01, 0.99)
    return World(
        proposed_at=day * 86400.0,
        brand=pairs.company,
        brand_draw=rng.random(setup.n_companies),
        arms={
            BASELINE: arm_outcomes(rng, pairs, truth, baseline, 0.0, far),
            CANDIDATE: arm_outcomes(rng, pairs, truth, candidate, candidate_bias, far),
        },
    )


def evidence_at(world: World, on_candidate: np.ndarray, known: int, t: float):
    """Return the Evidence at ``t`` seconds from the first ``known`` proposals.

    Per brand, as the app's evidence is: each proposal is one request (none fails).
    """
    proposed = world.proposed_at[:known] <= t
    brand = world.brand[:known]
    realised, leading, scores = {}, {}, {}
    for side in ARMS:
        arm = world.arms[side]
        mine = proposed & (on_candidate[:known] == (side == CANDIDATE))
        rated = mine & (arm.rated_at[:known] <= t)
        realised[side] = ArmNumbers(
            success=RatioMoments.from_rows(brand[rated], arm.success[:known][rated]),
            rating=RatioMoments.from_rows(brand[rated], arm.rating[:known][rated]),
            errors=RatioMoments.from_rows(brand[mine], np.zeros(int(mine.sum()))),
        )
        accepted = mine & (arm.accepted_at[:known] <= t)
        cancelled = arm.cancelled_at[:known] <= t
        answered = accepted | (mine & cancelled)
        leading[side] = ArmLeading(
            int(mine.sum()),
            acceptance=RatioMoments.from_rows(brand[answered], accepted[answered]),
            cancellation=RatioMoments.from_rows(brand[accepted], cancelled[accepted]),
        )
        scores[side] = ArmScores.of(
            arm.logged[:known][mine],
            brand[mine],
            arm.logged[:known][rated],
            arm.success[:known][rated].astype(float),
            brand[rated],
        )
    return Evidence(realised, leading, scores)


def run_rollout(
    world: World, setup: Setup, kinds: tuple[str, ...] = gates.KINDS
) -> dict:
    """Tick a rollout through ``evaluation.decide`` until it ends or time runs out."""
    index, started = 0, START
    on_candidate = np.zeros(len(world.proposed_at), dtype=bool)
    known = 0
    tick = timedelta(hours=setup.tick_hours)
    now, end = START, START + timedelta(days=setup.days)
    while now < end:
        now += tick
        t = (now - START).total_seconds()
        arriving = int(np.searchsorted(world.proposed_at, t, side="right"))
        share = setup.steps[index] / 100
        brands = world.brand[known:arriving]
        on_candidate[known:arriving] = world.brand_draw[brands] < share
        known = arriving
        schedule = evaluation.Schedule(
            tuple(float(step) for step in setup.steps),
            index,
            started,
            timedelta(days=setup.hold_days),
            setup.min_outcomes,
            setup.tolerance,
            setup.alpha,
            "rollback",
            setup.calibration_tolerance,
            kinds,
            # As store.start fixes it: every brand of the marketplace.
            tuning=setup.n_companies,
            prove=setup.prove,
        )
        rated = candidate_rating_times(world, on_candidate, known, t)

        def numbers_at(moment: datetime, known: int = known) -> Evidence:
            seen = (moment - START).total_seconds()
            return evidence_at(world, on_candidate, known, seen)

        for decision in evaluation.decide(schedule, numbers_at, rated, now):
            if decision.action in ("rollback", "complete"):
                percent = setup.steps[index]
                return ending(decision, on_candidate, known, now, percent)
            if decision.action == "advance":
                index, started = index + 1, decision.at
    return {"action": "still running", "day": setup.days, "percent": setup.steps[index]}


def candidate_rating_times(world, on_candidate, known, t) -> list[datetime]:
    """Return when the candidate's outcomes were rated up to ``t``, in order."""
    times = world.arms[CANDIDATE].rated_at[:known][on_candidate[:known]]
    return [START + timedelta(seconds=float(s)) for s in np.sort(times[times <= t])]


def ending(decision, on_candidate, known, now, percent: float) -> dict:
    """Return how a run ended: when, on how much evidence, decided by which gate."""
    numbers = decision.numbers
    candidate = numbers["candidate"]
    return {
        "action": decision.action,
        "day": round((now - START).total_seconds() / 86400, 2),
        "candidate_outcomes": candidate["outcomes"],
        "candidate_proposals": int(on_candidate[:known].sum()),
        "percent": percent,
        "decided_by": numbers["decided_by"],
    }


def summarise(runs: list[dict]) -> dict:
    """Return the median and range of day and outcomes over runs, and the endings."""
    ended = [run for run in runs if run["action"] in ("rollback", "complete")]
    found = {
        "runs": len(runs),
        "endings": {
            a: sum(r["action"] == a for r in runs) for a in {r["action"] for r in runs}
        },
    }
    if ended:
        days = np.array([run["day"] for run in ended])
        outcomes = np.array([run["candidate_outcomes"] for run in ended])
        found |= {
            "median_days": float(np.median(days)),
            "days_range": [float(days.min()), float(days.max())],
            "median_candidate_outcomes": float(np.median(outcomes)),
            "outcomes_range": [int(outcomes.min()), int(outcomes.max())],
            "decided_by": sorted({k for run in ended for k in run["decided_by"]}),
        }
    return found


def compare(
    setup: Setup, shift: float, runs: int, candidate_bias: float = 0.0, seed: int = 0
) -> dict:
    """Run ``runs`` worlds with every gate and with the realised gate alone."""
    with_gates, realised_only = [], []
    for k in range(runs):
        world = draw_world(setup, shift, candidate_bias, seed + k)
        with_gates.append(run_rollout(world, setup))
        realised_only.append(run_rollout(world, setup, ("realised",)))
    return {
        "shift": shift,
        "candidate_bias": candidate_bias,
        "with_early_gates": summarise(with_gates),
        "realised_only": summarise(realised_only),
        "runs_detail": {"with_early_gates": with_gates, "realised_only": realised_only},
    }
