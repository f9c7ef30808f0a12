"""Trends: every niche's activity forecast, its trend and growth, and the emerging niches.

Members read it too. It shows what the trend model serves (or the naive
fallback, saying so), never a forecast that hides how it did in the backtest.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from webapp.core import taxonomy
from webapp.registry.contract import Forecast, Series, chart_spec
from webapp.serving import forecasts

bp = Blueprint("trends", __name__, url_prefix="/trends")
HORIZONS = (4, 12, 26, 52)
TREND_ORDER = {"rising": 0, "stable": 1, "declining": 2}


def chosen_horizon() -> int:
    """Return the horizon asked for (?horizon=), or the default when it is not offered."""
    asked = request.args.get("horizon", type=int)
    return asked if asked in HORIZONS else forecasts.DEFAULT_HORIZON


def niche_chart(
    forecast: Forecast, series: Series | None, horizon: int
) -> dict[str, Any]:
    """Return a line chart of a niche's recent history, forecast and interval band."""
    values = list(series.values) if series is not None else []
    periods = [str(p)[:10] for p in series.periods] if series is not None else []
    shown = min(
        len(values),
        max(3 * horizon, 2 * forecast.summary.get("seasonal_period", 1), 26),
    )
    past, past_periods = values[len(values) - shown :], periods[len(periods) - shown :]
    ahead = [p.period_start.isoformat() for p in forecast.points]
    gap = [None] * len(past)
    # The forecast line starts at the last observation so the two lines join.
    joined = gap[:-1] + [past[-1]] if past else []
    level = round(forecast.level * 100)
    return chart_spec(
        f"niche-{forecast.key}",
        f"{taxonomy.label(forecast.key)}: history, forecast and {level} % interval",
        "line",
        [
            {
                "label": "history",
                "data": [round(v, 2) for v in past] + [None] * len(ahead),
            },
            {
                "label": "forecast",
                "dashed": True,
                "data": joined + [round(p.value, 2) for p in forecast.points],
            },
            {
                "label": "lower",
                "data": gap + [round(p.lower, 2) for p in forecast.points],
            },
            {
                "label": "upper",
                "fill": "lower",
                "data": gap + [round(p.upper, 2) for p in forecast.points],
            },
        ],
        y_label="activity",
        labels=past_periods + ahead,
    )


@bp.route("/")
def index():
    """Show every niche's forecast chart, the trend table and the emerging niches."""
    horizon = chosen_horizon()
    report = forecasts.niche_trends(horizon)
    rows = sorted(
        report.forecasts,
        key=lambda f: (
            TREND_ORDER.get(f.summary.get("trend"), 3),
            -(f.summary.get("growth_rate") or 0.0),
        ),
    )
    charts = [niche_chart(f, report.history.get(f.key), horizon) for f in rows]
    return render_template(
        "trends/index.html",
        report=report,
        rows=rows,
        charts=charts,
        emerging=forecasts.emerging(report.forecasts),
        horizon=horizon,
        horizons=HORIZONS,
    )
