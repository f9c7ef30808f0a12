"""Simulated experiments on a seed-demo world: A/A calibration, power, CUPED, interleaving.

The world is drawn by seed-demo's generator (``webapp.experiments.demo_world``):
600 creators, 80 brands, every pair's true success chance at the offered
budget, and two versions ranking it (``profile`` and ``no_engagement``). A
simulated brand sees a ranked list of 10 and takes up position j with chance
``reach / (j + 1)``; two behaviours are measured: ``browsing`` (reach 1, a
brand weighs every shown creator, several events per brand) and ``proposing``
(reach 0.25, about 0.7 proposals per list, closer to how brands use Matchloop).

Reported: the A/A false-positive rate (one version against itself), the power
of an A/B test at its planned sample size for the true lift between the two
versions, the CUPED variance reduction with each brand's pre-period success as
covariate, and the units each design needs to pick the truly better version
95 % of the time.

``python -m bench.experiments`` runs this part alone (about a minute).
"""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np

from webapp.experiments import power
from webapp.experiments.demo_world import demo_ranking_world
from webapp.experiments.simulation import (
    ab_runs,
    default_examination,
    expected_success_rate,
    significant_share,
    simulate_cuped,
    units_needed,
)

ALPHA = 0.05
LIST_LENGTH = 10
BEHAVIOURS = {"browsing": 1.0, "proposing": 0.25}


def behaviour_figures(
    world, reach: float, runs: int, aa_runs: int = 10_000
) -> dict[str, Any]:
    """Measure every figure for one brand behaviour."""
    examination = reach * default_examination(LIST_LENGTH)
    better, worse = world.better_and_worse()
    good, weak = world.rankings[better], world.rankings[worse]
    rates = {
        name: expected_success_rate(
            world.success_prob, world.rankings[name], examination
        )
        for name in world.rankings
    }
    aa_units = 2_000
    aa_a, aa_b = ab_runs(
        world.success_prob,
        good,
        good,
        2 * aa_units,
        aa_runs,
        np.random.default_rng(11),
        examination,
    )
    aa_rate, _ = significant_share(aa_a, aa_b, aa_units)
    lift = rates[better] / rates[worse] - 1
    planned = power.rate_sample_size(rates[worse], lift)
    ab_a, ab_b = ab_runs(
        world.success_prob,
        weak,
        good,
        2 * planned,
        runs,
        np.random.default_rng(12),
        examination,
    )
    observed_power, right_sign = significant_share(ab_a, ab_b, planned)
    cuped = simulate_cuped(
        world.success_prob,
        weak,
        good,
        2 * planned,
        np.random.default_rng(13),
        examination,
    )
    needed = {
        design: units_needed(
            design,
            world.success_prob,
            weak,
            good,
            reps=400,
            seed=1,
            examination=examination,
        )
        for design in ("ab", "interleaving")
    }
    return {
        "reach": reach,
        "expected_success_rate": {k: round(v, 4) for k, v in rates.items()},
        "truly_better": better,
        "true_relative_lift": round(lift, 4),
        "aa": {
            "runs": aa_runs,
            "units_per_arm": aa_units,
            "false_positive_rate": aa_rate,
        },
        "ab_power": {
            "runs": runs,
            "planned_units_per_arm": planned,
            "significant_share": observed_power,
            "right_sign_share": right_sign,
        },
        "cuped_variance_reduction": round(cuped["variance_reduction"], 4),
        "units_needed_95": needed,
        "interleaving_advantage": (
            round(needed["ab"] / needed["interleaving"], 2)
            if needed["ab"] and needed["interleaving"]
            else None
        ),
    }


def simulated_experiments(runs: int = 2_000) -> dict[str, Any]:
    """Return the figures of both behaviours on one seed-demo world, with timing."""
    started = time.perf_counter()
    world = demo_ranking_world(600, 80, seed=42)
    figures = {
        name: behaviour_figures(world, reach, runs)
        for name, reach in BEHAVIOURS.items()
    }
    return {
        "world": {
            "creators": 600,
            "brands": 80,
            "seed": 42,
            "list_length": LIST_LENGTH,
        },
        **figures,
        "seconds": round(time.perf_counter() - started, 1),
    }


if __name__ == "__main__":
    print(json.dumps(simulated_experiments(), indent=2))
