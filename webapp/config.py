"""Configuration defaults and the environment layer.

Layers, later wins: ``DEFAULTS`` here -> ``instance/config.py`` -> environment
variables ``MATCHLOOP_<KEY>`` -> the ``test_config`` mapping given to
``create_app``. Nothing here runs at import time except building the dict.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any

ENV_PREFIX = "MATCHLOOP_"

DEFAULTS: dict[str, Any] = {
    # development | production | testing; production refuses to start without SECRET_KEY
    "ENV": "development",
    # signs sessions and CSRF tokens; development generates one in instance/secret_key
    "SECRET_KEY": None,
    # SQLAlchemy URL; unset means SQLite at instance/matchloop.sqlite
    "DATABASE_URL": None,
    # redis:// or unix:// URL; unset means the embedded Redis (instance/redis.sock)
    "REDIS_URL": None,
    # where trained model artifacts live; unset means instance/models
    "MODEL_DIR": None,
    # artifact store: local (files under MODEL_DIR) or database (shared by every machine)
    "ARTIFACT_STORE": "local",
    # seconds between a web process's checks of the Redis routing counter
    "ROUTING_CHECK_SECONDS": 0.1,
    # a watcher thread per web process makes that check even while no request arrives
    "ROUTING_WATCH": True,
    # seconds between reloads of routing from the database while Redis does not answer
    "ROUTING_FALLBACK_SECONDS": 5.0,
    # seconds a process serves one routing table at most, even if no change was signalled
    "ROUTING_MAX_AGE_SECONDS": 60.0,
    # seconds between a web process's checks of the Redis API token counter: a token
    # revoked (or a user changed) in another process is refused within this time
    "API_TOKEN_CHECK_SECONDS": 0.1,
    # seconds a web process reuses a token's user without reading the database (the
    # bound when a revoke could not be announced because Redis did not answer)
    "API_TOKEN_CACHE_SECONDS": 10.0,
    # rows per page on every paginated list
    "PER_PAGE": 25,
    # ISO 4217 code of the currency budgets and rates are in (pages show it)
    "CURRENCY": "USD",
    # login attempts allowed per client address (counted across every web process)
    "RATELIMIT_LOGIN": "10 per minute",
    # JSON API calls allowed per token; calls without a known token count per address;
    # a batch prediction costs one call per pair
    "RATELIMIT_API": "1200 per minute",
    # storage for rate-limit counters; unset means the Redis of REDIS_URL, else the
    # embedded Redis (memory:// when ENV is testing)
    "RATELIMIT_STORAGE_URI": None,
    # largest request body accepted, in bytes
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    # enqueue retraining of a model type after this many new outcomes
    "RETRAIN_EVERY_N_OUTCOMES": 50,
    # enqueue retraining of an activity-trained type (trend) after this many new
    # niche-activity periods (one import of a new week or month is enough)
    "RETRAIN_EVERY_N_ACTIVITY": 1,
    # a training run fails when fewer labelled collaborations than this are available
    "MIN_TRAINING_SAMPLES": 200,
    # brand-side success_rating at or above this (and completed) counts as a success
    "SUCCESS_MIN_RATING": 4,
    # a collaboration failed (risk target) when cancelled, disputed, or its brand
    # rated it at or below this
    "RISK_FAILURE_MAX_RATING": 2,
    # days before an experiment's start whose data is each unit's CUPED covariate
    "CUPED_LOOKBACK_DAYS": 90,
    # coverage of the history-based ROI interval when no roi model can serve
    "ROI_FALLBACK_COVERAGE": 0.9,
    # largest number of pairs in one batch prediction call
    "API_MAX_BATCH": 1000,
    # prediction log rows older than this many days are purged by the scheduler
    "PREDICTION_LOG_RETENTION_DAYS": 180,
    # live monitoring: days per window of the dashboard's figures, and how many windows
    "MONITORING_WINDOW_DAYS": 7,
    "MONITORING_WINDOWS": 8,
    # most recent logged pairs per version whose features are rebuilt for drift
    "MONITORING_DRIFT_SAMPLE": 1000,
    # seconds the dashboard's figures are reused before they are computed again
    "MONITORING_CACHE_SECONDS": 60,
    # seconds the dashboard may lag behind new predictions, outcomes and activity
    # (a busy marketplace adds them every second); a new, promoted or shadowing
    # version is shown at once
    "MONITORING_MAX_LAG_SECONDS": 60,
    # alert when a feature's population stability index exceeds this
    "MONITORING_PSI_ALERT": 0.2,
    # alert when a version's realised ROC AUC falls below this (success and risk)
    "MONITORING_MIN_AUC": 0.6,
    # alert when a version's realised Brier score exceeds this
    "MONITORING_MAX_BRIER": 0.25,
    # alert when observed and predicted success differ by more than this in a decile
    "MONITORING_MAX_CALIBRATION_GAP": 0.15,
    # alert when the share of predictions answered by the fallback exceeds this
    "MONITORING_MAX_ERROR_RATE": 0.05,
    # alert when intervals cover this much less often than their nominal level
    "MONITORING_MAX_COVERAGE_SHORTFALL": 0.1,
    # alert when a figure rests on fewer pairs than this (no other alert is raised)
    "MONITORING_MIN_PAIRS": 30,
    # the purge deletes expired prediction log rows in transactions of this many rows
    "PREDICTION_LOG_PURGE_BATCH": 5000,
    # async: requests queue their prediction log rows and a background thread of each
    # process inserts them in bulk; sync: each request inserts and commits its rows
    "PREDICTION_LOG_FLUSH": "async",
    # async: the longest a served prediction waits in memory before it is written
    # (what a crashed process can lose)
    "PREDICTION_LOG_FLUSH_SECONDS": 1.0,
    # async: write at once when this many rows are waiting
    "PREDICTION_LOG_FLUSH_ROWS": 500,
    # seconds a training job may run before the worker kills it
    "TRAINING_JOB_TIMEOUT": 3600,
    # native threads (OpenMP/BLAS) a training job may use
    "TRAINING_THREADS": 2,
    # brands whose Find influencers list training replays on the final window (a fixed
    # random sample when more brands had a success there; 0 turns the measurement off)
    "RANKING_EVAL_MAX_BRANDS": 200,
    # native threads per web process for predictions (1 avoids contention between requests)
    "SERVING_THREADS": 1,
    # seconds a process reuses its encoded candidate pool for rankings before reloading
    "RANKING_POOL_SECONDS": 300,
    # seconds between scheduler checks for due retraining and purges
    "SCHEDULER_INTERVAL": 60,
    # seconds between evaluations of running rollouts (advance, hold, roll back)
    "ROLLOUT_EVALUATION_INTERVAL": 60,
    # serve /metrics (Prometheus text format); off answers 404
    "METRICS_ENABLED": False,
    # bearer token a Prometheus scraper sends to /metrics (an admin's API token works too)
    "METRICS_TOKEN": None,
    # seconds between shadow passes (a shadow version scores what was served since)
    "SHADOW_INTERVAL": 60,
    # most served predictions one shadow pass scores (the rest wait for the next)
    "SHADOW_BATCH_SIZE": 5000,
    # Python logging level name for the app, workers and scheduler
    "LOG_LEVEL": "INFO",
    # send session cookies over HTTPS only (forced on in production)
    "SESSION_COOKIE_SECURE": False,
    # trust one proxy's X-Forwarded-* headers (set behind nginx or a load balancer)
    "PROXY_FIX": False,
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(RuntimeError):
    """Raised when the configuration cannot produce a safe, working app."""


def coerce(key: str, raw: str, default: Any) -> Any:
    """Convert an environment string to the type of the key's default."""
    if isinstance(default, bool):
        value = raw.strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise ConfigError(f"{ENV_PREFIX}{key}={raw!r} is not a boolean")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{ENV_PREFIX}{key}={raw!r} is not an integer") from None
    if isinstance(default, float):
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"{ENV_PREFIX}{key}={raw!r} is not a number") from None
    return raw


def from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """Return the ``MATCHLOOP_<KEY>`` overrides found in ``environ``."""
    overrides = {}
    for key, default in DEFAULTS.items():
        name = ENV_PREFIX + key
        if name in environ:
            overrides[key] = coerce(key, environ[name], default)
    return overrides


def dev_secret_key(instance_path: str) -> str:
    """Return the development secret, creating instance/secret_key on first use."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Web, worker and scheduler may start together: write a private temp file
        # and link it into place, so nobody reads a half-written key and the first
        # link wins.
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
            with suppress(FileExistsError):
                os.link(temp, path)
        finally:
            os.unlink(temp)
    secret = path.read_text().strip()
    if not secret:
        raise ConfigError(f"{path} is empty; delete it to generate a new secret")
    return secret


def finalize(config: dict[str, Any], instance_path: str) -> None:
    """Fill derived settings (URLs, paths, Flask keys) once all layers are applied."""
    instance = Path(instance_path)
    if config["ENV"] not in {"development", "production", "testing"}:
        raise ConfigError(
            f"ENV must be development, production or testing, not {config['ENV']!r}"
        )
    check_currency(config)
    check_artifact_store(config)
    if config["PREDICTION_LOG_FLUSH"] not in {"async", "sync"}:
        raise ConfigError(
            "PREDICTION_LOG_FLUSH must be async or sync, "
            f"not {config['PREDICTION_LOG_FLUSH']!r}"
        )
    if not config.get("SECRET_KEY"):
        if config["ENV"] == "production":
            raise ConfigError(
                "MATCHLOOP_SECRET_KEY must be set in production "
                "(generate one: python -c 'import secrets; print(secrets.token_hex(32))')"
            )
        config["SECRET_KEY"] = dev_secret_key(instance_path)
    if config["ENV"] == "production":
        config["SESSION_COOKIE_SECURE"] = True
        # The "keep me signed in" cookie restores a session: protect it the same way.
        config["REMEMBER_COOKIE_SECURE"] = True
    config["SQLALCHEMY_DATABASE_URI"] = config.get("DATABASE_URL") or (
        f"sqlite:///{instance / 'matchloop.sqlite'}"
    )
    config["MODEL_DIR"] = str(config.get("MODEL_DIR") or instance / "models")
    config["EMBEDDED_REDIS_SOCKET"] = str(instance / "redis.sock")
    config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
        config["SQLALCHEMY_DATABASE_URI"]
    )
    configure_rate_limits(config)


def configure_rate_limits(config: dict[str, Any]) -> None:
    """Count rate limits in Redis, shared by every web process; survive a Redis outage."""
    if not config.get("RATELIMIT_STORAGE_URI"):
        if config["ENV"] == "testing":
            config["RATELIMIT_STORAGE_URI"] = "memory://"
        else:
            config["RATELIMIT_STORAGE_URI"] = limiter_storage(
                config.get("REDIS_URL") or f"unix://{config['EMBEDDED_REDIS_SOCKET']}"
            )
    config.setdefault("RATELIMIT_KEY_PREFIX", "matchloop")
    # A moving window: no double burst at window edges, and a call refused for
    # exceeding the limit (a big batch) costs nothing.
    config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    # A Redis that is down or restarting must not stall or fail requests: count in
    # this process's memory until it answers again.
    config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    if not config["RATELIMIT_STORAGE_URI"].startswith("memory"):
        config.setdefault(
            "RATELIMIT_STORAGE_OPTIONS",
            {"socket_connect_timeout": 1, "socket_timeout": 1},
        )


def check_currency(config: dict[str, Any]) -> None:
    """Refuse a CURRENCY that is not an ISO 4217 code (it is shown on every budget)."""
    from babel.numbers import is_currency

    code = str(config.get("CURRENCY") or "").strip().upper()
    if not is_currency(code):
        raise ConfigError(
            f"CURRENCY must be an ISO 4217 code such as USD or EUR, "
            f"not {config.get('CURRENCY')!r}"
        )
    config["CURRENCY"] = code


def check_artifact_store(config: dict[str, Any]) -> None:
    """Refuse an ARTIFACT_STORE other than ``local`` or ``database``."""
    kind = str(config.get("ARTIFACT_STORE") or "").strip().lower()
    if kind not in {"local", "database"}:
        raise ConfigError(
            f"ARTIFACT_STORE must be local or database, not {config.get('ARTIFACT_STORE')!r}"
        )
    config["ARTIFACT_STORE"] = kind


def limiter_storage(redis_url: str) -> str:
    """Return the rate-limit storage URI of a Redis URL."""
    if redis_url.startswith("unix://"):
        # The limits library spells Redis-over-a-socket redis+unix://.
        return "redis+unix://" + redis_url.removeprefix("unix://")
    return redis_url


def engine_options(url: str) -> dict[str, Any]:
    """Return engine options suited to the database behind ``url``."""
    if url.startswith("sqlite"):
        # Worker threads and the dev server share the file; wait instead of failing.
        return {"connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 10}
