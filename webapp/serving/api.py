"""Predictions and recommendations: what serving answers, checked and logged."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from sqlalchemy import select

from webapp import serving
from webapp.extensions import db
from webapp.models import Company, Influencer
from webapp.views.api.auth import api_user, may_see_pair, own_ids
from webapp.views.api.blueprint import bp
from webapp.views.api.errors import ApiError
from webapp.views.api.openapi import RECOMMENDATION_PARAMETERS
from webapp.views.api.validation import fail, json_body, query_args

COMPANY_ONLY = ("budget", "niche", "country")


def by_external_id(model, external_ids: set[str]) -> dict[str, Any]:
    """Return the rows of ``model`` with these external ids, by external id."""
    if not external_ids:
        return {}
    rows = db.session.scalars(
        select(model).where(model.external_id.in_(sorted(external_ids)))
    )
    return {row.external_id: row for row in rows}


def resolve_pairs(pairs: list[dict[str, Any]]) -> list[tuple[Influencer, Company]]:
    """Return the rows of each requested pair: 403 if any is not the caller's, 404 if unknown.

    Permission is checked before existence, so members cannot probe which ids exist.
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
    influencers = by_external_id(Influencer, {p["influencer_id"] for p in pairs})
    companies = by_external_id(Company, {p["company_id"] for p in pairs})
    unknown_influencers = sorted(
        {p["influencer_id"] for p in pairs} - influencers.keys()
    )
    unknown_companies = sorted({p["company_id"] for p in pairs} - companies.keys())
    if unknown_influencers or unknown_companies:
        raise ApiError(
            404,
            "not_found",
            {
                "influencer_ids": unknown_influencers,
                "company_ids": unknown_companies,
            },
        )
    return [
        (influencers[p["influencer_id"]], companies[p["company_id"]]) for p in pairs
    ]


def predict(pairs: list[dict[str, Any]], source: str) -> list[dict[str, Any]]:
    """Return serving's predictions for the requested pairs, in order."""
    rows = resolve_pairs(pairs)
    budgets = [pair.get("budget") for pair in pairs]
    return serving.predict_pairs(rows, budgets, source=source)


@bp.post("/predict/match")
def predict_match():
    """Predict the success of one influencer-company pair."""
    body = json_body("PredictRequest")
    return jsonify(predict([body], source="api")[0])


@bp.post("/predict/match/batch")
def predict_match_batch():
    """Predict many pairs; answers come back in request order.

    Unknown ids fail the whole batch with 404 listing every unknown id, so a
    client can fix its request in one go.
    """
    body = json_body("BatchRequest")
    return jsonify(predictions=predict(body["pairs"], source="batch"))


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
        filters = {name: args[name] for name in ("niche", "country") if name in args}
        ranked = serving.rank_influencers(
            row, args["limit"], filters, args.get("budget"), source="rank"
        )
    else:
        ranked = serving.rank_companies(row, args["limit"], source="rank")
    return jsonify(
        {"for": {"kind": kind, "id": external_id}, "recommendations": ranked}
    )
