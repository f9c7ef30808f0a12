"""Prediction latency in-process and over HTTP (gunicorn, 2 workers), and ranking time.

Over HTTP the two workers share an embedded Redis, as under ``flask up``: rate
limits are counted there and change notices (routing, API tokens) read there,
so the figures include what a shared limiter costs.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select

from webapp import serving
from webapp.config import limiter_storage
from webapp.extensions import db
from webapp.models import ApiToken, Company, Influencer, ModelVersion, TrainingRun, User
from webapp.registry import versions
from webapp.runtime import embedded_redis
from workers.training import train_model

PROJECT = Path(__file__).resolve().parent.parent


def percentiles(seconds: list[float]) -> dict[str, float]:
    """Return p50/p99/mean in milliseconds."""
    ms = np.array(seconds) * 1000
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "mean_ms": round(float(ms.mean()), 2),
        "n": len(ms),
    }


def sample_pairs(n: int, seed: int = 1) -> list[tuple[str, str]]:
    """Return ``n`` random (influencer external id, company external id) pairs."""
    influencers = db.session.scalars(select(Influencer.external_id)).all()
    companies = db.session.scalars(select(Company.external_id)).all()
    rng = np.random.default_rng(seed)
    return [
        (influencers[i], companies[c])
        for i, c in zip(
            rng.integers(0, len(influencers), n),
            rng.integers(0, len(companies), n),
            strict=True,
        )
    ]


def in_process(n: int = 400) -> dict[str, Any]:
    """Time ``serving.predict_pairs`` for one pair at a time, as the API calls it."""
    pairs = sample_pairs(n)
    by_ext_inf = dict(
        db.session.execute(select(Influencer.external_id, Influencer.id)).all()
    )
    by_ext_co = dict(db.session.execute(select(Company.external_id, Company.id)).all())
    serving.predict_pairs(
        [
            (
                db.session.get(Influencer, by_ext_inf[pairs[0][0]]),
                db.session.get(Company, by_ext_co[pairs[0][1]]),
            )
        ]
    )
    timings = []
    for inf_ext, co_ext in pairs:
        started = time.perf_counter()
        influencer = db.session.get(Influencer, by_ext_inf[inf_ext])
        company = db.session.get(Company, by_ext_co[co_ext])
        serving.predict_pairs([(influencer, company)])
        timings.append(time.perf_counter() - started)
    return percentiles(timings)


def ranking(repeats: int = 15) -> dict[str, Any]:
    """Time ranking every influencer for one brand (cold pool once, then warm)."""
    company = db.session.scalars(select(Company).order_by(Company.id)).first()
    candidates = db.session.scalar(select(func.count()).select_from(Influencer))
    serving.serving_state().pool.clear()
    started = time.perf_counter()
    serving.rank_influencers(company, limit=20)
    cold = time.perf_counter() - started
    warm = []
    for _ in range(repeats):
        started = time.perf_counter()
        serving.rank_influencers(company, limit=20)
        warm.append(time.perf_counter() - started)
    return {
        "candidates": candidates,
        "cold_ms": round(cold * 1000, 1),
        **percentiles(warm),
    }


def issue_token() -> str:
    """Create a bench admin and return a fresh API token."""
    user = User(email="bench@matchloop.test", role="admin")
    user.set_password("bench-password")
    db.session.add(user)
    _, plain = ApiToken.issue(user, "bench")
    db.session.commit()
    return plain


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def shared_redis(world):
    """Yield the URL of an embedded Redis in the world's instance folder; stop it after."""
    socket = world.directory / "instance" / "redis.sock"
    owner = embedded_redis.start(str(socket))
    try:
        yield f"unix://{socket}"
    finally:
        if owner is not None:
            embedded_redis.stop(owner)


def start_gunicorn(world, port: int, redis_url: str) -> subprocess.Popen:
    """Start gunicorn with 2 workers on the world's database and ``redis_url``."""
    env = dict(os.environ)
    env.update(
        MATCHLOOP_ENV="testing",
        MATCHLOOP_SECRET_KEY="bench",
        MATCHLOOP_DATABASE_URL=world.database_url,
        MATCHLOOP_INSTANCE_PATH=str(world.directory / "instance"),
        MATCHLOOP_MODEL_DIR=str(world.directory / "models"),
        MATCHLOOP_REDIS_URL=redis_url,
        # The testing environment would count in each process's memory.
        MATCHLOOP_RATELIMIT_STORAGE_URI=limiter_storage(redis_url),
        MATCHLOOP_RATELIMIT_API="1000000 per minute",
        MATCHLOOP_LOG_LEVEL="WARNING",
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            # The hooks `flask up` runs with: warm-up, prediction log written on exit.
            "--config",
            "python:webapp.runtime.gunicorn_conf",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=PROJECT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def _client_loop(port: int, token: str, pairs, results: list, errors: list) -> None:
    """Send predictions over one keep-alive connection and record each latency."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for inf_ext, co_ext in pairs:
        body = json.dumps({"influencer_id": inf_ext, "company_id": co_ext})
        started = time.perf_counter()
        connection.request("POST", "/api/v1/predict/match", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            errors.append(response.status)
        results.append(elapsed)
    connection.close()


@contextmanager
def gunicorn_serving(world):
    """Yield the port of gunicorn (2 workers) serving the world; stop it afterwards."""
    port = free_port()
    with shared_redis(world) as redis_url:
        server = start_gunicorn(world, port, redis_url)
        try:
            yield port
        finally:
            server.terminate()
            server.wait(timeout=30)


def over_http(world, token: str, clients: int, per_client: int) -> dict[str, Any]:
    """Measure latency and throughput with ``clients`` concurrent keep-alive clients."""
    with gunicorn_serving(world) as port:
        warm: list = []
        _client_loop(
            port, token, sample_pairs(40, seed=99), warm, []
        )  # both workers warm up
        _client_loop(port, token, sample_pairs(40, seed=98), warm, [])
        return load(port, token, clients, per_client)


def load(port: int, token: str, clients: int, per_client: int) -> dict[str, Any]:
    """Send single-pair predictions from ``clients`` keep-alive client threads.

    The threads are daemons, so Ctrl-C never waits for them.
    """
    results: list[float] = []
    errors: list[int] = []
    threads = [
        threading.Thread(
            target=_client_loop,
            args=(port, token, sample_pairs(per_client, seed=k), results, errors),
            daemon=True,
        )
        for k in range(clients)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {
        "clients": clients,
        **percentiles(results),
        "throughput_per_s": round(len(results) / wall, 1),
        "errors": len(errors),
    }


def _timed_requests(port: int, token: str, requests: list[tuple[str, str, Any]]):
    """Send (method, path, JSON body or None) over one connection; return the seconds each took."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    timings = []
    for method, path, body in requests:
        payload = None if body is None else json.dumps(body)
        started = time.perf_counter()
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        response.read()
        timings.append(time.perf_counter() - started)
        if response.status != 200:
            raise RuntimeError(f"{method} {path} answered {response.status}")
    connection.close()
    return timings


def batch_over_http(world, token: str, size: int = 1000, repeats: int = 20) -> dict:
    """Time ``POST /predict/match/batch`` with ``size`` random pairs, one client."""
    batches = [
        (
            "POST",
            "/api/v1/predict/match/batch",
            {
                "pairs": [
                    {"influencer_id": i, "company_id": c}
                    for i, c in sample_pairs(size, seed=200 + k)
                ]
            },
        )
        for k in range(repeats + 4)
    ]
    with gunicorn_serving(world) as port:
        timings = _timed_requests(port, token, batches)[4:]  # both workers warm
    return {"pairs": size, **percentiles(timings)}


def http_figures(world, token: str) -> dict[str, Any]:
    """Return every over-HTTP figure for the active match model (gunicorn, 2 workers)."""
    return {
        "1_client": over_http(world, token, clients=1, per_client=400),
        "8_clients": over_http(world, token, clients=8, per_client=150),
        "batch": batch_over_http(world, token),
        "ranking": ranking_over_http(world, token),
    }


# The single algorithms measured beside the one selection chose.
FORCED_ALGORITHMS = ("logistic_regression", "gradient_boosting")


def by_algorithm(world, token: str) -> dict[str, Any]:
    """Train and serve each of ``FORCED_ALGORITHMS`` on the same world; return its figures.

    Selection picks one algorithm per world; serving must be fast whichever it
    picks, so each is trained through the job function, promoted (even when
    its held-out score is worse) and measured as the chosen one was. The
    version selection chose is promoted back afterwards.
    """
    chosen = versions.active_version("match_success")
    found: dict[str, Any] = {}
    for algorithm in FORCED_ALGORITHMS:
        run = TrainingRun(
            model_type="match_success", params={"algorithm": algorithm, "n_splits": 4}
        )
        db.session.add(run)
        db.session.commit()
        version = db.session.get(ModelVersion, train_model(run.id))
        versions.promote(
            version, None, "bench: latency by algorithm", confirm_worse=True
        )
        found[algorithm] = {
            "held_out_roc_auc": versions.held_out_score(version),
            "compiled": (version.metrics.get("serving") or {}).get("compiled"),
            **http_figures(world, token),
        }
    if chosen is not None:
        versions.promote(
            chosen, None, "bench: selection's choice back", confirm_worse=True
        )
    return found


def ranking_over_http(world, token: str, repeats: int = 60) -> dict[str, Any]:
    """Time ``GET /recommendations`` (every influencer ranked for a brand), one client."""
    companies = db.session.scalars(select(Company.external_id).order_by(Company.id))
    chosen = list(companies)[:repeats]
    candidates = db.session.scalar(select(func.count()).select_from(Influencer))
    requests = [
        ("GET", f"/api/v1/recommendations?company_id={c}&limit=20", None)
        for c in [chosen[0]] * 4 + chosen
    ]
    with gunicorn_serving(world) as port:
        timings = _timed_requests(port, token, requests)[4:]
    return {"candidates": candidates, **percentiles(timings)}
