"""Influencers and companies read for serving: only the columns features need.

A batch names up to a thousand of each; loading whole ORM objects for them
(every column, identity map, change tracking) took a fifth of the batch. These
records hold the id, external id, ``joined_on`` and the versioned profile
fields, read in one query per kind, and answer ``profile()`` like the ORM rows,
so every serving path (match, roi, declared pair types) takes either.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Company, Influencer
from webapp.models.marketplace import COMPANY_PROFILE_FIELDS, INFLUENCER_PROFILE_FIELDS

KEYS = ("id", "external_id", "joined_on")


class InfluencerRow(
    NamedTuple(
        "InfluencerRow", [(name, Any) for name in (*KEYS, *INFLUENCER_PROFILE_FIELDS)]
    )
):
    """An influencer's id, external id, joined_on and versioned profile fields."""

    __slots__ = ()

    def profile(self) -> dict[str, Any]:
        """Return the versioned profile attributes, as ``Influencer.profile()``."""
        return {field: getattr(self, field) for field in INFLUENCER_PROFILE_FIELDS}


class CompanyRow(
    NamedTuple("CompanyRow", [(name, Any) for name in (*KEYS, *COMPANY_PROFILE_FIELDS)])
):
    """A company's id, external id, joined_on and versioned profile fields."""

    __slots__ = ()

    def profile(self) -> dict[str, Any]:
        """Return the versioned profile attributes, as ``Company.profile()``."""
        return {field: getattr(self, field) for field in COMPANY_PROFILE_FIELDS}


_KINDS = {
    Influencer: (InfluencerRow, INFLUENCER_PROFILE_FIELDS),
    Company: (CompanyRow, COMPANY_PROFILE_FIELDS),
}


def by_external_id(model, external_ids: Iterable[str]) -> dict[str, Any]:
    """Return light rows of ``model`` (Influencer or Company) for these external ids."""
    wanted = sorted(set(external_ids))
    if not wanted:
        return {}
    record, fields = _KINDS[model]
    columns = [getattr(model, name) for name in (*KEYS, *fields)]
    rows = db.session.execute(select(*columns).where(model.external_id.in_(wanted)))
    return {row[1]: record(*row) for row in rows}
