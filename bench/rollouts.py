"""Simulated staged rollouts on a seed-demo world: how early do the gates stop harm?

Runs ``webapp.rollouts.simulation`` (its docstring states the modelling
assumptions): a candidate 10 points worse in success rate, the same candidate
logging miscalibrated probabilities (+10 points, as confident as the
baseline), and a candidate 5 points better, each rolled out with every gate
(leading, estimated, realised) and with the realised gate alone, on the same
worlds, and again with the rollout option that the last step waits until
the candidate is shown no worse (``with_proof_before_promoting``). Reported:
days and candidate outcomes until the rollback (or the
completion), and which gate decided; and, world by world, how the early gates'
ending compares with the realised gate's alone on the harmful candidate
(``paired_harmful``): where both roll back, how many days earlier; where the
realised gate alone promotes the harmful candidate instead, how many days
before that promotion the early gates had stopped it.

``python -m bench.rollouts`` runs this part alone and prints JSON.
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

import numpy as np

from webapp.rollouts.simulation import Setup, compare

SCENARIOS = {
    "harmful_10_points": (-0.10, 0.0),
    "harmful_miscalibrated": (-0.10, 0.10),
    "better_5_points": (0.05, 0.0),
}


def simulated_rollouts(runs: int = 10) -> dict[str, Any]:
    """Run every scenario ``runs`` times; summaries only (no per-run detail)."""
    started = time.perf_counter()
    setup = Setup()
    found: dict[str, Any] = {
        "setup": {
            "steps": list(setup.steps),
            "hold_days": setup.hold_days,
            "min_outcomes": setup.min_outcomes,
            "proposals_per_day": round(setup.per_day, 1),
            "brands": setup.n_companies,
            "horizon_days": setup.days,
        }
    }
    for name, (shift, bias) in SCENARIOS.items():
        result = compare(setup, shift, runs, bias)
        detail = result.pop("runs_detail")
        found[name] = result
        if name == "harmful_10_points":
            found["paired_harmful"] = paired(detail)
    found["days_earlier_median"] = found["paired_harmful"]["days_earlier_median"]
    # The same worlds with the rollout option that the last step waits until
    # the candidate is shown no worse (``gates.shown_no_worse``).
    proving = dataclasses.replace(setup, prove=True)
    found["with_proof_before_promoting"] = {}
    for name, (shift, bias) in SCENARIOS.items():
        result = compare(proving, shift, runs, bias)
        detail = result.pop("runs_detail")
        if name == "harmful_10_points":
            result["paired"] = paired(detail)
        found["with_proof_before_promoting"][name] = result
    found["seconds"] = round(time.perf_counter() - started, 1)
    return found


def paired(detail: dict[str, list[dict]]) -> dict[str, Any]:
    """Compare, world by world, the early gates' ending with the realised gate's alone.

    ``days_earlier_median`` counts only worlds where both rolled back;
    ``promoted_by_realised_only`` counts worlds where the realised gate alone
    let the harmful candidate reach 100 % while the early gates had rolled it
    back, with the median days between that rollback and that promotion.
    """
    both, before_promotion = [], []
    for early, late in zip(
        detail["with_early_gates"], detail["realised_only"], strict=True
    ):
        if early["action"] != "rollback":
            continue
        if late["action"] == "rollback":
            both.append(late["day"] - early["day"])
        elif late["action"] == "complete":
            before_promotion.append(late["day"] - early["day"])
    return {
        "worlds": len(detail["with_early_gates"]),
        "both_rolled_back": len(both),
        "days_earlier_median": round(float(np.median(both)), 2) if both else None,
        "promoted_by_realised_only": len(before_promotion),
        "days_before_that_promotion_median": (
            round(float(np.median(before_promotion)), 2) if before_promotion else None
        ),
        "stuck_percent": sorted(
            {
                run["percent"]
                for run in detail["with_early_gates"]
                if run["action"] == "still running"
            }
        ),
    }


if __name__ == "__main__":
    print(json.dumps(simulated_rollouts(), indent=2))
