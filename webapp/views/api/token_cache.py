"""Who an API token acts for, cached per process; a revoke is noticed at once.

Without a cache every API call reads its token and user from the database.
Each web process keeps what it found, by the token's sha256, as a small
:class:`Caller` (what permission checks read), for API_TOKEN_CACHE_SECONDS at
most. A token only ever leaves the cache faster than that:

- a commit that revokes, changes or deletes an ``ApiToken``, or changes or
  deletes a ``User`` (or deletes an influencer or company a member acts for),
  increments the Redis token counter (``runtime.notices``) and empties this
  process's cache;
- every process reads that counter at most every API_TOKEN_CHECK_SECONDS and
  empties its cache when it moved;
- a process that cannot read the counter keeps no cache: every call reads the
  database until Redis answers again (asked every ROUTING_FALLBACK_SECONDS).

So a revoked token is refused at once by the process that revoked it, within
API_TOKEN_CHECK_SECONDS by every other process, and within
API_TOKEN_CACHE_SECONDS when the revoking process could not reach Redis. A
change made outside the ORM session (raw SQL, another program) is also picked
up within API_TOKEN_CACHE_SECONDS. A write of ``last_used_at`` alone announces
nothing: it only drops that token from this process's cache.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from flask import Flask, current_app
from sqlalchemy import Select, bindparam, event, inspect, select
from sqlalchemy.orm import ORMExecuteState, Session

from webapp.extensions import db
from webapp.models import ApiToken, Company, Influencer, User
from webapp.runtime import notices

_KEY = "matchloop.api_token_cache"
# session.info keys: announce to every process / token hashes to drop here only.
_ANNOUNCE = "matchloop.api_tokens_changed"
_DROP = "matchloop.api_tokens_touched"
# Attributes whose change does not alter who a token acts for.
QUIET_ATTRIBUTES = frozenset({"last_used_at"})
# Tables whose UPDATE or DELETE statements may change who a token acts for.
WATCHED_TABLES = frozenset({"api_tokens", "users"})
# Deleting one of these unlinks the members acting for it.
LINKED_TABLES = frozenset({"influencers", "companies"})
# More active tokens than this in one process: start the cache afresh.
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class Caller:
    """An active token and what its user may do (no ORM objects).

    ``influencer_id`` and ``company_id`` are the external ids of the creator
    or brand a member acts for (None for an admin or an unlinked member).
    """

    token_id: int
    user_id: int
    is_admin: bool
    influencer_id: str | None
    company_id: str | None
    last_used_at: datetime | None


@cache
def _caller_statement() -> Select:
    """Return the prepared query of an unrevoked token's caller by the token's hash."""
    return (
        select(
            ApiToken.id,
            ApiToken.user_id,
            ApiToken.last_used_at,
            User.role,
            Influencer.external_id,
            Company.external_id,
        )
        .join(User, User.id == ApiToken.user_id)
        .outerjoin(Influencer, Influencer.id == User.influencer_id)
        .outerjoin(Company, Company.id == User.company_id)
        .where(
            ApiToken.token_hash == bindparam("token_hash"),
            ApiToken.revoked_at.is_(None),
        )
    )


def load_caller(token_hash: str) -> Caller | None:
    """Return the caller of the unrevoked token with this hash (one query), or None."""
    row = (
        db.session.connection()
        .execute(_caller_statement(), {"token_hash": token_hash})
        .first()
    )
    if row is None:
        return None
    token_id, user_id, last_used_at, role, influencer_id, company_id = row
    return Caller(
        token_id, user_id, role == "admin", influencer_id, company_id, last_used_at
    )


class TokenCache:
    """This process's callers by token hash, emptied when the Redis counter moves."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.check_seconds = float(app.config["API_TOKEN_CHECK_SECONDS"])
        self.fallback_seconds = float(app.config["ROUTING_FALLBACK_SECONDS"])
        self.max_age = float(app.config["API_TOKEN_CACHE_SECONDS"])
        self._entries: dict[str, tuple[Caller, float]] = {}
        self._generation: int | None = None
        self._usable = False
        self._next_check = -math.inf
        self._lock = threading.Lock()
        # Bumped by every drop: a load that began before one must not be kept.
        self._epoch = 0

    def caller(self, token_hash: str) -> Caller | None:
        """Return the caller of this token hash, from the cache when it may be trusted."""
        now = time.monotonic()
        if not self._trusted(now):
            return load_caller(token_hash)
        found = self._entries.get(token_hash)
        if found is not None and now - found[1] < self.max_age:
            return found[0]
        epoch = self._epoch
        caller = load_caller(token_hash)
        if caller is not None:
            with self._lock:
                if epoch == self._epoch:
                    if len(self._entries) >= MAX_ENTRIES:
                        self._entries.clear()
                    self._entries[token_hash] = (caller, now)
        return caller

    def _trusted(self, now: float) -> bool:
        """Read the counter when due; say whether cached callers may be used now."""
        if now < self._next_check:
            return self._usable
        with self._lock:
            if now < self._next_check:
                return self._usable
            generation = notices.token_generation(self.app)
            if generation is None:
                # No notice can reach this process: read the database every call.
                self._drop_locked()
                self._usable = False
                self._next_check = now + self.fallback_seconds
                return False
            if generation != self._generation:
                self._drop_locked()
                self._generation = generation
            self._usable = True
            self._next_check = now + self.check_seconds
            return True

    def forget(self, token_hashes: set[str]) -> None:
        """Drop these tokens from this process's cache."""
        with self._lock:
            self._epoch += 1
            for token_hash in token_hashes:
                self._entries.pop(token_hash, None)

    def clear(self) -> None:
        """Drop every cached token in this process."""
        with self._lock:
            self._drop_locked()

    def _drop_locked(self) -> None:
        self._epoch += 1
        self._entries.clear()


def token_cache(app: Flask | None = None) -> TokenCache:
    """Return the app's token cache in this process, creating it on first use."""
    app = app or current_app._get_current_object()
    cache = app.extensions.get(_KEY)
    if cache is None:
        cache = app.extensions.setdefault(_KEY, TokenCache(app))
    return cache


def _changed_attributes(instance) -> set[str]:
    """Return the attributes of ``instance`` this flush writes (pre-flush history)."""
    return {
        attribute.key
        for attribute in inspect(instance).attrs
        if attribute.history.has_changes()
    }


def _after_flush(session: Session, context) -> None:
    """Note which tokens and users this flush changed, and whether to announce it."""
    for instance in session.deleted:
        if isinstance(instance, (ApiToken, User, Influencer, Company)):
            session.info[_ANNOUNCE] = True
    for instance in session.dirty:
        if not isinstance(instance, (ApiToken, User)):
            continue
        changed = _changed_attributes(instance)
        if changed - QUIET_ATTRIBUTES:
            session.info[_ANNOUNCE] = True
        elif changed and isinstance(instance, ApiToken):
            session.info.setdefault(_DROP, set()).add(instance.token_hash)


def _do_orm_execute(state: ORMExecuteState) -> None:
    """Announce UPDATE and DELETE statements on tokens and users (no history to read)."""
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    if name in WATCHED_TABLES or (state.is_delete and name in LINKED_TABLES):
        state.session.info[_ANNOUNCE] = True


def _after_commit(session: Session) -> None:
    """Announce a committed change to every process, or drop touched tokens here."""
    announce = session.info.pop(_ANNOUNCE, False)
    touched = session.info.pop(_DROP, None)
    if not announce and not touched:
        return
    app = current_app._get_current_object()
    if announce:
        notices.bump_tokens(app)
    cache = app.extensions.get(_KEY)
    if cache is not None:
        if announce:
            cache.clear()
        else:
            cache.forget(touched)


def init_app(app: Flask) -> None:
    """Watch commits for token and user changes (once per interpreter: sessions are shared).

    A rolled-back change leaves its note in ``session.info`` until the next
    commit of that session, which then announces once more than needed: a
    harmless extra reload, never a missed revoke.
    """
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _do_orm_execute)
        event.listen(Session, "after_commit", _after_commit)
