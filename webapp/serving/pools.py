"""Feature rows for pairs as of now, and the cached candidate pool used for ranking."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from threading import Lock, Thread

import numpy as np
from flask import current_app

from webapp.core.timeutil import utcnow
from webapp.extensions import db
from webapp.learning import features, loaders
from webapp.learning.history import HistoryIndex
from webapp.models import Company, Influencer

log = logging.getLogger(__name__)


def today_day() -> int:
    """Return today's feature day: serving describes a pair as of today.

    History is asked for before this day, as training asks for a row before its
    proposal day (``HistoryIndex.stats``): today's events count from tomorrow on,
    so a snapshot taken today equals the row training recomputes for it later.
    The day is UTC, like a proposal's ``proposed_on``.
    """
    return features.day_number(utcnow().date())


def pair_rows(
    pool: CandidatePool,
    influencers: list[Influencer],
    companies: list[Company],
    budgets: list[float | None],
) -> np.ndarray:
    """Return feature rows for aligned (influencer, company) pairs, as of now.

    Profiles come from the rows given (as fresh as the caller's session); history
    comes from the pool's index (at most RANKING_POOL_SECONDS old). A missing
    budget is the assumed default budget.
    """
    inf_ids = np.array([i.id for i in influencers], dtype=np.int64)
    co_ids = np.array([c.id for c in companies], dtype=np.int64)
    inf = _encoded(features.encode_influencers, influencers, inf_ids)
    co = _encoded(features.encode_companies, companies, co_ids)
    today = today_day()
    history = pool.history.stats(
        inf_ids, co_ids, np.full(len(inf_ids), today), features.niche_pairs(inf, co)
    )
    assumed = features.default_budget(inf.rate, co.budget)
    budget = np.array(
        [b if b is not None else assumed[i] for i, b in enumerate(budgets)], dtype=float
    )
    return features.pair_matrix(
        inf, co, history, np.full(len(inf_ids), float(today)), budget
    )


def _encoded(encode, entities: list, ids: np.ndarray):
    """Encode each distinct entity once and return the columns aligned with ``ids``.

    A batch names the same brand for many pairs; the first row given for an id
    stands for it (one request reads each entity once).
    """
    unique, first, position = np.unique(ids, return_index=True, return_inverse=True)
    if len(unique) == len(ids):
        return encode([_profile(entity) for entity in entities])
    return encode([_profile(entities[k]) for k in first]).take(position)


def _profile(entity: Influencer | Company) -> dict:
    """Return the profile dict the encoders read (versioned fields plus joined_on)."""
    return {"joined_on": entity.joined_on, **entity.profile()}


@dataclass
class CandidatePool:
    """Every influencer and company encoded once, with the full history index."""

    built_at: float
    influencer_ids: np.ndarray
    influencers: features.InfluencerColumns
    influencer_profiles: list[dict]
    company_ids: np.ndarray
    companies: features.CompanyColumns
    company_profiles: list[dict]
    history: HistoryIndex

    @classmethod
    def build(cls, min_rating: int) -> CandidatePool:
        """Load and encode everything ranking needs."""
        inf_ids, inf_profiles = loaders.current_profiles("influencer")
        co_ids, co_profiles = loaders.current_profiles("company")
        history = HistoryIndex(loaders.load_events(min_rating))
        history.prepare(today_day())  # computed here, not by the first request
        return cls.encoded(inf_ids, inf_profiles, co_ids, co_profiles, history)

    @classmethod
    def encoded(
        cls, inf_ids, inf_profiles, co_ids, co_profiles, history: HistoryIndex
    ) -> CandidatePool:
        """Return a pool of these profiles, encoded once, over ``history``."""
        return cls(
            built_at=time.monotonic(),
            influencer_ids=inf_ids,
            influencers=features.encode_influencers(inf_profiles),
            influencer_profiles=inf_profiles,
            company_ids=co_ids,
            companies=features.encode_companies(co_profiles),
            company_profiles=co_profiles,
            history=history,
        )

    @classmethod
    def as_of(cls, day: int, min_rating: int) -> CandidatePool:
        """Load the pool as it stood at the start of ``day`` (to replay past rankings).

        Only influencers and companies that joined before the day are in it,
        each with the profile valid before the day (``loaders.profiles_as_of``);
        the history index holds every event, and rows asked for ``day`` count
        only those strictly before it (``HistoryIndex.stats``).
        """
        columns = {}
        for kind in ("influencer", "company"):
            ids, current = loaders.current_profiles(kind)
            joined = np.array(
                [features.day_number(p["joined_on"]) < day for p in current], bool
            )
            ids = ids[joined]
            profiles, _ = loaders.profiles_as_of(kind, ids, np.full(len(ids), day))
            columns[kind] = (ids, profiles)
        return cls.encoded(
            *columns["influencer"],
            *columns["company"],
            HistoryIndex(loaders.load_events(min_rating)),
        )

    def rows_for_company(
        self, company_id: int, budget: float | None, day: int | None = None
    ) -> np.ndarray:
        """Return one feature row per influencer, paired with ``company_id``.

        ``day`` is the feature day (None: today, as serving asks).
        """
        n = len(self.influencer_ids)
        position = int(np.searchsorted(self.company_ids, company_id))
        co = self.companies.take(np.full(n, position))
        today = today_day() if day is None else int(day)
        history = self.history.stats(
            self.influencer_ids,
            np.full(n, company_id),
            np.full(n, today),
            features.niche_pairs(self.influencers, co),
        )
        if budget is None:
            spend = features.default_budget(self.influencers.rate, co.budget)
        else:
            spend = np.full(n, budget, dtype=float)
        return features.pair_matrix(
            self.influencers, co, history, np.full(n, float(today)), spend
        )

    def rows_for_influencer(self, influencer_id: int) -> np.ndarray:
        """Return one feature row per company, paired with ``influencer_id``."""
        n = len(self.company_ids)
        position = int(np.searchsorted(self.influencer_ids, influencer_id))
        inf = self.influencers.take(np.full(n, position))
        today = today_day()
        history = self.history.stats(
            np.full(n, influencer_id),
            self.company_ids,
            np.full(n, today),
            features.niche_pairs(inf, self.companies),
        )
        return features.pair_matrix(
            inf,
            self.companies,
            history,
            np.full(n, float(today)),
            features.default_budget(inf.rate, self.companies.budget),
        )

    def knows(self, kind: str, entity_id: int) -> bool:
        """True when the pool contains this influencer or company."""
        ids = self.influencer_ids if kind == "influencer" else self.company_ids
        position = np.searchsorted(ids, entity_id)
        return bool(position < len(ids) and ids[position] == entity_id)


class PoolCache:
    """Keeps one candidate pool per process; a stale pool is rebuilt beside it and swapped.

    No request waits for a rebuild of a pool that exists: a request that finds
    the pool older than the TTL starts one background rebuild and is answered
    from the old pool, and the new pool replaces it once built. A web worker
    builds its first pool as it starts (``start_building``) and a request that
    needs it meanwhile waits for that build. Only a process without a pool or
    a build under way (a CLI, a job), or a request about an entity the pool
    does not know yet (a member who just joined), builds one in the request;
    other requests keep using the old pool meanwhile.
    """

    def __init__(self, ttl_seconds: float) -> None:
        self.ttl = ttl_seconds
        self._pool: CandidatePool | None = None
        self._lock = Lock()
        self._rebuilding: Thread | None = None

    def get(
        self, min_rating: int, require: tuple[str, int] | None = None
    ) -> CandidatePool:
        """Return the current pool (containing ``require`` if given); refresh a stale one."""
        with self._lock:
            pool = self._pool
            building = self._rebuilding
        if pool is None and building is not None:
            # The process's first pool is being built (``start_building``): wait
            # for it rather than build a second one beside it.
            building.join()
            with self._lock:
                pool = self._pool
        if pool is None or (require is not None and not pool.knows(*require)):
            pool = CandidatePool.build(min_rating)
            self._swap(pool)
            return pool
        if time.monotonic() - pool.built_at > self.ttl:
            self._rebuild_in_background(min_rating)
        return pool

    def _swap(self, pool: CandidatePool) -> None:
        """Make ``pool`` current unless a newer one is already in place."""
        with self._lock:
            if self._pool is None or self._pool.built_at <= pool.built_at:
                self._pool = pool

    def start_building(self, app, min_rating: int) -> None:
        """Build the process's first pool in the background (a web worker that just started).

        A request that needs the pool meanwhile waits for this build instead of
        starting its own.
        """
        with self._lock:
            if self._pool is None:
                self._start_thread(app, min_rating)

    def _rebuild_in_background(self, min_rating: int) -> None:
        """Start one rebuild thread (none if one is running)."""
        with self._lock:
            self._start_thread(current_app._get_current_object(), min_rating)

    def _start_thread(self, app, min_rating: int) -> None:
        """Start the rebuild thread unless one is running (``_lock`` is held)."""
        if self._rebuilding is not None and self._rebuilding.is_alive():
            return
        self._rebuilding = Thread(
            target=self._rebuild,
            args=(app, min_rating),
            name="candidate-pool-rebuild",
            daemon=True,
        )
        self._rebuilding.start()

    def _rebuild(self, app, min_rating: int) -> None:
        """Build a fresh pool in its own app context and session, then swap it in."""
        with app.app_context():
            try:
                self._swap(CandidatePool.build(min_rating))
            except Exception:  # the old pool keeps serving; the next request retries
                log.exception("rebuilding the candidate pool failed")
            finally:
                db.session.remove()

    def wait_for_rebuild(self, timeout: float | None = None) -> None:
        """Wait until a running background rebuild has finished (tests, shutdown)."""
        thread = self._rebuilding
        if thread is not None:
            thread.join(timeout)

    def clear(self) -> None:
        """Drop the pool so the next ranking rebuilds it."""
        self.wait_for_rebuild()
        with self._lock:
            self._pool = None
