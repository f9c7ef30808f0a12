"""Predictions and recommendations: what serving answers, checked and logged."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from sqlalchemy import select

from webapp import serving
from webapp.extensions import db
from webapp.models import Company, Influencer
from webapp.serving import forecasts, light_rows, pair_types, roi
from webapp.views.api.auth import api_user, may_see_pair, own_ids
from webapp.views.api.blueprint import bp
from webapp.views.api.errors import ApiError
from webapp.views.api.openapi import RECOMMENDATION_PARAMETERS, TREND_PARAMETERS
from webapp.views.api.validation import fail, json_body, query_args

COMPANY_ONLY = ("budget", *serving.RANKING_FILTERS)


def by_external_id(model, external_ids: set[str]) -> dict[str, Any]:
    """Return the rows of ``model`` with these external ids, by external id."""
    if not external_ids:
        return {}
    rows = db.session.scalars(
        select(model).where(model.external_id.in_(sorted(external_ids)))
    )
    return {row.external_id: row for row in rows}


def check_allowed(pairs: list[dict[str, Any]]) -> None:
    """Raise 403 unless the caller may ask about every pair (before any lookup).

    Permission is checked before existence, so members cannot probe which ids
    exist: one pair that is not theirs refuses the whole request.
    """
    user = api_user()
    refused = [
        index
        for index, pair in enumerate(pairs)
        if not may_see_pair(user, pair["influencer_id"], pair["company_id"])
    ]
    if refused:
        raise ApiError(
            403,
            "forbidden",
            {
                "message": "Members may only ask about pairs with their own "
                "company or influencer.",
                "pairs": refused[:100],
            },
        )


class Lookup:
    """The influencers and companies a request names, found in one query each.

    The rows are light records (``light_rows``): only what serving reads.
    """

    def __init__(self, pairs: list[dict[str, Any]]) -> None:
        self.influencers = light_rows.by_external_id(
            Influencer, (p["influencer_id"] for p in pairs)
        )
        self.companies = light_rows.by_external_id(
            Company, (p["company_id"] for p in pairs)
        )

    def unknown(self, pairs: list[dict[str, Any]]) -> dict[str, list[str]]:
        """Return the ids of ``pairs`` that do not exist, by kind (empty lists if none)."""
        return {
            "influencer_ids": sorted(
                {p["influencer_id"] for p in pairs} - self.influencers.keys()
            ),
            "company_ids": sorted(
                {p["company_id"] for p in pairs} - self.companies.keys()
            ),
        }

    def rows(self, pair: dict[str, Any]) -> tuple[Influencer, Company] | None:
        """Return the pair's rows, or None when either id is unknown."""
        influencer = self.influencers.get(pair["influencer_id"])
        company = self.companies.get(pair["company_id"])
        return None if influencer is None or company is None else (influencer, company)


def one_pair() -> tuple[dict[str, Any], tuple[Influencer, Company]]:
    """Return the validated single-pair body and its rows (403/404 as for any pair)."""
    body = json_body("PredictRequest")
    check_allowed([body])
    found = Lookup([body])
    rows = found.rows(body)
    if rows is None:
        raise ApiError(404, "not_found", found.unknown([body]))
    return body, rows


@bp.post("/predict/match")
def predict_match():
    """Predict the success of one influencer-company pair (404 for an unknown id)."""
    body, rows = one_pair()
    [answer] = serving.predict_pairs([rows], [body.get("budget")], source="api")
    return jsonify(answer)


@bp.post("/predict/roi")
def predict_roi():
    """Estimate the ROI of one influencer-company pair with its interval (404 for an unknown id)."""
    body, rows = one_pair()
    [answer] = roi.estimate_pairs([rows], [body.get("budget")], source="api")
    return jsonify(answer)


def installed_type(lookup, model_type: str):
    """Return ``lookup(model_type)``; 404 with details when it is not such a type."""
    try:
        return lookup(model_type)
    except LookupError as error:
        raise ApiError(
            404, "not_found", {"model_type": model_type[:64], "message": str(error)}
        ) from None


@bp.post("/predict/<model_type>")
def predict_declared(model_type: str):
    """Predict one pair with any other installed pair type (risk, third-party types).

    The answer holds what the type declares (its score key, interval and
    coverage, level, factors); an unknown or non-pair type is 404.
    """
    installed_type(pair_types.served_pair_type, model_type)
    body, rows = one_pair()
    try:
        [answer] = pair_types.predict_pairs(
            model_type, [rows], [body.get("budget")], source="api"
        )
    except pair_types.FallbackFailed as error:
        raise ApiError(503, "unavailable", str(error)[:300]) from None
    return jsonify(answer)


@bp.post("/predict/match/batch")
def predict_match_batch():
    """Predict many pairs; answers come back in request order, one per pair.

    A pair naming an unknown id gets ``{"influencer_id", "company_id", "error",
    "details"}`` in its place while the others are predicted; a pair the caller
    may not ask about refuses the whole batch (403).
    """
    pairs = json_body("BatchRequest")["pairs"]
    check_allowed(pairs)
    found = Lookup(pairs)
    rows = [found.rows(pair) for pair in pairs]
    known = [k for k, row in enumerate(rows) if row is not None]
    predicted = serving.predict_pairs(
        [rows[k] for k in known], [pairs[k].get("budget") for k in known], "batch"
    )
    answers: list[dict[str, Any]] = [
        {
            "influencer_id": pair["influencer_id"],
            "company_id": pair["company_id"],
            "error": "not_found",
            "details": found.unknown([pair]),
        }
        if row is None
        else {}
        for pair, row in zip(pairs, rows, strict=True)
    ]
    for k, answer in zip(known, predicted, strict=True):
        answers[k] = answer
    return jsonify(predictions=answers)


def recommendation_subject(args: dict[str, Any]) -> tuple[str, str]:
    """Return ("company" or "influencer", external id); exactly one must be given (422)."""
    given = [kind for kind in ("company", "influencer") if args.get(f"{kind}_id")]
    if len(given) != 1:
        raise fail(
            [
                {
                    "path": "company_id",
                    "message": "give exactly one of company_id and influencer_id",
                }
            ]
        )
    kind = given[0]
    if kind == "influencer":
        extra = [name for name in COMPANY_ONLY if name in args]
        if extra:
            raise fail(
                [
                    {"path": name, "message": f"{name} applies to company_id only"}
                    for name in extra
                ]
            )
    return kind, args[f"{kind}_id"]


def check_own(kind: str, external_id: str) -> None:
    """Raise 403 unless the caller is an admin or the member linked to this subject."""
    user = api_user()
    if user.is_admin:
        return
    own_influencer, own_company = own_ids(user)
    if external_id != (own_company if kind == "company" else own_influencer):
        raise ApiError(
            403, "forbidden", f"Members may only ask for their own {kind}'s matches."
        )


@bp.get("/recommendations")
def recommendations():
    """Rank influencers for a company (or companies for an influencer), best first."""
    args = query_args(RECOMMENDATION_PARAMETERS)
    kind, external_id = recommendation_subject(args)
    check_own(kind, external_id)
    model = Company if kind == "company" else Influencer
    row = by_external_id(model, {external_id}).get(external_id)
    if row is None:
        unknown = {"influencer_ids": [], "company_ids": []}
        unknown[f"{kind}_ids"].append(external_id)
        raise ApiError(404, "not_found", unknown)
    if kind == "company":
        filters = {name: args[name] for name in serving.RANKING_FILTERS if name in args}
        ranked = serving.rank_influencers(
            row, args["limit"], filters, args.get("budget"), source="rank"
        )
    else:
        ranked = serving.rank_companies(row, args["limit"], source="rank")
    return jsonify(
        {"for": {"kind": kind, "id": external_id}, "recommendations": ranked}
    )


@bp.get("/trends")
def trends():
    """Forecast every niche ``horizon`` periods ahead; a bad horizon is 400 with details."""
    try:
        args = query_args(TREND_PARAMETERS)
    except ApiError as error:
        raise ApiError(400, "invalid_query", error.details) from None
    report = forecasts.niche_trends(args["horizon"], source="api")
    return jsonify(forecasts.report_json(report, args["horizon"]))


@bp.get("/forecasts/<model_type>")
def series_forecasts(model_type: str):
    """Forecast every series of any installed series type; a bad horizon is 400."""
    installed_type(forecasts.series_type, model_type)
    try:
        args = query_args(TREND_PARAMETERS)
    except ApiError as error:
        raise ApiError(400, "invalid_query", error.details) from None
    report = forecasts.series_forecasts(model_type, args["horizon"], source="api")
    return jsonify(forecasts.report_json(report, args["horizon"], model_type))
