"""Simulated staged rollouts on a seed-demo world: how early do the gates stop harm?

Runs ``webapp.rollouts.simulation`` (its docstring states the modelling
assumptions): a candidate 10 points worse in success rate, the same candidate
logging miscalibrated probabilities (+10 points, as confident as the
baseline), and a candidate 5 points better, each rolled out with every gate
(leading, estimated, realised) and with the realised gate alone, on the same
worlds. Reported: days and candidate outcomes until the rollback (or the
completion), and which gate decided.

``python -m bench.rollouts`` runs this part alone and prints JSON.
"""

from __future__ import annotations

import json
import time
from typing import Any

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
        result.pop("runs_detail")
        found[name] = result
    harmful = found["harmful_10_points"]
    early = harmful["with_early_gates"].get("median_days")
    late = harmful["realised_only"].get("median_days")
    found["days_earlier_median"] = (
        None if early is None or late is None else round(late - early, 2)
    )
    found["seconds"] = round(time.perf_counter() - started, 1)
    return found


if __name__ == "__main__":
    print(json.dumps(simulated_rollouts(), indent=2))
