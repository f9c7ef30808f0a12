"""The ``activity`` target: every niche's NicheActivity series, as imported up to now."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import groupby
from typing import Any

import numpy as np
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import NicheActivity
from webapp.registry.contract import Series, SeriesData, TrainingFailed


def activity_series(config: Mapping[str, Any]) -> SeriesData:
    """Return one series per niche, periods ascending (the trend type's training data)."""
    rows = db.session.execute(
        select(
            NicheActivity.niche, NicheActivity.period_start, NicheActivity.value
        ).order_by(NicheActivity.niche, NicheActivity.period_start)
    ).all()
    if not rows:
        raise TrainingFailed(
            "There is no niche activity yet: import it with "
            "'flask --app wsgi import-csv --niche-activity FILE'."
        )
    series = []
    for niche, group in groupby(rows, key=lambda r: r.niche):
        group = list(group)
        series.append(
            Series(
                key=niche,
                periods=np.array(
                    [r.period_start for r in group], dtype="datetime64[D]"
                ),
                values=np.array([r.value for r in group], dtype=float),
            )
        )
    return SeriesData(
        series=series,
        target="activity",
        meta={"niches": len(series), "latest": str(rows[-1].period_start)},
    )
