"""Health: does the database answer, does Redis, how many workers, which versions serve.

HTTP 503 when the database or Redis does not answer (the instance cannot work);
``status: degraded`` with 200 when it serves but a model cannot (a refused
artifact, a model failing at predict time): the fallback scorer answers then,
and ``problems`` says which version and why. ``process`` says which process
answered and which versions it serves (its routing table).
"""

from __future__ import annotations

import os
from typing import Any

from flask import current_app, jsonify
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from webapp.extensions import db
from webapp.models import ModelVersion
from webapp.registry import versions
from webapp.registry.plugins import installed_types
from webapp.runtime import jobs
from webapp.serving.state import serving_state
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


def process_routing(installed_names: list[str]) -> dict[str, Any]:
    """Return this process's pid and the versions its routing table serves now.

    Every web process answers for itself: behind a load balancer, polling health
    shows when each process has switched after a promote.
    """
    routing = serving_state().routing
    table = routing.table()
    return {
        "pid": os.getpid(),
        "routing_generation": table.generation,
        "routing_switched_at": routing.switched_at,
        "serving": {
            name: table.active[name].version if name in table.active else None
            for name in installed_names
        },
    }


def model_problems(active: dict[str, ModelVersion | None]) -> list[dict[str, Any]]:
    """Return why active versions cannot serve: refused artifacts, predict-time failures."""
    problems = [
        {"model_type": name, "version": row.version, "problem": row.artifact_error}
        for name, row in active.items()
        if row is not None and row.artifact_error
    ]
    for label, reason in serving_state().recent_failures().items():
        name, _, number = label.rpartition(" v")
        problems.append(
            {
                "model_type": name,
                "version": int(number) if number.isdigit() else None,
                "problem": reason,
            }
        )
    return problems


@bp.get("/health")
def health():
    """Report the database, Redis, workers, active versions and model problems.

    503 when the database or Redis is down; ``degraded`` with 200 when only a
    model cannot serve (the fallback answers for it).
    """
    database = database_health()
    redis, workers = redis_health()
    active: dict[str, ModelVersion | None] = {}
    if database["ok"]:
        for model_type in installed_types(current_app):
            active[model_type.name] = versions.active_version(model_type.name)
    problems = model_problems(active)
    process = process_routing(list(active)) if database["ok"] else None
    working = database["ok"] and redis["ok"]
    body = {
        "status": "ok" if working and not problems else "degraded",
        "database": database,
        "redis": redis,
        "workers": workers,
        "active_versions": {
            name: row.version if row else None for name, row in active.items()
        },
        "problems": problems,
        "process": process,
    }
    return jsonify(body), 200 if working else 503
