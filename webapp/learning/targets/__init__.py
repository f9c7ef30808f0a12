"""Training-data builders, one per target, found through an entry-point group.

A model type names its ``target``; core runs that target's builder to turn the
marketplace's history into ``TrainingData`` (pair types) or ``SeriesData``
(series types). Builders are declared like model types, so a third-party
package can bring the target its type needs::

    [options.entry_points]
    matchloop.targets =
        success = webapp.learning.training_data:success_data

A builder is ``builder(config) -> TrainingData | SeriesData``; it may read the
database (it is core-side code) and must use only what was known before each
row's moment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from typing import Any

from webapp.registry.contract import SeriesData, TrainingData, TrainingFailed

ENTRY_POINT_GROUP = "matchloop.targets"
Builder = Callable[[Mapping[str, Any]], TrainingData | SeriesData]


def builders() -> dict[str, Builder]:
    """Return every declared builder by target name; a name declared twice is an error."""
    found: dict[str, Builder] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        if point.name in found:
            raise RuntimeError(f"training target {point.name!r} is declared twice")
        found[point.name] = point.load()
    return found


def build(target: str, config: Mapping[str, Any]) -> TrainingData | SeriesData:
    """Run the builder of ``target``; TrainingFailed when no package declares it."""
    try:
        builder = builders()[target]
    except KeyError:
        raise TrainingFailed(
            f"No training-data builder is installed for target {target!r} "
            f"(entry-point group {ENTRY_POINT_GROUP})."
        ) from None
    return builder(config)
