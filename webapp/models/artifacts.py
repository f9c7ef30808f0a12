"""Artifact bytes kept in the database (the ``database`` artifact store)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.timeutil import utcnow
from webapp.extensions import db


class ArtifactBlob(db.Model):
    """The serialised bytes of one artifact, by the path its model version names.

    ``sha256`` is the digest the bytes had when written; every load compares the
    bytes with the registry's sha256 (``ModelVersion.sha256``) before unpickling.
    """

    __tablename__ = "artifact_blobs"

    path: Mapped[str] = mapped_column(String(500), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
