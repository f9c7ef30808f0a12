"""Reading what the features need from the database, as of now or as of the past.

Loaders return plain dicts and numpy arrays for ``webapp.learning.features`` and
``webapp.learning.history``; nothing here computes a feature.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import numpy as np
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.learning.consent import excluded_collaborations, opted_out_influencers
from webapp.learning.features import (
    EPOCH,
    day_number,
    encode_companies,
    encode_influencers,
)
from webapp.learning.history import (
    UNKNOWN_NICHE_PAIR,
    HistoryEvents,
    niche_pair_code,
)
from webapp.learning.labels import success_label
from webapp.learning.moments import SECONDS_PER_DAY, entity_time_keys
from webapp.learning.profile_signals import ProfileRevisions
from webapp.marketplace.lifecycle import side_in
from webapp.models import (
    Collaboration,
    Company,
    Influencer,
    OutcomeRevision,
    ProfileRevision,
    StatusChange,
    User,
)
from webapp.models.marketplace import COMPANY_PROFILE_FIELDS, INFLUENCER_PROFILE_FIELDS

_EPOCH64 = np.datetime64(EPOCH.isoformat(), "s")
KINDS = {
    "influencer": (Influencer, INFLUENCER_PROFILE_FIELDS, ("external_id", "handle")),
    "company": (Company, COMPANY_PROFILE_FIELDS, ("external_id", "name")),
}


def seconds(values: Iterable[datetime]) -> np.ndarray:
    """Return seconds since 2000-01-01 for naive UTC datetimes."""
    stamps = np.array(list(values), dtype="datetime64[s]")
    return (stamps - _EPOCH64).astype(np.int64)


def days(values: Iterable[Any]) -> np.ndarray:
    """Return ``day_number`` for dates."""
    return np.array([day_number(v) for v in values], dtype=np.int64)


def load_events(min_rating: int) -> HistoryEvents:
    """Load every collaboration and every rating revision as history events.

    Each revision is an event at its own ``recorded_at``, so a moment before an
    edit sees the rating as it stood then. Collaborations that belong to members
    who opted out of training, and every rating of them, are never read
    (``consent.excluded_collaborations``). Cancellations of accepted
    collaborations count at ``cancelled_at`` (``_cancellations``), disputes at
    the first revision that said "disputed"; influencer profile revisions come
    along for the profile signals.
    """
    allowed = Collaboration.id.not_in(excluded_collaborations())
    collabs = db.session.execute(
        select(
            Collaboration.influencer_id,
            Collaboration.company_id,
            Collaboration.proposed_on,
            Collaboration.id,
        ).where(allowed)
    ).all()
    brand = _revisions("company", allowed, success_label(min_rating, OutcomeRevision))
    partner = _revisions("influencer", allowed, OutcomeRevision.success_rating)
    cancelled = _cancellations(allowed)
    disputes = _disputes(allowed)
    return HistoryEvents(
        collab_influencer=np.array([r[0] for r in collabs], dtype=np.int64),
        collab_company=np.array([r[1] for r in collabs], dtype=np.int64),
        collab_day=days(r[2] for r in collabs),
        brand_influencer=np.array([r[0] for r in brand], dtype=np.int64),
        brand_company=np.array([r[1] for r in brand], dtype=np.int64),
        brand_second=seconds(r[3] for r in brand),
        brand_success=np.array([bool(r[4]) for r in brand], dtype=bool),
        partner_company=np.array([r[1] for r in partner], dtype=np.int64),
        partner_second=seconds(r[3] for r in partner),
        partner_rating=np.array([r[4] for r in partner], dtype=np.int64),
        brand_outcome=np.array([r[2] for r in brand], dtype=np.int64),
        partner_outcome=np.array([r[2] for r in partner], dtype=np.int64),
        brand_niche_pair=_niche_pairs_at_proposal(collabs, [r[5] for r in brand]),
        cancel_influencer=np.array([r[0] for r in cancelled], dtype=np.int64),
        cancel_company=np.array([r[1] for r in cancelled], dtype=np.int64),
        cancel_second=seconds(naive_datetime(r[2]) for r in cancelled),
        cancel_by=np.array([r[3] or "" for r in cancelled], dtype="<U10"),
        dispute_influencer=np.array([r[0] for r in disputes], dtype=np.int64),
        dispute_company=np.array([r[1] for r in disputes], dtype=np.int64),
        dispute_second=seconds(naive_datetime(r[2]) for r in disputes),
        profiles=influencer_revisions(),
    )


def _niche_pairs_at_proposal(collabs: list, collaboration_ids: list) -> np.ndarray:
    """Return the niche-pair code of each collaboration id, as the profiles stood at proposal.

    UNKNOWN_NICHE_PAIR when either profile had no revision before the proposal
    day: ``profiles_as_of``'s stand-in was recorded after the event.
    """
    codes = np.full(len(collaboration_ids), UNKNOWN_NICHE_PAIR, dtype=np.int64)
    if not collabs or not collaboration_ids:
        return codes
    ids = np.array([r[3] for r in collabs], dtype=np.int64)
    day = days(r[2] for r in collabs)
    inf, inf_later = profiles_as_of(
        "influencer", np.array([r[0] for r in collabs]), day
    )
    co, co_later = profiles_as_of("company", np.array([r[1] for r in collabs]), day)
    pair = np.where(
        inf_later | co_later,
        UNKNOWN_NICHE_PAIR,
        niche_pair_code(encode_influencers(inf).niche, encode_companies(co).industry),
    )
    order = np.argsort(ids)
    found, position = find_sorted(
        ids[order], np.asarray(collaboration_ids, dtype=np.int64)
    )
    codes[found] = pair[order][position[found]]
    return codes


def find_sorted(
    sorted_ids: np.ndarray, ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return (found, position) of each of ``ids`` in the ascending ``sorted_ids``."""
    if len(sorted_ids) == 0:
        return np.zeros(len(ids), dtype=bool), np.zeros(len(ids), dtype=np.int64)
    position = np.minimum(np.searchsorted(sorted_ids, ids), len(sorted_ids) - 1)
    return sorted_ids[position] == ids, position


def _cancellations(allowed) -> list:
    """Return (influencer, company, cancelled_at, side or None) per cancellation.

    A cancellation is a collaboration cancelled after it was accepted: its step
    into "cancelled" came from "accepted" or "active" (lifecycle's cancel, or
    an import of a change from one of them). A declined or withdrawn proposal
    never ran, and one imported straight as cancelled does not say it ran:
    neither counts. The side is the cancelling member's (``lifecycle.side_in``);
    None when no member of either side is recorded (an admin, the demo, an
    import), and then the cancellation counts against both.
    """
    rows = db.session.execute(
        select(
            Collaboration.id,
            Collaboration.influencer_id,
            Collaboration.company_id,
            Collaboration.cancelled_at,
            User.influencer_id,
            User.company_id,
        )
        .join(StatusChange, StatusChange.collaboration_id == Collaboration.id)
        .outerjoin(User, StatusChange.actor_id == User.id)
        .where(
            Collaboration.cancelled_at.is_not(None),
            StatusChange.status == "cancelled",
            StatusChange.from_status.in_(("accepted", "active")),
            allowed,
        )
        .order_by(Collaboration.id, StatusChange.created_at, StatusChange.id)
    ).all()
    first = {}
    for cid, influencer, company, at, actor_influencer, actor_company in rows:
        if cid not in first:
            actor = SimpleNamespace(
                influencer_id=actor_influencer, company_id=actor_company
            )
            first[cid] = (influencer, company, at, side_in(actor, influencer, company))
    return list(first.values())


def _disputes(allowed) -> list:
    """Return (influencer, company, first disputed recorded_at) per disputed collaboration."""
    return db.session.execute(
        select(
            Collaboration.influencer_id,
            Collaboration.company_id,
            func.min(OutcomeRevision.recorded_at),
        )
        .join(Collaboration, OutcomeRevision.collaboration_id == Collaboration.id)
        .where(OutcomeRevision.completion_status == "disputed", allowed)
        .group_by(
            Collaboration.id, Collaboration.influencer_id, Collaboration.company_id
        )
    ).all()


def influencer_revisions() -> ProfileRevisions:
    """Return the influencer profile revisions' followers and engagement, sorted.

    Influencers an opted-out member is linked to are left out
    (``consent.opted_out_influencers``): their profiles feed no engagement fit.
    """
    rows = db.session.execute(
        select(
            ProfileRevision.entity_id,
            ProfileRevision.valid_from,
            ProfileRevision.attributes,
        )
        .where(
            ProfileRevision.kind == "influencer",
            ProfileRevision.entity_id.not_in(opted_out_influencers()),
        )
        .order_by(
            ProfileRevision.entity_id, ProfileRevision.valid_from, ProfileRevision.id
        )
    ).all()
    return ProfileRevisions.sorted(
        [r[0] for r in rows],
        seconds(naive_datetime(r[1]) for r in rows),
        [stated_number((r[2] or {}).get("followers")) for r in rows],
        [stated_number((r[2] or {}).get("engagement_rate")) for r in rows],
    )


def stated_number(value: Any) -> float:
    """Return a revision's stated non-negative number, NaN when it does not say."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return number if np.isfinite(number) and number >= 0 else float("nan")


def _revisions(side: str, allowed, value) -> list:
    """Return (influencer, company, outcome, recorded_at, value, collaboration) per revision.

    Ordered by outcome and time (ties by id), the order revisions were made in.
    """
    return db.session.execute(
        select(
            Collaboration.influencer_id,
            Collaboration.company_id,
            OutcomeRevision.outcome_id,
            OutcomeRevision.recorded_at,
            value,
            Collaboration.id,
        )
        .join(Collaboration, OutcomeRevision.collaboration_id == Collaboration.id)
        .where(OutcomeRevision.rater_side == side, allowed)
        .order_by(
            OutcomeRevision.outcome_id, OutcomeRevision.recorded_at, OutcomeRevision.id
        )
    ).all()


def brand_label_revisions(min_rating: int, collaboration_ids) -> tuple[np.ndarray, ...]:
    """Return (collaboration ids, recorded_at, success) of the brand's rating revisions.

    Ordered by collaboration, then as the revisions were made; only the
    collaborations in the select ``collaboration_ids``.
    """
    rows = db.session.execute(
        select(
            OutcomeRevision.collaboration_id,
            OutcomeRevision.recorded_at,
            success_label(min_rating, OutcomeRevision),
        )
        .join(Collaboration, OutcomeRevision.collaboration_id == Collaboration.id)
        .where(
            OutcomeRevision.rater_side == "company",
            OutcomeRevision.collaboration_id.in_(collaboration_ids),
        )
        .order_by(
            OutcomeRevision.collaboration_id,
            OutcomeRevision.recorded_at,
            OutcomeRevision.id,
        )
    ).all()
    return (
        np.array([r[0] for r in rows], dtype=np.int64),
        np.array([r[1] for r in rows], dtype="datetime64[s]"),
        np.array([bool(r[2]) for r in rows], dtype=bool),
    )


def current_profiles(
    kind: str, ids: Iterable[int] | None = None
) -> tuple[np.ndarray, list[dict]]:
    """Return (ids, profile dicts incl. joined_on) of current influencers or companies."""
    model, fields, display = KINDS[kind]
    columns = [
        model.id,
        model.joined_on,
        *(getattr(model, f) for f in (*display, *fields)),
    ]
    query = select(*columns).order_by(model.id)
    if ids is not None:
        query = query.where(model.id.in_(list(ids)))
    rows = db.session.execute(query).all()
    names = ("id", "joined_on", *display, *fields)
    profiles = [dict(zip(names, row, strict=True)) for row in rows]
    return np.array([p["id"] for p in profiles], dtype=np.int64), profiles


def profiles_as_of(
    kind: str, entity_ids: np.ndarray, day: np.ndarray
) -> tuple[list[dict], np.ndarray]:
    """Return, per query, the profile valid before ``day`` and whether it was approximated.

    The newest revision that started strictly before the day wins. A profile
    first recorded after the day (e.g. imported later without ``valid_from``)
    falls back to its earliest revision, the oldest knowledge there is; without
    revisions, the current row. Both fallbacks describe the profile later than
    the day: the second array flags them (True = approximated) so that training
    can say how many rows rest on them instead of hiding it.
    """
    revisions = db.session.execute(
        select(
            ProfileRevision.entity_id,
            ProfileRevision.valid_from,
            ProfileRevision.attributes,
        )
        .where(ProfileRevision.kind == kind)
        .order_by(
            ProfileRevision.entity_id, ProfileRevision.valid_from, ProfileRevision.id
        )
    ).all()
    ids, current = current_profiles(kind, np.unique(entity_ids).tolist())
    by_id = dict(zip(ids.tolist(), current, strict=True))
    if not revisions:
        return [by_id[int(e)] for e in entity_ids], np.ones(len(entity_ids), bool)
    rev_entity = np.array([r[0] for r in revisions], dtype=np.int64)
    keys = entity_time_keys(rev_entity, seconds(r[1] for r in revisions))
    first = np.searchsorted(keys, entity_time_keys(entity_ids, 0), side="left")
    moment = entity_time_keys(entity_ids, day.astype(np.int64) * SECONDS_PER_DAY)
    last_before = np.searchsorted(keys, moment, side="left") - 1
    known_before = last_before >= first
    chosen = np.where(known_before, last_before, first)
    has_revision = (first < len(keys)) & (
        rev_entity[np.minimum(first, len(keys) - 1)] == entity_ids
    )
    profiles = []
    for q, entity in enumerate(entity_ids.tolist()):
        base = by_id[entity]
        if has_revision[q]:
            profiles.append({**base, **revisions[chosen[q]][2]})
        else:
            profiles.append(base)
    return profiles, ~(has_revision & known_before)


def naive_datetime(value: Any) -> Any:
    """Return a datetime without tzinfo (SQLite hands back strings for subqueries)."""
    if isinstance(value, str):
        return np.datetime64(value.replace(" ", "T")[:19], "s")
    return value.replace(tzinfo=None) if getattr(value, "tzinfo", None) else value


def rating_known_at(outcome):
    """Return SQL for when ``outcome`` (an Outcome alias) last changed: its latest revision, else rated_at."""
    latest = (
        select(func.max(OutcomeRevision.recorded_at))
        .where(OutcomeRevision.outcome_id == outcome.id)
        .scalar_subquery()
    )
    return func.coalesce(latest, outcome.rated_at)
