"""The monitoring dashboard (admins): live figures, drift and alerts per model type."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, url_for

from webapp.core.security import admin_required
from webapp.monitoring import charts, report
from webapp.registry.plugins import installed_types

bp = Blueprint("monitoring", __name__, url_prefix="/monitoring")


@bp.get("/")
@admin_required
def index():
    """Open the dashboard of the first installed model type."""
    names = sorted(installed_types(current_app).names())
    if not names:
        abort(404)
    first = "match_success" if "match_success" in names else names[0]
    return redirect(url_for("monitoring.detail", model_type=first))


@bp.get("/<model_type>")
@admin_required
def detail(model_type: str):
    """Show one model type's live figures per version and window, drift and alerts."""
    try:
        figures = report.type_report(model_type)
    except report.UnknownModelType:
        abort(404)
    threshold = figures["thresholds"]["psi"]
    drift_charts = [
        charts.drift_chart(entry, threshold) for entry in figures["versions"]
    ]
    shown = [
        charts.calibration_chart(figures),
        charts.metric_chart(figures),
        charts.volume_chart(figures),
    ]
    return render_template(
        "monitoring/detail.html",
        report=figures,
        types=sorted(installed_types(current_app).names()),
        charts=[c for c in shown if c],
        error_windows=list(
            zip(figures["windows"], figures["error_rates"], strict=True)
        )[::-1],
        shadow_charts={
            entry["key"]: chart
            for entry in figures["shadow"]
            if (chart := charts.shadow_calibration_chart(entry))
        },
        drift_charts={
            entry["key"]: chart
            for entry, chart in zip(figures["versions"], drift_charts, strict=True)
            if chart
        },
    )
