"""Small niche-activity series for trend tests: a few niches, monthly or weekly."""

from __future__ import annotations

import numpy as np

from webapp.extensions import db
from webapp.models import ModelVersion, NicheActivity, TrainingRun

# Fast trend settings: short backtests, ARIMA orders up to 1.
FAST_TREND = {"horizon": 6, "origins": 2, "max_order": 1, "method": "auto"}
# (niche, yearly log growth): one rising, one flat, one declining.
NICHES = (("fitness", 0.5), ("gaming", 0.0), ("travel", -0.5))


def activity_rows(
    months: int = 36, start: str = "2022-01", seed: int = 4
) -> list[dict]:
    """Return monthly rows: level times a growth trend, a yearly season and noise."""
    rng = np.random.default_rng(seed)
    periods = (np.datetime64(start, "M") + np.arange(months)).astype("datetime64[D]")
    t = np.arange(months) / 12
    rows = []
    for niche, rate in NICHES:
        values = 1000 * np.exp(rate * t + 0.2 * np.sin(2 * np.pi * t))
        values *= np.exp(rng.normal(0, 0.02, months))
        rows += [
            {"niche": niche, "period_start": p.item(), "value": round(float(v), 2)}
            for p, v in zip(periods, values, strict=True)
        ]
    return rows


def seed_activity(**kwargs) -> list[dict]:
    """Insert the rows of ``activity_rows`` and commit; return them."""
    rows = activity_rows(**kwargs)
    db.session.execute(db.insert(NicheActivity), rows)
    db.session.commit()
    return rows


def train_trend(params: dict | None = None) -> ModelVersion:
    """Commit a queued trend run and train it in-process, as the worker would."""
    from workers.training import train_model

    run = TrainingRun(model_type="trend", params=params or FAST_TREND)
    db.session.add(run)
    db.session.commit()
    return db.session.get(ModelVersion, train_model(run.id))
