"""Where artifact bytes live: a local directory (default) or the database.

One setting, ``ARTIFACT_STORE`` (``local`` or ``database``), chooses the store
for the whole deployment: the training worker writes through it and every web
process reads through it. The local store keeps files under ``MODEL_DIR``; the
database store keeps the bytes in ``artifact_blobs``, so workers and web
processes on different machines share nothing but the database. Either way the
bytes are checked against the registry's sha256 by ``artifacts.read_verified``
before anything is unpickled.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Protocol

from flask import Flask, current_app
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import ArtifactBlob

STORES = ("local", "database")


class ArtifactMissing(LookupError):
    """The store holds no artifact at that path."""


class ArtifactStore(Protocol):
    """Reads and writes artifact bytes by their relative path (``type/vN-sha.joblib``)."""

    def write(self, relative: str, data: bytes, sha256: str) -> None:
        """Store ``data`` at ``relative`` (the database store: in the open transaction)."""

    def read(self, relative: str) -> bytes:
        """Return the bytes at ``relative``; raise ArtifactMissing when there are none."""

    def discard(self, relative: str) -> None:
        """Remove what ``write`` stored once the caller rolled its transaction back."""

    def describe(self) -> str:
        """Say where the bytes live, for error messages."""


class LocalArtifactStore:
    """Artifacts as files under one directory, written atomically (temp file, fsync, rename)."""

    def __init__(self, model_dir: str | Path) -> None:
        self.model_dir = Path(model_dir)

    def write(self, relative: str, data: bytes, sha256: str) -> None:
        """Write the file so readers never see half of it."""
        target = self.model_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(
            dir=target.parent, prefix=".incoming-", suffix=".joblib"
        )
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def read(self, relative: str) -> bytes:
        """Return the file's bytes."""
        try:
            return (self.model_dir / relative).read_bytes()
        except FileNotFoundError:
            raise ArtifactMissing(relative) from None

    def discard(self, relative: str) -> None:
        """Delete the file if it is there."""
        (self.model_dir / relative).unlink(missing_ok=True)

    def describe(self) -> str:
        """Return the directory."""
        return str(self.model_dir)


class DatabaseArtifactStore:
    """Artifacts as rows of ``artifact_blobs``, written in the caller's transaction.

    The training worker registers the version in the same transaction, so a
    version never exists without its bytes, nor bytes without their version.
    """

    def write(self, relative: str, data: bytes, sha256: str) -> None:
        """Add the blob to the session (committed with the version that names it)."""
        db.session.add(
            ArtifactBlob(path=relative, sha256=sha256, size_bytes=len(data), data=data)
        )
        db.session.flush()

    def read(self, relative: str) -> bytes:
        """Return the blob's bytes (a column query: nothing stays in the session)."""
        data = db.session.execute(
            select(ArtifactBlob.data).where(ArtifactBlob.path == relative)
        ).scalar()
        if data is None:
            raise ArtifactMissing(relative)
        return bytes(data)

    def discard(self, relative: str) -> None:
        """Nothing to do: the blob was written in the transaction the caller rolled back."""

    def describe(self) -> str:
        """Return the table."""
        return "the database (artifact_blobs)"


def artifact_store(app: Flask | None = None) -> ArtifactStore:
    """Return the store ``ARTIFACT_STORE`` names for ``app`` (the current app by default)."""
    app = app or current_app
    kind = app.config["ARTIFACT_STORE"]
    if kind == "database":
        return DatabaseArtifactStore()
    if kind == "local":
        return LocalArtifactStore(app.config["MODEL_DIR"])
    raise ValueError(f"ARTIFACT_STORE must be one of {STORES}, not {kind!r}")


def as_store(where: str | Path | ArtifactStore) -> ArtifactStore:
    """Return ``where`` as a store: a directory path means the local store there."""
    if isinstance(where, str | Path):
        return LocalArtifactStore(where)
    return where
