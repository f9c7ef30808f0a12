"""Match quality on three fresh demo worlds unlike the default one (issue 11, point 4).

Each run draws new seeds, so a figure cannot come from a world the model was
ever looked at on; the parameters differ from seed-demo's defaults in noise,
share of bought audiences and size. For each world the later held-out window
is scored as ``training.holdout_quality`` scores the main one (train on what
was known before the cutoff, score the collaborations proposed after it),
with the best achievable figures from the world's hidden truth. The figures
are reported as they are; the worlds are never adjusted to a target.

``python -m bench.world_quality [--quick]`` runs this part alone.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from typing import Any

from bench import training, worlds

# How each world differs from the defaults (the size is its collaborations).
FRESH_WORLDS: dict[str, dict[str, Any]] = {
    "noisier": {
        "collaborations": 26000,
        "reliability_sd": 0.6,
        "brand_reliability_sd": 0.45,
        "noise_sd": 0.3,
    },
    "more_bought_audiences": {
        "collaborations": 16000,
        "fake_audience_share": 0.15,
        "fake_audience_penalty": 1.3,
    },
    "smaller_calmer": {
        "collaborations": 8000,
        "reliability_sd": 0.3,
        "noise_sd": 0.1,
        "fake_audience_share": 0.03,
        "influencer_revisions_per_year": 2.0,
    },
}
QUICK_COLLABORATIONS = 2600


def fresh_seed() -> int:
    """Return a seed no earlier run used on purpose (drawn from the OS)."""
    return secrets.randbelow(2**31)


def score_world(name: str, quick: bool = False, seed: int | None = None) -> dict:
    """Seed world ``name`` with a fresh seed; return its held-out figures."""
    changes = dict(FRESH_WORLDS[name])
    size = changes.pop("collaborations")
    size = QUICK_COLLABORATIONS if quick else size
    params = worlds.world_parameters(
        size, seed if seed is not None else fresh_seed(), **changes
    )
    started = time.perf_counter()
    with worlds.seeded_world(size, params=params) as world, world.app.app_context():
        quality = training.holdout_quality(world.app)
    quality.pop("band", None)
    gap = quality["best_achievable_roc_auc"] - quality["roc_auc"]
    return {
        "parameters": dataclasses.asdict(params),
        "seed": params.seed,
        "rated_by_brands": world.rated,
        "seconds": round(time.perf_counter() - started, 1),
        **quality,
        "roc_auc_gap": round(gap, 4),
    }


def run(quick: bool = False) -> dict[str, dict]:
    """Score every fresh world; return their figures by name."""
    figures = {}
    for name in FRESH_WORLDS:
        figures[name] = score_world(name, quick)
        print(f"   {name}: {figures[name]}", flush=True)
    return figures


if __name__ == "__main__":
    import argparse
    import json
    import os

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2.6k worlds")
    parser.add_argument("--only", choices=sorted(FRESH_WORLDS), help="one world")
    args = parser.parse_args()
    os.environ.setdefault("MATCHLOOP_LOG_LEVEL", "WARNING")
    if args.only:
        print(json.dumps(score_world(args.only, args.quick), indent=2))
    else:
        print(json.dumps(run(args.quick), indent=2))
