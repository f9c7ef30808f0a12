"""Which units a rollout admits to its candidate: GrowthBook's hash, seeded per rollout.

A unit is admitted when its hash under the rollout's seed falls in the first
``share`` of [0, 1): the bucket range GrowthBook gives variation 0 of an
experiment keyed by the seed with weights ``[share, 1 - share]``. The seed is
fixed for the rollout's life, so the admitted set only grows with the share: a
unit admitted at 5 % is still admitted at 25 %.
"""

from __future__ import annotations

from webapp.experiments.assignment import assign

CANDIDATE, BASELINE = "candidate", "baseline"
ARMS = (CANDIDATE, BASELINE)
HASH_VERSION = 2


def admitted(seed: str, unit_id: str, share: float) -> bool:
    """Return whether ``unit_id`` is served the candidate at ``share`` (0-1)."""
    if share <= 0:
        return False
    if share >= 1:
        return bool(str(unit_id))
    index = assign(seed, unit_id, [share, 1 - share], hash_version=HASH_VERSION)
    return index == 0


def arm(seed: str, unit_id: str, share: float) -> str:
    """Return ``candidate`` or ``baseline`` for ``unit_id`` at ``share``."""
    return CANDIDATE if admitted(seed, unit_id, share) else BASELINE
