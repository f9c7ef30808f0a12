"""The model registry: versions of each model type, and which one is active."""

from __future__ import annotations

import platform
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from flask import current_app
from sqlalchemy import func, select

from webapp.core.timeutil import iso_utc, utcnow
from webapp.extensions import db
from webapp.models import Deployment, ModelVersion, TrainingRun, User
from webapp.monitoring import reference
from webapp.operations import audit
from webapp.registry import artifacts
from webapp.registry.artifact_store import artifact_store
from webapp.registry.artifacts import StoredArtifact
from webapp.registry.contract import SeriesData, TrainingData, TrainResult
from webapp.registry.plugins import installed_types
from webapp.registry.reports import KNOWN_METRICS
from webapp.serving.coherence import routing_changed
from webapp.shadow import store as shadow


class RegistryActionError(ValueError):
    """A promote or rollback that cannot be done (message shown to the admin)."""


class ConfirmationNeeded(RegistryActionError):
    """A promotion that needs the admin's explicit confirmation first."""

    def __init__(self, regression: Regression) -> None:
        super().__init__(regression.message())
        self.regression = regression


# The held-out score a promotion must not lower without the admin saying so, for
# types that are not installed; installed types name theirs (``primary_metric``).
HELD_OUT_METRIC, HELD_OUT_LABEL = "roc_auc", "ROC AUC"


@dataclass(frozen=True)
class HeldOutMetric:
    """The metric versions of a type are compared on, and which way is better."""

    key: str
    label: str
    higher_is_better: bool

    @classmethod
    def of(cls, model_type: str) -> HeldOutMetric:
        """Return the primary metric of ``model_type`` (ROC AUC when not installed)."""
        types = installed_types(current_app)
        if model_type not in types:
            return cls(HELD_OUT_METRIC, HELD_OUT_LABEL, True)
        kind = types.get(model_type)
        labels = {key: label for key, label, _ in KNOWN_METRICS}
        key = kind.primary_metric
        return cls(key, labels.get(key, key.replace("_", " ")), kind.higher_is_better)


@dataclass(frozen=True)
class Regression:
    """A version whose held-out score is worse than the active version's."""

    version: ModelVersion
    active: ModelVersion
    score: float
    active_score: float
    metric_label: str = HELD_OUT_LABEL

    def message(self) -> str:
        """Describe the regression for the confirmation the admin is asked for."""
        return (
            f"{self.version.label} has a worse held-out {self.metric_label} "
            f"({self.score:.3f}) than the active v{self.active.version} "
            f"({self.active_score:.3f})."
        )


def held_out_score(version: ModelVersion, key: str = HELD_OUT_METRIC) -> float | None:
    """Return the version's held-out score ``key``, or None when it stored none."""
    value = (version.metrics or {}).get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def regression(
    version: ModelVersion, active: ModelVersion | None = None
) -> Regression | None:
    """Return how ``version`` scores worse than the active version, or None.

    Scores are the type's primary metric, in its direction (a higher MAE is worse).

    :param active: the active version when the caller has it (saves a query).
    """
    active = active or active_version(version.model_type)
    if active is None or active.id == version.id:
        return None
    metric = HeldOutMetric.of(version.model_type)
    score = held_out_score(version, metric.key)
    active_score = held_out_score(active, metric.key)
    if score is None or active_score is None:
        return None
    worse = score < active_score if metric.higher_is_better else score > active_score
    if not worse:
        return None
    return Regression(version, active, score, active_score, metric.label)


def library_versions() -> dict[str, str]:
    """Return the versions of the libraries an artifact depends on."""
    import joblib
    import numpy
    import sklearn
    import statsmodels

    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "statsmodels": statsmodels.__version__,
        "numpy": numpy.__version__,
        "joblib": joblib.__version__,
    }


def next_version_number(model_type: str) -> int:
    """Return the next version number for ``model_type`` (1 for the first)."""
    current = db.session.scalar(
        select(func.max(ModelVersion.version)).where(
            ModelVersion.model_type == model_type
        )
    )
    return (current or 0) + 1


def active_version(model_type: str) -> ModelVersion | None:
    """Return the active version of ``model_type``, or None."""
    return db.session.scalar(
        select(ModelVersion).where(
            ModelVersion.model_type == model_type, ModelVersion.status == "active"
        )
    )


def data_window(data: TrainingData | SeriesData) -> tuple[date | None, date | None]:
    """Return the first and last day the training data covers (None when empty)."""
    if isinstance(data, SeriesData):
        days = [p for s in data.series for p in (s.periods[:1], s.periods[-1:])]
        found = np.concatenate(days) if days else np.array([], dtype="datetime64[D]")
    else:
        found = np.asarray(data.times)
    if len(found) == 0:
        return None, None
    found = found.astype("datetime64[D]")
    return found.min().item(), found.max().item()


def register_version(
    run: TrainingRun,
    version_number: int,
    result: TrainResult,
    stored: StoredArtifact,
    data: TrainingData | SeriesData,
) -> ModelVersion:
    """Record a trained artifact as a candidate; the first of its type becomes active."""
    version = ModelVersion(
        model_type=run.model_type,
        version=version_number,
        status="candidate",
        algorithm=result.algorithm,
        params=result.params,
        # What the data builder says about its rows (e.g. profiles_approximated) is
        # kept with the metrics, so the model page can say it.
        # The training distribution of each input, for live drift checks.
        metrics={
            **result.metrics,
            "training_data": dict(data.meta or {}),
            reference.REFERENCE_KEY: reference.reference(
                reference.training_columns(data)
            ),
        },
        feature_names=list(getattr(data, "feature_names", [])),
        sample_count=data.n_samples,
        data_start=data_window(data)[0],
        data_end=data_window(data)[1],
        artifact_path=stored.path,
        sha256=stored.sha256,
        size_bytes=stored.size_bytes,
        library_versions=library_versions(),
        run_id=run.id,
    )
    db.session.add(version)
    db.session.flush()
    if active_version(run.model_type) is None:
        _activate(version, actor=None, action="first", note="first successful version")
    return version


def _activate(
    version: ModelVersion, actor: User | None, action: str, note: str | None
) -> Deployment:
    """Make ``version`` the active one of its type and record the deployment.

    Every web process switches to it once the caller commits (``routing_changed``).
    The one place a version becomes active (first version, promotion, a rollout
    completing, a rollback): a shadow period of ``version`` ends here.
    """
    shadow.end_for(version, actor, f"{version.label} became active ({action})")
    previous = active_version(version.model_type)
    if previous is not None:
        previous.status = "archived"
        # Flush first: at most one active version per type is a unique index.
        db.session.flush()
    version.status = "active"
    version.activated_at = utcnow()
    deployment = Deployment(
        model_type=version.model_type,
        from_version_id=previous.id if previous else None,
        to_version_id=version.id,
        action=action,
        actor=actor,
        note=note,
    )
    db.session.add(deployment)
    routing_changed()
    return deployment


def _require_intact(version: ModelVersion, action: str) -> None:
    """Refuse to activate a version whose artifact is missing or altered on disk.

    The check reads the file and compares its sha256 now, so a broken artifact is
    caught before it goes live, not by the first prediction; the reason is kept
    on the version for admins, and cleared once the file checks out again.
    """
    try:
        artifacts.read_verified(artifact_store(), version.artifact_path, version.sha256)
    except artifacts.ArtifactError as error:
        version.artifact_error = str(error)
        db.session.commit()
        raise RegistryActionError(
            f"{version.label} cannot be {action}: {error}"
        ) from None
    if version.artifact_error:
        version.artifact_error = (
            None  # the file was restored: the version is usable again
        )
        db.session.commit()


def promote(
    version: ModelVersion,
    actor: User | None,
    note: str | None = None,
    confirm_worse: bool = False,
) -> Deployment:
    """Make ``version`` active, archiving the current one; commit.

    A version with a worse held-out score than the active one is promoted only
    with ``confirm_worse``; otherwise ``ConfirmationNeeded`` says why.
    """
    if version.status == "active":
        raise RegistryActionError(f"{version.label} is already active.")
    # A broken artifact cannot go live at all: say that before asking to confirm.
    _require_intact(version, "promoted")
    worse = regression(version)
    if worse is not None and not confirm_worse:
        raise ConfirmationNeeded(worse)
    deployment = _activate(version, actor, "promote", note)
    _audit("model.promote", deployment, version, actor)
    db.session.commit()
    return deployment


def archive(
    version: ModelVersion, actor: User | None, note: str | None = None
) -> Deployment:
    """Archive a candidate version (it will not serve) and record it; commit.

    The active version is untouched: the deployment goes from ``version`` to
    nothing, action ``archive``.
    """
    if version.status != "candidate":
        raise RegistryActionError(
            f"{version.label} is {version.status}; only a candidate can be archived."
        )
    version.status = "archived"
    shadow.end_for(
        version, actor, f"{version.label} was archived" + (f": {note}" if note else "")
    )
    deployment = Deployment(
        model_type=version.model_type,
        from_version_id=version.id,
        to_version_id=None,
        action="archive",
        actor=actor,
        note=note,
    )
    db.session.add(deployment)
    _audit("model.archive", deployment, version, actor)
    db.session.commit()
    return deployment


def _audit(
    action: str,
    deployment: Deployment,
    version: ModelVersion,
    actor: User | None,
    **details,
) -> None:
    """Add the audit row of a registry action (committed with it)."""
    audit.record(
        action,
        "model_version",
        version.id,
        actor,
        {"version": version.label, "note": deployment.note, **details},
    )


def rollback_target(model_type: str) -> ModelVersion | None:
    """Return the version a rollback would reactivate, or None.

    That is the version that was active before the current one was promoted;
    a rollback never offers the version it just rolled back from.
    """
    current = active_version(model_type)
    if current is None:
        return None
    promoted = db.session.scalar(
        select(Deployment)
        .where(
            Deployment.model_type == model_type,
            Deployment.to_version_id == current.id,
            Deployment.action != "rollback",
        )
        .order_by(Deployment.created_at.desc(), Deployment.id.desc())
        .limit(1)
    )
    return promoted.from_version if promoted is not None else None


def rollback(
    model_type: str, actor: User | None, note: str | None = None
) -> Deployment:
    """Reactivate the version that was active before the current one; commit."""
    current = active_version(model_type)
    if current is None:
        raise RegistryActionError(
            f"{model_type} has no active version to roll back from."
        )
    target = rollback_target(model_type)
    if target is None:
        raise RegistryActionError(
            f"{current.label} has no previous version to roll back to."
        )
    _require_intact(target, "reactivated")
    deployment = _activate(
        target, actor, "rollback", note or f"rolled back from {current.label}"
    )
    _audit("model.rollback", deployment, target, actor, rolled_back=current.label)
    db.session.commit()
    return deployment


def deployments(model_type: str | None = None, limit: int = 50) -> list[Deployment]:
    """Return the latest deployments, newest first."""
    query = (
        select(Deployment)
        .order_by(Deployment.created_at.desc(), Deployment.id.desc())
        .limit(limit)
    )
    if model_type:
        query = query.where(Deployment.model_type == model_type)
    return list(db.session.scalars(query))


# The metrics a version's summary lists when its type names none (summary_metrics).
SUMMARY_METRICS = (
    *("roc_auc", "pr_auc", "brier", "log_loss", "accuracy", "ece"),
    *("r2", "mae", "rmse", "coverage", "mean_width"),
)


def summary(
    version: ModelVersion, metric_keys: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """Return the JSON description of a version (API and pages).

    :param metric_keys: the type's ``summary_metrics``; None lists the defaults.
    """
    metrics = version.metrics or {}
    return {
        "id": version.id,
        "type": version.model_type,
        "version": version.version,
        "status": version.status,
        "algorithm": version.algorithm,
        "params": version.params,
        "sample_count": version.sample_count,
        "data_window": {
            "start": version.data_start.isoformat() if version.data_start else None,
            "end": version.data_end.isoformat() if version.data_end else None,
        },
        "metrics": {
            k: metrics[k]
            for k in metric_keys or SUMMARY_METRICS
            if k in metrics
            and (metrics[k] is None or isinstance(metrics[k], int | float))
            and not isinstance(metrics[k], bool)
        },
        "sha256": version.sha256,
        "size_bytes": version.size_bytes,
        "artifact_error": version.artifact_error,
        "created_at": iso_utc(version.created_at),
        "activated_at": iso_utc(version.activated_at),
    }
