"""Rankings measured as rankings: Find influencers replayed on the final held-out window.

Training stores the figures with each match_success version
(``webapp.learning.ranking_quality`` has the protocol); this part reports them
for the demo world: the held-out model against the popularity ranking (most
past successes) and the rule-based fallback, with catalogue coverage.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bench import training, worlds
from webapp.extensions import db
from webapp.models import ModelVersion


def newest_version() -> ModelVersion | None:
    """Return the newest match_success version."""
    return db.session.scalar(
        select(ModelVersion)
        .where(ModelVersion.model_type == "match_success")
        .order_by(ModelVersion.version.desc())
        .limit(1)
    )


def run(app) -> dict[str, Any]:
    """Report the rankings stored with the newest version (training one if there is none)."""
    version = newest_version()
    if version is None or "ranking" not in (version.metrics or {}):
        training.time_training(app)
        version = newest_version()
    report = version.metrics["ranking"]
    return {
        "version": version.version,
        "algorithm": version.algorithm,
        "window": report["window"],
        "candidates": report["candidates"],
        "brands": report["brands"],
        "brands_eligible": report["brands_eligible"],
        "relevant": report["relevant"],
        "unreachable": report["unreachable"],
        "seconds": report["seconds"],
        "rankers": {
            name: {key: round(value, 4) for key, value in figures.items()}
            for name, figures in report["rankers"].items()
        },
    }


if __name__ == "__main__":
    worlds.run_alone(run, __doc__)
