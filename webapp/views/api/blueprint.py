"""The ``api`` blueprint: token-authenticated JSON under /api/v1 (its limit: ``limits``)."""

from __future__ import annotations

from flask import Blueprint

from webapp.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Bearer tokens are not sent by browsers on their own, so CSRF does not apply.
csrf.exempt(bp)
