"""Routing coherence: every web process serves the same versions within a second of a change.

A routing change (a promote, a rollback and the version it archives, an
experiment started, stopped, re-weighted or concluded; later, a rollout step)
calls :func:`routing_changed` before its commit. Once the transaction commits,
the Redis routing counter is incremented (``runtime.notices``) and this
process drops its table, so its next request loads the new one.

Every web process routes by one ``RoutingTable`` held in a :class:`RoutingCache`.
At most every ROUTING_CHECK_SECONDS a request reads the counter (one GET); when
it moved, a background thread loads the new table from the database, loads and
verifies (sha256) every artifact it routes to, and only then swaps it in:
requests go on being served by the old table meanwhile, and the first request
on the new one finds its artifacts loaded. Unless ROUTING_WATCH is off, a
watcher thread in each process makes the same check every ROUTING_CHECK_SECONDS
whether or not requests arrive, so an idle process has switched before its next
request rather than on it. When Redis does not answer, the
table is reloaded from the database every ROUTING_FALLBACK_SECONDS instead; no
table is served longer than ROUTING_MAX_AGE_SECONDS (that picks up a change
whose notice was lost while the writer could not reach Redis).
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
import weakref
from collections.abc import Callable

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from webapp.extensions import db
from webapp.runtime import notices
from webapp.serving.routing import RoutingTable, load_routing_table

log = logging.getLogger(__name__)
_PENDING = "matchloop.routing_changed"


def routing_changed() -> None:
    """Announce a routing change to every web process once the open transaction commits.

    Call it with the change written but not committed (promote, rollback,
    experiment start/stop/weights/conclude, a rollout step); a rollback of the
    transaction cancels the announcement.
    """
    db.session.info[_PENDING] = True


def _after_commit(session: Session) -> None:
    """Bump the Redis counter and drop this process's table if the commit changed routing."""
    if not session.info.pop(_PENDING, False):
        return
    app = current_app._get_current_object()
    notices.bump_routing(app)
    from webapp.serving.state import existing_serving_state

    state = existing_serving_state(app)
    if state is not None:
        state.routing.clear()


def _after_rollback(session: Session) -> None:
    """Forget an announcement whose transaction did not commit."""
    session.info.pop(_PENDING, None)


def init_app(app: Flask) -> None:
    """Listen for commits of routing changes (once per interpreter: sessions are shared)."""
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)


class RoutingCache:
    """This process's routing table, reloaded when the Redis counter moves.

    :param preload: called with a freshly loaded table before it is swapped in
        (loads and verifies the artifacts it routes to).
    """

    def __init__(
        self,
        app: Flask,
        preload: Callable[[RoutingTable], None],
    ) -> None:
        self.app = app
        self.preload = preload
        self.check_seconds = float(app.config["ROUTING_CHECK_SECONDS"])
        self.fallback_seconds = float(app.config["ROUTING_FALLBACK_SECONDS"])
        self.max_age = float(app.config["ROUTING_MAX_AGE_SECONDS"])
        self.watch = bool(app.config["ROUTING_WATCH"])
        self._watching_pid: int | None = None
        #: ``time.time()`` when the table now served was swapped in (health shows it).
        self.switched_at: float | None = None
        self._table: RoutingTable | None = None
        self._next_check = -math.inf
        self._checking = threading.Lock()
        self._loading = threading.Lock()
        self._starting_watch = threading.Lock()
        # Bumped by clear(): a load that began before it must not swap its table in.
        self._epoch = 0

    def table(self) -> RoutingTable:
        """Return the table to route by now; start a reload in the background if stale.

        Only the first call (and the first after :meth:`clear`) loads in the
        caller's thread; every other call returns at once.
        """
        if self.watch and self._watching_pid != os.getpid():
            self._start_watching()
        table = self._table
        if table is None:
            return self._load_missing()
        if self._due(table):
            self._reload_in_background()
        return table

    def _due(self, table: RoutingTable) -> bool:
        """Say whether a check is due and finds ``table`` stale (one checker at a time)."""
        now = time.monotonic()
        if now < self._next_check or not self._checking.acquire(blocking=False):
            return False
        try:
            return now >= self._next_check and self._stale(table, now)
        finally:
            self._checking.release()

    def _start_watching(self) -> None:
        """Start this process's watcher thread (again in a forked child: threads do not fork)."""
        with self._starting_watch:
            if self._watching_pid == os.getpid():
                return  # another request thread started it meanwhile
            self._watching_pid = os.getpid()
            threading.Thread(
                target=_watch,
                args=(weakref.ref(self),),
                name="routing-watch",
                daemon=True,
            ).start()

    def refresh(self) -> None:
        """Check the counter now if a check is due; reload in this thread if it moved.

        Does nothing while another thread loads (a request's first load, or its
        background reload): that load reads the newest counter itself.
        """
        if self._loading.locked():
            return
        table = self._table
        if table is None or self._due(table):
            self._reload()

    def _stale(self, table: RoutingTable, now: float) -> bool:
        """Say whether ``table`` must be reloaded; schedule the next check."""
        self._next_check = now + self.check_seconds
        if now - table.loaded_at >= self.max_age:
            return True
        generation = notices.routing_generation(self.app)
        if generation is None:
            # Redis does not answer: poll the database slowly instead, and do not
            # ask Redis again before then.
            self._next_check = now + self.fallback_seconds
            return (
                table.generation is not None
                or now - table.loaded_at >= self.fallback_seconds
            )
        return generation != table.generation

    def load(self) -> RoutingTable:
        """Load the table now, in this thread (its artifacts preloaded), and serve it."""
        with self._loading:
            return self._load_locked()

    def _load_missing(self) -> RoutingTable:
        """Load the table unless another thread did while this one waited for the lock."""
        with self._loading:
            table = self._table
            return table if table is not None else self._load_locked()

    def _load_locked(self) -> RoutingTable:
        """Read the counter, then the database; preload; swap (``_loading`` is held)."""
        epoch = self._epoch
        # Read the counter before the database: a change committed after this
        # read moves the counter again, so it is never missed.
        table = load_routing_table(notices.routing_generation(self.app))
        self.preload(table)
        if epoch == self._epoch:
            self._table = table
            self.switched_at = time.time()
            self._next_check = time.monotonic() + self.check_seconds
        return table

    def _reload_in_background(self) -> None:
        """Load the new table beside the old one in a thread (one at a time)."""
        if self._loading.locked():
            return
        threading.Thread(
            target=self._reload, name="routing-reload", daemon=True
        ).start()

    def _reload(self) -> None:
        """Body of the reload thread: its own app context, so its own session."""
        with self.app.app_context():
            try:
                self.load()
            except Exception:  # any failure: keep serving the old table
                # The database may be down for a moment: the old table keeps serving
                # and the next check (the counter still differs) tries again.
                log.exception("routing reload failed; the previous table serves on")

    def warm(self) -> None:
        """Load the table now if this process's own change dropped it.

        Admin actions call it after the change, so the admin's request pays for
        loading the new artifacts rather than the next user's.
        """
        if self._table is None:
            self._load_missing()

    def clear(self) -> None:
        """Drop the table: the next request loads one (after a change in this process)."""
        self._epoch += 1
        self._table = None
        self._next_check = -math.inf


def _watch(cache_ref: weakref.ref[RoutingCache]) -> None:
    """Body of a process's watcher thread: refresh until the cache is gone."""
    while (cache := cache_ref()) is not None:
        interval = cache.check_seconds
        try:
            cache.refresh()
        except Exception:  # keep watching: the next tick tries again
            log.exception("routing check failed; the watcher tries again")
        del cache  # hold no reference while asleep: a dropped app ends the thread
        time.sleep(interval)
