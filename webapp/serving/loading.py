"""Loading the artifact of a served version: verified, cached, problems shown to admins.

Serving calls :func:`load_served` for the version it routes to; the routing
cache calls :func:`preload` for every version of a new table before it swaps
the table in, so requests find the artifacts already loaded.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app

from webapp.extensions import db
from webapp.learning import feature_sets
from webapp.models import ModelVersion
from webapp.registry.artifact_store import artifact_store
from webapp.registry.artifacts import ArtifactCache, ArtifactError
from webapp.registry.contract import Subject
from webapp.registry.plugins import installed_types
from webapp.serving.routing import RoutingTable, ServedVersion

log = logging.getLogger(__name__)


def served_feature_names(types, model_type: str) -> list[str] | None:
    """Return the feature names serving computes for ``model_type`` (None: series type)."""
    if model_type not in types:
        return None
    plugin = types.get(model_type)
    if plugin.subject != Subject.PAIR:
        return None
    return feature_sets.names(plugin.features)


def record_artifact_error(version: ServedVersion, message: str | None) -> None:
    """Show a refused artifact to admins on the version (None: it verifies again)."""
    if message is not None:
        log.error("refusing artifact of %s: %s", version.label, message)
    row = db.session.get(ModelVersion, version.id)
    if row is not None and row.artifact_error != message:
        row.artifact_error = message
        db.session.commit()


def load_served(
    cache: ArtifactCache, version: ServedVersion, feature_names: list[str] | None
) -> Any:
    """Return the version's verified artifact (sha256, then ``feature_names``) from ``cache``.

    A refused artifact is recorded on the version and raises ArtifactError; a
    version whose artifact verifies again is cleared of the problem.
    """
    loaded = cache.get(version.sha256)
    if loaded is not None:  # verified when it was loaded: the hot path
        return loaded
    try:
        artifact = cache.load(
            artifact_store(),
            version.artifact_path,
            version.sha256,
            feature_names=feature_names,
        )
    except ArtifactError as error:
        record_artifact_error(version, str(error))
        raise
    record_artifact_error(version, None)
    return artifact


def preload(cache: ArtifactCache, table: RoutingTable) -> None:
    """Load every artifact ``table`` routes to (installed types only) into ``cache``.

    An artifact with a ``warm()`` (match_success opens its compiled sessions)
    is warmed too, so the first request on the new table pays for neither. A
    refused artifact is recorded and left out: serving falls back for it, as it
    would on first use.
    """
    types = installed_types(current_app)
    for version in table.versions():
        if version.model_type not in types:
            continue
        try:
            names = served_feature_names(types, version.model_type)
            artifact = load_served(cache, version, names)
        except ArtifactError:
            continue
        warm = getattr(artifact, "warm", None)
        if callable(warm):
            warm()


def serving_note(cache: ArtifactCache, version: ModelVersion | None) -> str | None:
    """Return what the version's artifact, if this process has loaded it, says of how it serves.

    Artifacts answer through an optional ``serving_status()`` (match_success
    says whether its compiled form is in use); None when not loaded or silent.
    """
    artifact = cache.get(version.sha256) if version is not None else None
    status = getattr(artifact, "serving_status", None)
    return status() if callable(status) else None
