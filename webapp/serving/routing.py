"""Which model version serves a subject: experiment > rollout > active > fallback.

A running experiment of the type that covers the subject (a company or an
influencer, by external id, as the experiment's unit says) serves the variant
the unit is assigned, and exposes the unit; a variant without a model version
means the rule-based fallback. Staged rollouts will plug in between the
experiment and the active version (see ``route``). Lookups are cached per
process for a couple of seconds so a promotion or a started experiment takes
effect everywhere within seconds, without a restart.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from threading import Lock

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.experiments.units import AssignmentRule, assignment_for, record_exposure
from webapp.extensions import db
from webapp.models import Experiment, ExperimentVariant, ModelVersion
from webapp.registry.versions import active_version

CACHE_SECONDS = 2.0


@dataclass(frozen=True)
class ServedVersion:
    """What serving needs to know about a model version (no database session needed)."""

    id: int
    model_type: str
    version: int
    artifact_path: str
    sha256: str

    @property
    def label(self) -> str:
        """Human name: ``match_success v3``."""
        return f"{self.model_type} v{self.version}"

    @classmethod
    def of(cls, row: ModelVersion) -> ServedVersion:
        """Copy the serving facts out of a registry row."""
        return cls(row.id, row.model_type, row.version, row.artifact_path, row.sha256)


class FallsBack:
    """Mixin of scored answers: ``fallback`` is True when no version answered."""

    version: ServedVersion | None

    @property
    def fallback(self) -> bool:
        """True when the type's fallback (no model version) answered."""
        return self.version is None


@dataclass(frozen=True)
class Route:
    """The version chosen for a subject, and why (``experiment``, ``active`` ...).

    An experiment's route names the experiment and the variant; its version is
    None when the variant serves the rule-based scorer.
    """

    version: ServedVersion | None
    reason: str
    variant: str | None = None
    experiment: str | None = None

    def fallback_reason(self) -> str:
        """Say why no model version serves (shown with the fallback's answer)."""
        if self.experiment is not None:
            return (
                f"experiment {self.experiment}: variant {self.variant} "
                "serves the rule-based scorer"
            )
        return self.reason


class ActiveVersionCache:
    """Per-process cache of the active version of each model type."""

    def __init__(self, ttl: float = CACHE_SECONDS) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, ServedVersion | None]] = {}
        self._lock = Lock()

    def get(self, model_type: str) -> ServedVersion | None:
        """Return the active version (None when there is none)."""
        now = time.monotonic()
        with self._lock:
            cached = self._entries.get(model_type)
        if cached and now - cached[0] < self.ttl:
            return cached[1]
        row = active_version(model_type)
        served = ServedVersion.of(row) if row else None
        with self._lock:
            self._entries[model_type] = (now, served)
        return served

    def clear(self) -> None:
        """Forget cached lookups (tests, and after a promotion in this process)."""
        with self._lock:
            self._entries.clear()


@dataclass(frozen=True)
class RunningExperiment:
    """A running experiment as routing needs it: its split and what each variant serves."""

    rule: AssignmentRule
    model_type: str
    unit: str
    versions: dict[str, ServedVersion | None]

    @property
    def key(self) -> str:
        """The experiment's key."""
        return self.rule.key

    @classmethod
    def of(cls, row: Experiment) -> RunningExperiment:
        """Copy a running experiment out of its row (variants loaded)."""
        return cls(
            AssignmentRule.of(row),
            row.model_type,
            row.unit,
            {
                variant.key: (
                    ServedVersion.of(variant.model_version)
                    if variant.model_version is not None
                    else None
                )
                for variant in row.variants
            },
        )


class RunningExperimentCache:
    """Per-process cache of the running experiments, oldest started first.

    It also remembers which units this process has exposed, so that serving
    writes an exposure once per unit and process rather than per request (the
    database keeps only the first one anyway).
    """

    MAX_REMEMBERED = 100_000

    def __init__(self, ttl: float = CACHE_SECONDS) -> None:
        self.ttl = ttl
        self._loaded: tuple[float, list[RunningExperiment]] | None = None
        self._exposed: set[tuple[int, str]] = set()
        self._lock = Lock()

    def running(self) -> list[RunningExperiment]:
        """Return the running experiments (started first, first)."""
        now = time.monotonic()
        with self._lock:
            loaded = self._loaded
        if loaded and now - loaded[0] < self.ttl:
            return loaded[1]
        rows = db.session.scalars(
            select(Experiment)
            .where(Experiment.status == "running")
            .options(
                selectinload(Experiment.variants).selectinload(
                    ExperimentVariant.model_version
                )
            )
            .order_by(Experiment.started_at, Experiment.id)
        ).all()
        running = [RunningExperiment.of(row) for row in rows]
        with self._lock:
            self._loaded = (now, running)
        return running

    def expose(self, experiment: RunningExperiment, unit_id: str) -> None:
        """Record the unit's exposure unless this process already did; commit.

        The commit also keeps the unit's first assignment, stored just before:
        the prediction log is written off the request path and commits nothing.
        """
        marker = (experiment.rule.experiment_id, unit_id)
        with self._lock:
            if marker in self._exposed:
                return
        record_exposure(experiment.rule.experiment_id, unit_id)
        db.session.commit()
        with self._lock:
            if len(self._exposed) >= self.MAX_REMEMBERED:
                self._exposed.clear()
            self._exposed.add(marker)

    def clear(self) -> None:
        """Forget cached lookups (tests, and after a status change in this process)."""
        with self._lock:
            self._loaded = None
            self._exposed.clear()


def experiment_route(
    experiments: RunningExperimentCache, model_type: str, unit: str, subject: str
) -> Route | None:
    """Return the variant of the first running experiment covering ``subject``, or None.

    The unit gets its sticky assignment and is exposed (both committed the
    first time this process serves the unit).
    """
    for experiment in experiments.running():
        if experiment.model_type != model_type or experiment.unit != unit:
            continue
        variant = assignment_for(experiment.rule, subject)
        if variant is None:
            continue
        experiments.expose(experiment, subject)
        return Route(
            experiment.versions.get(variant),
            "experiment",
            variant=variant,
            experiment=experiment.key,
        )
    return None


def route(
    cache: ActiveVersionCache,
    model_type: str,
    subject: str,
    unit: str | None = None,
    experiments: RunningExperimentCache | None = None,
) -> Route:
    """Return the version that serves ``subject`` for ``model_type``.

    :param unit: what ``subject`` is, ``company`` or ``influencer`` (None: not a
        unit, such as a whole series; experiments never cover it).
    :param experiments: the running experiments; None skips them.
    """
    if experiments is not None and unit is not None and subject:
        chosen = experiment_route(experiments, model_type, unit, subject)
        if chosen is not None:
            return chosen
    # Staged rollouts go here, between experiments and the active version.
    version = cache.get(model_type)
    if version is None:
        return Route(None, "no active version")
    return Route(version, "active")
