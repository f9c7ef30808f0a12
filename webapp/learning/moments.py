"""How the point-in-time code writes a moment, and keys of (entity, moment).

Times are day numbers or seconds since 2000-01-01 (``features.EPOCH``). Events
are looked up by sorted keys ``entity * KEY_SHIFT + time`` (``entity_time_keys``):
sorting them sorts by entity, then time, so the events of one entity before a
moment are one binary search away. 34 bits of time hold seconds until 2544.
"""

from __future__ import annotations

import numpy as np

SECONDS_PER_DAY = 86_400
KEY_SHIFT = np.int64(1 << 34)


def entity_time_keys(entity, time) -> np.ndarray:
    """Return the sorted-lookup key of each (entity, time)."""
    return np.asarray(entity, dtype=np.int64) * KEY_SHIFT + np.asarray(
        time, dtype=np.int64
    )
