"""Benchmark worlds: a seeded demo marketplace in its own SQLite file."""

from __future__ import annotations

import os
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from webapp import create_app
from webapp.extensions import db
from webapp.marketplace import demo
from webapp.models import Outcome


@dataclass
class World:
    """A seeded app and what it took to build it."""

    app: Flask
    directory: Path
    database_url: str
    seed_seconds: float
    collaborations: int
    rated: int
    params: demo.WorldParameters | None = None


def bench_app(directory: Path, database_url: str, **config) -> Flask:
    """Return an app on ``database_url`` with its instance in ``directory``."""
    os.environ["MATCHLOOP_INSTANCE_PATH"] = str(directory / "instance")
    return create_app(
        {
            "ENV": "testing",
            "SECRET_KEY": "bench",
            "DATABASE_URL": database_url,
            "MODEL_DIR": str(directory / "models"),
            "MIN_TRAINING_SAMPLES": 100,
            # No routing watcher thread in the bench's own process: it would poll
            # beside the HTTP clients it times, and outlive the world's files.
            "ROUTING_WATCH": False,
            **config,
        }
    )


def world_parameters(collaborations: int, seed: int = 11, **changes):
    """Return the bench's world parameters: the defaults, sized by ``collaborations``."""
    return demo.WorldParameters(
        n_influencers=max(200, int(collaborations * 0.4)),
        n_companies=max(30, collaborations // 50),
        n_collaborations=collaborations,
        seed=seed,
        **changes,
    )


@contextmanager
def seeded_world(
    collaborations: int,
    seed: int = 11,
    params: demo.WorldParameters | None = None,
    **config,
):
    """Yield a World with ``collaborations`` demo collaborations in a fresh SQLite file.

    :param params: the whole world's parameters (then ``collaborations`` and
        ``seed`` are theirs); by default ``world_parameters(collaborations, seed)``.
    """
    params = params or world_parameters(collaborations, seed)
    with tempfile.TemporaryDirectory(prefix="matchloop-bench-") as tmp:
        directory = Path(tmp)
        url = f"sqlite:///{directory / 'bench.sqlite'}"
        app = bench_app(directory, url, **config)
        with app.app_context():
            from flask_migrate import upgrade

            upgrade(directory=app.extensions["migrate"].directory)
            started = time.perf_counter()
            demo.seed_world(params=params, progress=lambda fraction, stage: None)
            seconds = time.perf_counter() - started
            rated = db.session.scalar(
                select(func.count())
                .select_from(Outcome)
                .where(Outcome.rater_side == "company")
            )
            yield World(
                app, directory, url, seconds, params.n_collaborations, rated, params
            )
            db.session.remove()
            db.engine.dispose()


def run_alone(run, description: str) -> None:
    """Seed a 20k world (``--quick``: 2.6k) and print ``run(app)`` as JSON (``python -m bench.X``)."""
    import argparse
    import json

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a 2.6k world")
    args = parser.parse_args()
    size = 2600 if args.quick else 26000
    with seeded_world(size) as world, world.app.app_context():
        print(json.dumps({"rated_by_brands": world.rated, **run(world.app)}, indent=2))
