"""One model type's live figures: realised quality per version and window, drift, alerts.

``type_report`` computes it all (cached per process and shared through Redis by
``snapshots.usable``'s rule: at most MONITORING_CACHE_SECONDS old, never across
a version change, at most MONITORING_MAX_LAG_SECONDS behind new data); the dashboard and the API show
the same dict. Windows are MONITORING_WINDOW_DAYS long, the newest ending now;
a joined pair falls in the window in which its outcome became known.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from flask import current_app
from sqlalchemy import case, func, select

from webapp.core.timeutil import iso_utc, utcnow
from webapp.extensions import db
from webapp.models import (
    ModelVersion,
    NicheActivity,
    OutcomeRevision,
    PredictionLog,
    ShadowPeriod,
    StatusChange,
)
from webapp.monitoring import (
    alerts,
    drift,
    joins,
    live_features,
    outcomes,
    quality,
    shadow,
    snapshots,
)
from webapp.monitoring.reference import REFERENCE_KEY
from webapp.registry.contract import ModelType, Subject
from webapp.registry.plugins import installed_types
from webapp.serving.prediction_log import served

_CACHE_KEY = "matchloop.monitoring"


class UnknownModelType(LookupError):
    """The name is not an installed model type (pages answer 404)."""


def plugin_of(name: str) -> ModelType:
    """Return the installed type ``name``, else UnknownModelType."""
    types = installed_types(current_app)
    if name not in types.names():
        raise UnknownModelType(f"{name!r} is not an installed model type")
    return types.get(name)


def kind_of(plugin: ModelType) -> str | None:
    """Return how a type's realised figures are computed (None: nothing to compare)."""
    if plugin.subject == Subject.NICHE_SERIES:
        return "forecast"
    return outcomes.TARGET_KINDS.get(plugin.target)


def window_edges(now: datetime, days: int, count: int) -> list[datetime]:
    """Return the count + 1 window boundaries, oldest first, the last one ``now``."""
    return [now - timedelta(days=days * (count - k)) for k in range(count + 1)]


def window_of(times: pd.Series, edges: list[datetime]) -> np.ndarray:
    """Return each time's window index (-1 before the first, len-1 windows)."""
    stamps = np.array(edges, dtype="datetime64[s]")
    index = np.searchsorted(stamps, times.to_numpy("datetime64[s]"), side="right") - 1
    return np.where(index >= len(edges) - 1, len(edges) - 2, index)


def figures(kind: str, rows: pd.DataFrame) -> dict[str, Any]:
    """Return the realised figures of joined ``rows`` for a type of ``kind``."""
    if kind == "binary":
        return quality.binary(rows["label"], rows["score"], rows["rating"])
    if kind == "risk":
        return quality.risk(rows["label"], rows["score"], rows["rating"])
    if kind == "value":
        return quality.interval_regression(
            rows["label"],
            rows["score"],
            rows["interval_low"],
            rows["interval_high"],
            rows["interval_level"],
        )
    return quality.forecast(
        rows["label"], rows["score"], rows["interval_low"], rows["interval_high"]
    )


def forecast_pairs(model_type: str) -> pd.DataFrame:
    """Return forecast points joined with the activity later imported for their period.

    A forecast starts after the last period its data held, so any value stored
    for one of its periods arrived after it was made. Per version, niche and
    period the latest forecast counts once.
    """
    logs = db.session.execute(
        select(
            func.coalesce(PredictionLog.version_id, joins.FALLBACK_KEY),
            PredictionLog.subject,
            PredictionLog.created_at,
            PredictionLog.forecast,
        )
        .where(
            PredictionLog.model_type == model_type,
            PredictionLog.forecast.is_not(None),
            served(),
        )
        .order_by(PredictionLog.created_at, PredictionLog.id)
    ).all()
    points = [
        (
            key,
            niche,
            created,
            str(p["period_start"])[:10],
            p["value"],
            p.get("lower"),
            p.get("upper"),
        )
        for key, niche, created, forecast in logs
        for p in forecast or ()
    ]
    columns = [
        "version_key",
        "niche",
        "created_at",
        "period",
        "score",
        "interval_low",
        "interval_high",
    ]
    frame = pd.DataFrame(points, columns=columns)
    if frame.empty:
        return frame.assign(label=[], known_at=[])
    frame = frame.drop_duplicates(["version_key", "niche", "period"], keep="last")
    actual = pd.DataFrame(
        db.session.execute(
            select(NicheActivity.niche, NicheActivity.period_start, NicheActivity.value)
        ).all(),
        columns=["niche", "period", "label"],
    )
    actual["period"] = actual["period"].astype(str)
    joined = frame.merge(actual, on=["niche", "period"], how="inner")
    joined["known_at"] = pd.to_datetime(joined["period"]).astype("datetime64[s]")
    for name in ("score", "interval_low", "interval_high", "label"):
        joined[name] = joined[name].astype(float)
    return joined


def joined_rows(plugin: ModelType, kind: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (joined pairs, the type's pair logs) for a type of ``kind``."""
    if kind == "forecast":
        return forecast_pairs(plugin.name), pd.DataFrame()
    logs = joins.pair_logs(plugin.name)
    realised = outcomes.realised(plugin.target, current_app.config)
    return joins.join(realised, logs), logs


def volumes(model_type: str, edges: list[datetime]) -> dict[int, dict[str, Any]]:
    """Return per version key: total predictions and per-window counts (SQL aggregates)."""
    window = case(
        *[
            (PredictionLog.created_at < edge, k - 1)
            for k, edge in enumerate(edges[1:], 1)
        ],
        else_=len(edges) - 2,
    )
    key = func.coalesce(PredictionLog.version_id, joins.FALLBACK_KEY)
    per_window = db.session.execute(
        select(key, window, func.count())
        .where(
            PredictionLog.model_type == model_type,
            PredictionLog.created_at >= edges[0],
            served(),
        )
        .group_by(key, window)
    ).all()
    totals = db.session.execute(
        select(key, func.count(), func.min(PredictionLog.created_at))
        .where(PredictionLog.model_type == model_type, served())
        .group_by(key)
    ).all()
    found: dict[int, dict[str, Any]] = {
        int(k): {"total": int(n), "first": first, "windows": [0] * (len(edges) - 1)}
        for k, n, first in totals
    }
    for k, w, n in per_window:
        found[int(k)]["windows"][int(w)] += int(n)
    return found


def error_rates(
    counts: dict[int, dict[str, Any]], windows: int
) -> list[dict[str, Any]]:
    """Return per window the predictions, fallback answers and their share."""
    result = []
    for w in range(windows):
        total = sum(c["windows"][w] for c in counts.values())
        fallbacks = counts.get(joins.FALLBACK_KEY, {"windows": [0] * windows})[
            "windows"
        ][w]
        result.append(
            {
                "predictions": total,
                "fallbacks": fallbacks,
                "error_rate": fallbacks / total if total else None,
            }
        )
    return result


def live_rows(
    plugin: ModelType, versions: dict[int, ModelVersion], logs: pd.DataFrame
) -> dict[int, dict[str, np.ndarray]]:
    """Return the live feature columns of every version of a pair type, rebuilt at once."""
    if plugin.subject == Subject.NICHE_SERIES or logs.empty:
        return {}
    config = current_app.config
    return live_features.rows_by_version(
        logs,
        sorted(versions),
        int(config["MONITORING_DRIFT_SAMPLE"]),
        plugin.features,
        int(config["SUCCESS_MIN_RATING"]),
    )


def version_drift(
    plugin: ModelType,
    version: ModelVersion | None,
    live_pairs: dict[int, dict[str, np.ndarray]],
):
    """Return (drift per feature, note) of a version against its training reference.

    :param live_pairs: a pair type's rebuilt live rows per version (``live_rows``).
    """
    if version is None:
        return {}, "the rule-based fallback was not trained: no reference to compare"
    reference = (version.metrics or {}).get(REFERENCE_KEY)
    if not reference:
        return {}, (
            f"{version.label} kept no training distribution (trained before "
            "monitoring stored one); retrain to compare its inputs"
        )
    if plugin.subject == Subject.NICHE_SERIES:
        live = live_features.series_values(version)
        empty = "no niche activity imported since this version was trained"
    else:
        live = live_pairs.get(version.id) or {}
        empty = "no predictions served by this version yet"
    found = drift.drift(reference, live)
    return found, None if found else empty


def fingerprint() -> snapshots.Mark:
    """Return what changes whenever a figure could change (highest ids of the inputs).

    Versions and shadow periods are its structure: a report computed before one
    of them changed is never shown. New predictions, outcomes, status changes and
    activity are its data, which moves with every request of a busy marketplace.
    """

    def highest(*columns) -> tuple:
        return tuple(db.session.scalar(select(func.max(c))) for c in columns)

    active = db.session.scalar(
        select(func.count()).where(ModelVersion.status == "active")
    )
    structure = highest(
        ModelVersion.id,
        ShadowPeriod.id,
        ShadowPeriod.last_pass_at,
        ShadowPeriod.stopped_at,
    ) + (active,)
    data = highest(
        PredictionLog.id, OutcomeRevision.id, StatusChange.id, NicheActivity.id
    )
    return snapshots.Mark.of(structure, data)


def type_report(name: str) -> dict[str, Any]:
    """Return the live figures of model type ``name`` (cached); UnknownModelType if none.

    This process's cache first, then the snapshot every process shares
    (``snapshots``, kept fresh by the periodic job), else computed here and shared;
    either is used by ``snapshots.usable``'s rule.
    """
    plugin = plugin_of(name)
    cache = current_app.extensions.setdefault(_CACHE_KEY, {})
    seconds, lag = snapshots.lifetimes()
    mark = fingerprint()
    hit = cache.get(name)
    if hit is not None and snapshots.usable(
        hit[0], mark, time.monotonic() - hit[1], seconds, lag
    ):
        return hit[2]
    shared = snapshots.load(name, mark, seconds, lag)
    if shared is not None:
        report, age, computed_from = shared
    else:
        report, age, computed_from = compute(plugin), 0.0, mark
        snapshots.save(name, mark, report, seconds)
    cache[name] = (computed_from, time.monotonic() - age, report)
    return report


def refresh(name: str) -> bool:
    """Compute and share ``name``'s figures unless a fresh enough snapshot exists.

    The periodic job's half: a snapshot past half its lifetime, or behind the
    data by more than half the lag allowed, is renewed, so a page never finds it
    expired while the job runs. Returns whether it computed.
    """
    plugin = plugin_of(name)
    seconds, lag = snapshots.lifetimes()
    mark = fingerprint()
    if snapshots.load(name, mark, seconds / 2, lag / 2) is not None:
        return False
    snapshots.save(name, mark, compute(plugin), seconds)
    return True


def compute(plugin: ModelType) -> dict[str, Any]:
    """Compute the live figures of ``plugin``'s type now (no cache)."""
    config = current_app.config
    days, count = (
        int(config["MONITORING_WINDOW_DAYS"]),
        int(config["MONITORING_WINDOWS"]),
    )
    now = utcnow()
    edges = window_edges(now, days, count)
    limits = alerts.Thresholds.of(config)
    kind = kind_of(plugin)
    joined, logs = (
        joined_rows(plugin, kind) if kind else (pd.DataFrame(), pd.DataFrame())
    )
    counts = volumes(plugin.name, edges)
    rates = error_rates(counts, count)
    keys = set(counts)
    if not joined.empty:
        keys |= set(joined["version_key"].astype(int))
    versions = {
        v.id: v
        for v in db.session.scalars(
            select(ModelVersion).where(
                ModelVersion.model_type == plugin.name,
                (ModelVersion.id.in_(keys)) | (ModelVersion.status == "active"),
            )
        )
    }
    keys |= set(versions)
    if not joined.empty:
        joined = joined.assign(window=window_of(joined["known_at"], edges))
    # Only versions that kept a training distribution have their inputs rebuilt.
    compared = {
        k: v for k, v in versions.items() if (v.metrics or {}).get(REFERENCE_KEY)
    }
    live = live_rows(plugin, compared, logs)
    entries = [
        version_entry(
            plugin, kind, key, versions.get(key), joined, live, counts, count, limits
        )
        for key in sorted(
            keys,
            key=lambda k: (
                k == joins.FALLBACK_KEY,
                -(versions[k].version if k in versions else 0),
            ),
        )
    ]
    type_alerts = alerts.error_rate_alerts(rates[-1], limits)
    return {
        "model_type": plugin.name,
        "title": plugin.title or plugin.name,
        "target": plugin.target,
        "kind": kind,
        "generated_at": iso_utc(now),
        "window_days": days,
        "windows": [
            {"start": iso_utc(a), "end": iso_utc(b)}
            for a, b in zip(edges, edges[1:], strict=False)
        ],
        "error_rates": rates,
        "versions": entries,
        "alerts": type_alerts
        + [a | {"version": e["label"]} for e in entries for a in e["alerts"]],
        "thresholds": vars(limits),
        "shadow": shadow.comparison(plugin, kind, figures),
    }


def version_entry(plugin, kind, key, version, joined, live, counts, count, limits):
    """Return one version's volume, realised figures overall and per window, drift, alerts."""
    mine = joined[joined["version_key"] == key] if not joined.empty else joined
    overall = figures(kind, mine) if kind and not mine.empty else None
    windows = []
    for w in range(count):
        rows = mine[mine["window"] == w] if not mine.empty else mine
        windows.append(figures(kind, rows) if kind and not rows.empty else None)
    found, note = version_drift(plugin, version, live)
    latest = next((w for w in reversed(windows) if w), None)
    volume = counts.get(key, {"total": 0, "windows": [0] * count, "first": None})
    return {
        "key": key,
        "version": version.version if version else None,
        "label": version.label if version else "rule-based fallback",
        "status": version.status if version else "fallback",
        "predictions": volume["total"],
        "first_served_at": iso_utc(volume["first"]) if volume["first"] else None,
        "volume": volume["windows"],
        "overall": overall,
        "windows": windows,
        "drift": found,
        "drift_note": note,
        "alerts": alerts.quality_alerts(latest or {}, limits)
        + alerts.drift_alerts(found, limits),
    }
