"""Find matches: ranked influencers for a brand, ranked brands for an influencer."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import or_, select

from webapp import serving
from webapp.core.formatting import money
from webapp.core.forms import options, valid_values
from webapp.extensions import db
from webapp.learning.features import default_budget
from webapp.marketplace import proposals
from webapp.marketplace.forms import BrandSearchForm, InfluencerSearchForm, ProposeForm
from webapp.models import Company, Influencer
from webapp.serving import pair_types, roi
from webapp.views.auth import safe_next

bp = Blueprint("matches", __name__, url_prefix="/matches")
DEFAULT_LIMIT = 20
SEARCH_RESULTS = 25


def why(factors: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the short reason: the two strongest positive factors and the worst one."""
    positive = sorted(
        (f for f in factors if f["contribution"] > 0), key=lambda f: -f["contribution"]
    )
    worst = min(
        (f for f in factors if f["contribution"] < 0),
        key=lambda f: f["contribution"],
        default=None,
    )
    return {
        "good": [f["label"] for f in positive[:2]],
        "bad": worst["label"] if worst else None,
    }


def decorate(results: list[dict[str, Any]], budget_of) -> list[dict[str, Any]]:
    """Add the short reason and the default budget to each ranked result."""
    return [
        {**result, "why": why(result["factors"]), "budget": budget_of(result)}
        for result in results
    ]


def by_external_id(model, external_id: str | None):
    """Return the row of ``model`` with ``external_id``, or None."""
    if not external_id:
        return None
    return db.session.scalar(select(model).where(model.external_id == external_id))


@bp.route("/")
def index():
    """Send each role to the list it can use."""
    if current_user.side == "influencer":
        return redirect(url_for(".brands"))
    return redirect(url_for(".influencers"))


def chosen_company(form: InfluencerSearchForm) -> Company | None:
    """Return the brand whose list is shown; members only ever get their own."""
    wanted = request.args.get("company_id") or None
    if not current_user.is_admin:
        own = current_user.company
        if wanted is not None and (own is None or wanted != own.external_id):
            abort(403)
        del form.company_id
        return own
    companies = db.session.scalars(select(Company).order_by(Company.name)).all()
    form.company_id.choices = options(
        [("", "Choose a brand")]
        + [(c.external_id, f"{c.name} ({c.external_id})") for c in companies]
    )
    company = by_external_id(Company, wanted)
    if wanted is not None and company is None:
        abort(404)
    return company


@bp.route("/influencers")
def influencers():
    """Rank influencers for a brand: the member's own, or any brand for admins."""
    if not current_user.is_admin and current_user.side == "influencer":
        return redirect(url_for(".brands"))
    form = InfluencerSearchForm(request.args)
    company = chosen_company(form)
    values = valid_values(form)
    results = []
    if company is not None:
        filters = {
            key: values.get(key)
            for key in serving.RANKING_FILTERS
            if values.get(key) not in (None, "")
        }
        if "max_rate" in filters:
            filters["max_rate"] = float(filters["max_rate"])
        ranked = serving.rank_influencers(
            company, limit=values.get("limit") or DEFAULT_LIMIT, filters=filters
        )
        results = with_expected_roi(
            company,
            decorate(
                ranked,
                lambda r: round(
                    default_budget(
                        r["influencer"]["rate_per_post"], company.budget_per_campaign
                    )
                ),
            ),
        )
    return render_template(
        "matches/influencers.html",
        form=form,
        company=company,
        results=results,
        scorer=scorer(results),
        declared_types=pair_types.generic_pair_types() if results else [],
        propose_form=ProposeForm(),
    )


def with_expected_roi(
    company: Company, results: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Add each ranked influencer's expected ROI on the offered budget (``roi``).

    Every other installed pair type (risk, third-party types) answers too, under
    ``declared`` by type name, so the list shows each as a column.
    """
    if not results:
        return results
    wanted = [r["influencer"]["id"] for r in results]
    found = {
        i.external_id: i
        for i in db.session.scalars(
            select(Influencer).where(Influencer.external_id.in_(wanted))
        )
    }
    pairs = [(found[w], company) for w in wanted]
    budgets = [float(r["budget"]) for r in results]
    estimates = roi.estimate_pairs(pairs, budgets, source="web")
    results = [{**r, "roi": e} for r, e in zip(results, estimates, strict=True)]
    for plugin in pair_types.generic_pair_types():
        try:
            answers = pair_types.predict_pairs(plugin.name, pairs, budgets, "web")
        except pair_types.FallbackFailed:
            answers = [None] * len(results)
        for r, answer in zip(results, answers, strict=True):
            r.setdefault("declared", {})[plugin.name] = answer
    return results


def chosen_influencer() -> Influencer | None:
    """Return the influencer whose list is shown; members only ever get their own."""
    wanted = request.args.get("influencer_id") or None
    if not current_user.is_admin:
        own = current_user.influencer
        if wanted is not None and (own is None or wanted != own.external_id):
            abort(403)
        return own
    influencer = by_external_id(Influencer, wanted)
    if wanted is not None and influencer is None:
        abort(404)
    return influencer


def search_influencers(text: str) -> list[Influencer]:
    """Return influencers whose handle or id contains ``text`` (admins' picker)."""
    pattern = f"%{text.strip().lstrip('@')}%"
    return db.session.scalars(
        select(Influencer)
        .where(
            or_(Influencer.handle.ilike(pattern), Influencer.external_id.ilike(pattern))
        )
        .order_by(Influencer.handle)
        .limit(SEARCH_RESULTS)
    ).all()


@bp.route("/brands")
def brands():
    """Rank brands for an influencer: the member's own profile, or any for admins."""
    if not current_user.is_admin and current_user.side == "company":
        return redirect(url_for(".influencers"))
    form = BrandSearchForm(request.args)
    values = valid_values(form)
    influencer = chosen_influencer()
    found = (
        search_influencers(values["q"])
        if current_user.is_admin and values.get("q")
        else None
    )
    results = []
    if influencer is not None:
        ranked = serving.rank_companies(
            influencer, limit=values.get("limit") or DEFAULT_LIMIT
        )
        results = decorate(
            ranked,
            lambda r: round(
                default_budget(
                    influencer.rate_per_post, r["company"]["budget_per_campaign"]
                )
            ),
        )
    return render_template(
        "matches/brands.html",
        form=form,
        influencer=influencer,
        found=found,
        results=results,
        scorer=scorer(results),
        propose_form=ProposeForm(),
    )


def scorer(results: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Describe who scored the list: the model version, or the fallback and why.

    Under an interleaving experiment the list mixes two scorers; it says so.
    """
    if not results:
        return None
    scorers = {
        "the rule-based scorer"
        if r["fallback"]
        else f"{r['model']['type']} v{r['model']['version']}"
        for r in results
    }
    if len(scorers) > 1:
        return {"mixed": sorted(scorers), "fallback": False}
    first = results[0]
    return {
        "fallback": first["fallback"],
        "reason": first.get("fallback_reason"),
        "no_model": first["fallback"]
        and first.get("fallback_reason") == "no active version",
        "model": first["model"],
    }


@bp.route("/propose", methods=["POST"])
def propose():
    """Propose a collaboration to a ranked match, storing the match snapshot."""
    form = ProposeForm()
    back = safe_next(request.form.get("next")) if request.form.get("next") else None
    back = back or url_for(".index")
    if not form.validate_on_submit():
        errors = [e for field in form for e in field.errors]
        flash(" ".join(errors) or "The proposal was not valid.", "warning")
        return redirect(back)
    influencer = by_external_id(Influencer, form.influencer_id.data)
    company = by_external_id(Company, form.company_id.data)
    if influencer is None or company is None:
        abort(404)
    user = current_user._get_current_object()
    if not proposals.may_propose(user, influencer, company):
        abort(403)
    try:
        collaboration = proposals.propose(
            influencer, company, float(form.budget.data), user
        )
    except proposals.ProposalRefused as refused:
        flash(str(refused), "warning")
        return redirect(back)
    flash(
        f"Proposed {collaboration.external_id}: @{influencer.handle} × {company.name}, "
        f"budget {money(collaboration.budget)}. It is listed in "
        f"{'Collaborations' if user.is_admin else 'My collaborations'}.",
        "success",
    )
    return redirect(back)
