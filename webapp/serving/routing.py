"""Which model version serves a subject: experiment > rollout > active > fallback.

A running A/B experiment of the type that covers the subject (a company or an
influencer, by external id, as the experiment's unit says) serves the variant
the unit is assigned, and exposes the unit; a variant without a model version
means the rule-based fallback. Otherwise a running staged rollout of the type
on that unit serves its candidate to the units its share admits (bucketed by
``webapp.rollouts.bucketing``) and its baseline to the others. Each process
routes by a ``RoutingTable`` that ``coherence.RoutingCache`` reloads within a
second of any routing change, in every process.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from threading import Lock

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.experiments.units import AssignmentRule, assignment_for, record_exposure
from webapp.extensions import db
from webapp.models import Experiment, ExperimentVariant, ModelVersion, Rollout
from webapp.rollouts.bucketing import CANDIDATE, arm


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
    None when the variant serves the rule-based scorer. A rollout's route names
    the rollout and the arm (``candidate`` or ``baseline``) as its variant.
    """

    version: ServedVersion | None
    reason: str
    variant: str | None = None
    experiment: str | None = None
    rollout: int | None = None

    def fallback_reason(self) -> str:
        """Say why no model version serves (shown with the fallback's answer)."""
        if self.experiment is not None:
            return (
                f"experiment {self.experiment}: variant {self.variant} "
                "serves the rule-based scorer"
            )
        return self.reason


@dataclass(frozen=True)
class RunningExperiment:
    """A running experiment as routing needs it: its split and what each variant serves."""

    rule: AssignmentRule
    model_type: str
    unit: str
    versions: dict[str, ServedVersion | None]
    # ab routes predictions; interleaving only mixes ranked lists (see
    # ``webapp.serving.interleaved``) and never routes a prediction.
    kind: str = "ab"

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
            row.kind,
        )


@dataclass(frozen=True)
class RunningRollout:
    """A running rollout as routing needs it: its seed, share and two versions."""

    rollout_id: int
    model_type: str
    unit: str
    seed: str
    share: float
    candidate: ServedVersion
    baseline: ServedVersion

    @classmethod
    def of(cls, row: Rollout) -> RunningRollout:
        """Copy a running rollout out of its row (versions loaded)."""
        return cls(
            row.id,
            row.model_type,
            row.unit,
            row.seed,
            row.serving_share,
            ServedVersion.of(row.candidate),
            ServedVersion.of(row.baseline),
        )


@dataclass(frozen=True)
class RoutingTable:
    """What routing needs, as one process last loaded it: versions, experiments, rollouts.

    ``generation`` is the Redis routing counter read before the load (None when
    Redis did not answer); ``loaded_at`` is ``time.monotonic()`` then.
    """

    generation: int | None
    active: dict[str, ServedVersion]
    experiments: tuple[RunningExperiment, ...]
    loaded_at: float
    # Running rollouts, oldest started first (paused ones route nobody).
    rollouts: tuple[RunningRollout, ...] = ()

    def versions(self) -> list[ServedVersion]:
        """Return every version this table routes to (active, experiment and rollout arms)."""
        found = {v.id: v for v in self.active.values()}
        for experiment in self.experiments:
            for version in experiment.versions.values():
                if version is not None:
                    found.setdefault(version.id, version)
        for rollout in self.rollouts:
            found.setdefault(rollout.candidate.id, rollout.candidate)
            found.setdefault(rollout.baseline.id, rollout.baseline)
        return list(found.values())


def load_routing_table(generation: int | None) -> RoutingTable:
    """Read the active versions, running experiments and running rollouts (three queries)."""
    active = {
        row.model_type: ServedVersion.of(row)
        for row in db.session.scalars(
            select(ModelVersion).where(ModelVersion.status == "active")
        )
    }
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
    experiments = tuple(RunningExperiment.of(row) for row in rows)
    rollouts = tuple(
        RunningRollout.of(row)
        for row in db.session.scalars(
            select(Rollout)
            .where(Rollout.status == "running")
            .options(selectinload(Rollout.candidate), selectinload(Rollout.baseline))
            .order_by(Rollout.started_at, Rollout.id)
        )
    )
    return RoutingTable(generation, active, experiments, time.monotonic(), rollouts)


class ExposureMemory:
    """The units this process has exposed, so serving writes an exposure once per
    unit and process rather than per request (the database keeps only the first)."""

    MAX_REMEMBERED = 100_000

    def __init__(self) -> None:
        self._exposed: set[tuple[int, str]] = set()
        self._lock = Lock()

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
        """Forget the exposures remembered (tests)."""
        with self._lock:
            self._exposed.clear()


def experiment_route(
    table: RoutingTable,
    exposures: ExposureMemory,
    model_type: str,
    unit: str,
    subject: str,
) -> Route | None:
    """Return the variant of the first running experiment covering ``subject``, or None.

    The unit gets its sticky assignment and is exposed (both committed the
    first time this process serves the unit).
    """
    for experiment in table.experiments:
        if (
            experiment.kind != "ab"
            or experiment.model_type != model_type
            or experiment.unit != unit
        ):
            continue
        variant = assignment_for(experiment.rule, subject)
        if variant is None:
            continue
        exposures.expose(experiment, subject)
        return Route(
            experiment.versions.get(variant),
            "experiment",
            variant=variant,
            experiment=experiment.key,
        )
    return None


def rollout_route(
    table: RoutingTable, model_type: str, unit: str, subject: str
) -> Route | None:
    """Return the arm of the running rollout of the type on ``unit``, or None."""
    for rollout in table.rollouts:
        if rollout.model_type != model_type or rollout.unit != unit:
            continue
        side = arm(rollout.seed, subject, rollout.share)
        version = rollout.candidate if side == CANDIDATE else rollout.baseline
        return Route(version, "rollout", variant=side, rollout=rollout.rollout_id)
    return None


def route(
    table: RoutingTable,
    model_type: str,
    subject: str,
    unit: str | None = None,
    exposures: ExposureMemory | None = None,
) -> Route:
    """Return the version that serves ``subject`` for ``model_type``.

    Precedence: a running experiment, then a running rollout, then the active
    version, then (no version) the fallback.

    :param unit: what ``subject`` is, ``company`` or ``influencer`` (None: not a
        unit, such as a whole series; experiments and rollouts never cover it).
    :param exposures: where exposures are remembered; None skips experiments
        and rollouts.
    """
    if exposures is not None and unit is not None and subject:
        chosen = experiment_route(table, exposures, model_type, unit, subject)
        if chosen is None:
            chosen = rollout_route(table, model_type, unit, subject)
        if chosen is not None:
            return chosen
    version = table.active.get(model_type)
    if version is None:
        return Route(None, "no active version")
    return Route(version, "active")
