"""The influencers and companies a prediction request names, read as plain rows.

Serving a pair reads each side's id, external id, joining day and current
profile fields, nothing else. Reading them as plain rows with one prepared
statement per kind, on the request session's connection (so as fresh as that
session), skips building ORM instances, which was most of a single-pair
request's lookup time.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select

from webapp.extensions import db
from webapp.models import Company, Influencer
from webapp.models.marketplace import (
    COMPANY_PROFILE_FIELDS,
    INFLUENCER_PROFILE_FIELDS,
)

PROFILE_FIELDS = {
    Influencer: INFLUENCER_PROFILE_FIELDS,
    Company: COMPANY_PROFILE_FIELDS,
}


class Party:
    """One side of a pair as serving reads it: what ``pools.pair_rows`` and logs need.

    It answers ``id``, ``external_id``, ``joined_on``, ``profile()`` like the
    ORM row, and each profile field as an attribute (``party.niche``).
    """

    __slots__ = ("id", "external_id", "joined_on", "_profile")

    def __init__(
        self, id: int, external_id: str, joined_on: Any, profile: dict[str, Any]
    ) -> None:
        self.id = id
        self.external_id = external_id
        self.joined_on = joined_on
        self._profile = profile

    def profile(self) -> dict[str, Any]:
        """Return the versioned profile attributes as a plain dict."""
        return dict(self._profile)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._profile[name]
        except KeyError:
            raise AttributeError(name) from None


@cache
def _statement(model: type) -> Select:
    """Return the prepared query of ``model``'s parties by a list of external ids."""
    columns = [getattr(model, field) for field in PROFILE_FIELDS[model]]
    return select(model.id, model.external_id, model.joined_on, *columns).where(
        model.external_id.in_(bindparam("external_ids", expanding=True))
    )


def parties(model: type, external_ids: set[str]) -> dict[str, Party]:
    """Return the influencers or companies (``model``) with these external ids, by id."""
    if not external_ids:
        return {}
    fields = PROFILE_FIELDS[model]
    rows = db.session.connection().execute(
        _statement(model), {"external_ids": sorted(external_ids)}
    )
    return {
        row[1]: Party(row[0], row[1], row[2], dict(zip(fields, row[3:], strict=True)))
        for row in rows
    }
