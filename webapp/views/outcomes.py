"""Outcomes: the admin's view of every rating, with filters and a summary chart."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, render_template, request
from sqlalchemy import func

from webapp.extensions import db
from webapp.forms import OutcomeFilterForm
from webapp.models import Collaboration, Influencer, Outcome
from webapp.security import admin_required
from webapp.timeutil import start_of

bp = Blueprint("outcomes", __name__, url_prefix="/outcomes")


def filtered(filters: OutcomeFilterForm):
    """Return a select of outcomes with their collaboration, narrowed by ``filters``."""
    query = (
        db.select(Outcome).join(Outcome.collaboration).join(Collaboration.influencer)
    )
    if not filters.validate():
        return query
    if filters.niche.data:
        query = query.where(Influencer.niche == filters.niche.data)
    if filters.rating.data:
        query = query.where(Outcome.success_rating == int(filters.rating.data))
    if filters.status.data:
        query = query.where(Outcome.completion_status == filters.status.data)
    if filters.side.data:
        query = query.where(Outcome.rater_side == filters.side.data)
    if filters.rated_from.data:
        query = query.where(Outcome.rated_at >= start_of(filters.rated_from.data))
    if filters.rated_to.data:
        query = query.where(
            Outcome.rated_at < start_of(filters.rated_to.data + timedelta(days=1))
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
    page = db.paginate(
        query.order_by(Outcome.rated_at.desc(), Outcome.id.desc()),
        per_page=current_app.config["PER_PAGE"],
        error_out=False,
    )
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
