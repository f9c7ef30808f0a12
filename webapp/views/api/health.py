"""Health: does the database answer, does Redis, how many workers, which versions serve."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from webapp.extensions import db
from webapp.registry import versions
from webapp.registry.plugins import installed_types
from webapp.runtime import jobs
from webapp.views.api.blueprint import bp


def database_health() -> dict[str, Any]:
    """Return whether the database answers a trivial query."""
    backend = db.engine.dialect.name
    try:
        db.session.execute(text("SELECT 1"))
    except OperationalError as error:
        db.session.rollback()
        return {"ok": False, "backend": backend, "error": str(error.orig)[:300]}
    return {"ok": True, "backend": backend, "error": None}


def redis_health() -> tuple[dict[str, Any], int | None]:
    """Return whether Redis answers a ping, and how many workers it knows."""
    try:
        jobs.redis_connection().ping()
        workers = jobs.worker_count()
    except RedisError as error:
        return {"ok": False, "error": str(error)[:300]}, None
    return {"ok": True, "error": None}, workers


@bp.get("/health")
def health():
    """Report the database, Redis, workers and active versions; 503 when degraded."""
    database = database_health()
    redis, workers = redis_health()
    active = {}
    if database["ok"]:
        for model_type in installed_types(current_app):
            version = versions.active_version(model_type.name)
            active[model_type.name] = version.version if version else None
    healthy = database["ok"] and redis["ok"]
    body = {
        "status": "ok" if healthy else "degraded",
        "database": database,
        "redis": redis,
        "workers": workers,
        "active_versions": active,
    }
    return jsonify(body), 200 if healthy else 503
