"""Model artifacts: serialising, sha256 fingerprints, verified loads, a cache.

The bytes go through an artifact store (``artifact_store``: a local directory
written atomically, or the database). An artifact is loaded only after its
bytes hash to the sha256 recorded in the registry, whichever store holds them.
Every function takes ``where``: a store, or a directory path for the local one.
"""

from __future__ import annotations

import hashlib
import io
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from threading import Lock
from typing import Any

import joblib

from webapp.registry.artifact_store import ArtifactMissing, ArtifactStore, as_store

Where = str | Path | ArtifactStore


class ArtifactError(RuntimeError):
    """The artifact is missing or its bytes do not match the registry's sha256."""


@dataclass(frozen=True)
class StoredArtifact:
    """Where an artifact was written and its fingerprint."""

    path: str  # relative to the model directory
    sha256: str
    size_bytes: int


def save(where: Where, model_type: str, version: int, artifact: Any) -> StoredArtifact:
    """Serialise ``artifact`` and store it at ``model_type/v<version>-<sha>.joblib``."""
    buffer = io.BytesIO()
    joblib.dump(artifact, buffer, compress=3)
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    relative = f"{model_type}/v{version}-{digest[:12]}.joblib"
    as_store(where).write(relative, data, digest)
    return StoredArtifact(path=relative, sha256=digest, size_bytes=len(data))


def read_verified(where: Where, relative: str, sha256: str) -> bytes:
    """Return the artifact's bytes if they hash to ``sha256``; raise ArtifactError otherwise."""
    store = as_store(where)
    try:
        data = store.read(relative)
    except ArtifactMissing:
        raise ArtifactError(
            f"artifact {relative} is missing from {store.describe()}"
        ) from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise ArtifactError(
            f"artifact {relative} was altered: sha256 {actual[:12]}… does not match the registry's {sha256[:12]}…"
        )
    return data


def check_feature_names(
    relative: str, artifact: Any, expected: list[str] | None
) -> None:
    """Refuse an artifact trained on other features than serving computes (ArtifactError).

    Artifacts that do not say which features they take (no ``feature_names``)
    are not checked.
    """
    found = getattr(artifact, "feature_names", None)
    if expected is None or found is None or list(found) == list(expected):
        return
    missing = [name for name in expected if name not in found]
    extra = [name for name in found if name not in expected]
    detail = (
        f"missing {missing[:5]}, unknown {extra[:5]}"
        if missing or extra
        else "the same names in another order"
    )
    raise ArtifactError(
        f"artifact {relative} was trained on {len(found)} features that differ from "
        f"the {len(expected)} serving computes ({detail})"
    )


def deserialise(relative: str, data: bytes) -> Any:
    """Unpickle verified artifact bytes; a file joblib cannot read is an ArtifactError."""
    try:
        return joblib.load(io.BytesIO(data))
    except Exception as error:  # unpickling can fail in any way; all mean "unusable"
        raise ArtifactError(
            f"artifact {relative} cannot be loaded: {type(error).__name__}: {error}"
        ) from error


def verify(
    where: Where,
    relative: str,
    sha256: str,
    feature_names: list[str] | None = None,
) -> Any:
    """Return the artifact after every check serving makes; raise ArtifactError otherwise.

    The bytes must hash to ``sha256``, unpickle, and take ``feature_names``.
    """
    artifact = deserialise(relative, read_verified(where, relative, sha256))
    check_feature_names(relative, artifact, feature_names)
    return artifact


class ArtifactCache:
    """Loaded artifacts kept per process, keyed by sha256 (a small LRU).

    Each process verifies an artifact (sha256, then feature names) before its
    first load; a refused artifact is never cached, so it is checked again on
    the next request and serves as soon as the file is restored.
    """

    def __init__(self, capacity: int = 8) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._lock = Lock()

    def __contains__(self, sha256: str) -> bool:
        with self._lock:
            return sha256 in self._items

    def get(self, sha256: str) -> Any | None:
        """Return the loaded artifact with this sha256, or None when it is not loaded."""
        with self._lock:
            artifact = self._items.get(sha256)
            if artifact is not None:
                self._items.move_to_end(sha256)
            return artifact

    def load(
        self,
        where: Where,
        relative: str,
        sha256: str,
        feature_names: list[str] | None = None,
    ) -> Any:
        """Return the verified, deserialised artifact, from the cache when possible.

        :param feature_names: what serving computes; a mismatch is an ArtifactError.
        """
        with self._lock:
            if sha256 in self._items:
                self._items.move_to_end(sha256)
                return self._items[sha256]
        artifact = verify(where, relative, sha256, feature_names)
        with self._lock:
            self._items[sha256] = artifact
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return artifact

    def clear(self) -> None:
        """Forget every loaded artifact."""
        with self._lock:
            self._items.clear()
