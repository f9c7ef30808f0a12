"""Outcomes: the admin's view of every rating, with filters and a summary chart."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, render_template, request
from sqlalchemy import func

from webapp.core.forms import valid_values
from webapp.core.pagination import paginate
from webapp.core.security import admin_required
from webapp.core.timeutil import start_of
from webapp.extensions import db
from webapp.marketplace.forms import OutcomeFilterForm
from webapp.models import Collaboration, Influencer, Outcome

bp = Blueprint("outcomes", __name__, url_prefix="/outcomes")


def filtered(filters: OutcomeFilterForm):
    """Return a select of outcomes with their collaboration, narrowed by ``filters``."""
    query = (
        db.select(Outcome).join(Outcome.collaboration).join(Collaboration.influencer)
    )
    values = valid_values(filters)
    if values.get("niche"):
        query = query.where(Influencer.niche == values["niche"])
    if values.get("rating"):
        query = query.where(Outcome.success_rating == int(values["rating"]))
    if values.get("status"):
        query = query.where(Outcome.completion_status == values["status"])
    if values.get("side"):
        query = query.where(Outcome.rater_side == values["side"])
    if values.get("rated_from"):
        query = query.where(Outcome.rated_at >= start_of(values["rated_from"]))
    if values.get("rated_to"):
        query = query.where(
            Outcome.rated_at < start_of(values["rated_to"] + timedelta(days=1))
        )
    return query


def rating_distribution(query) -> list[int]:
    """Return how many outcomes in ``query`` gave each rating 1..5."""
    sub = query.with_only_columns(Outcome.success_rating).subquery()
    rows = db.session.execute(
        db.select(sub.c.success_rating, func.count()).group_by(sub.c.success_rating)
    ).all()
    counts = dict(rows)
    return [counts.get(rating, 0) for rating in range(1, 6)]


@bp.route("/")
@admin_required
def index():
    """List every outcome, newest first, with filters and the rating distribution."""
    filters = OutcomeFilterForm(request.args)
    query = filtered(filters)
    distribution = rating_distribution(query)
    page = paginate(query.order_by(Outcome.rated_at.desc(), Outcome.id.desc()))
    total = sum(distribution)
    mean = (
        sum(
            rating * count
            for rating, count in zip(range(1, 6), distribution, strict=True)
        )
        / total
        if total
        else None
    )
    return render_template(
        "outcomes/index.html",
        page=page,
        filters=filters,
        distribution=distribution,
        total=total,
        mean=mean,
    )
