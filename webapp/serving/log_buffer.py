"""Prediction-log rows held in the process and written in bulk off the request path.

A request appends its rows and returns; one background thread per process
inserts what has gathered every PREDICTION_LOG_FLUSH_SECONDS, or as soon as
PREDICTION_LOG_FLUSH_ROWS are waiting. The process flushes what is left when it
exits (``atexit``, which a gunicorn worker also runs on a graceful stop, and
gunicorn's ``worker_exit`` hook). A crash (SIGKILL, power loss) loses at most
the rows of the current window.

Every row carries a unique ``prediction_id`` and the insert ignores rows whose
id is already stored, so a flush that is retried after an error (or whose
commit went through although the connection then failed) never logs a
prediction twice. Rows stay buffered while the database refuses them, up to
MAX_PENDING_ROWS; beyond that the oldest are dropped, loudly.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from typing import Any

from flask import Flask
from sqlalchemy.exc import DataError, IntegrityError

from webapp.experiments.units import insert_ignoring_conflict
from webapp.extensions import db
from webapp.models import PredictionLog

log = logging.getLogger(__name__)
# Rows sent to the database per INSERT statement.
CHUNK_ROWS = 1000
# Rows kept while the database is unavailable, before the oldest are dropped.
MAX_PENDING_ROWS = 200_000


class LogBuffer:
    """The rows one app in one process has served but not yet written."""

    def __init__(self, app: Flask, seconds: float, rows: int) -> None:
        self.app = app
        self.seconds = seconds
        self.rows = rows
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        # One flush at a time: the thread's, an explicit one, or the exit one.
        self._flushing = threading.Lock()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def add(self, rows: list[dict[str, Any]]) -> None:
        """Queue ``rows`` for the next flush (started by size or by time)."""
        self._ensure_thread()
        with self._lock:
            self._pending.extend(rows)
            waiting = len(self._pending)
        if waiting >= self.rows:
            self._wake.set()

    def pending(self) -> int:
        """Return how many rows wait for a flush."""
        with self._lock:
            return len(self._pending)

    def flush(self) -> int:
        """Write every waiting row now; return how many were written (0 on failure).

        Rows that fail to insert go back to the front of the queue for the
        next flush; rows already stored by an earlier attempt are ignored.
        """
        with self._flushing:
            with self._lock:
                taken, self._pending = self._pending, []
            if not taken:
                return 0
            try:
                with self.app.app_context():
                    write_rows(taken)
            except Exception:  # the database is down or refused: keep and retry
                log.exception("flushing %d prediction-log rows failed", len(taken))
                self._put_back(taken)
                return 0
            return len(taken)

    def stop(self) -> None:
        """Stop the background thread after a last flush (process exit, tests)."""
        self._stopped.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread.is_alive():
            thread.join(timeout=10)
        self.flush()

    def _put_back(self, rows: list[dict[str, Any]]) -> None:
        """Return unwritten rows to the queue, dropping the oldest beyond the cap."""
        with self._lock:
            self._pending[:0] = rows
            excess = len(self._pending) - MAX_PENDING_ROWS
            if excess > 0:
                del self._pending[:excess]
        if excess > 0:
            log.error("dropped %d unwritten prediction-log rows (cap reached)", excess)

    def _ensure_thread(self) -> None:
        """Start the flusher in this process (again after a fork: threads do not survive it)."""
        if self._pid == os.getpid() and self._thread is not None:
            return
        with self._lock:
            if self._pid == os.getpid() and self._thread is not None:
                return
            if self._pid is not None:  # a forked child: the parent's rows are not ours
                self._pending = []
                self._flushing = threading.Lock()
            self._pid = os.getpid()
            self._stopped.clear()
            self._thread = threading.Thread(
                target=self._run, name="prediction-log-flush", daemon=True
            )
            self._thread.start()
        atexit.register(self.stop)

    def _run(self) -> None:
        """Flush by time, or earlier when woken by size, until stopped."""
        while not self._stopped.is_set():
            self._wake.wait(self.seconds)
            self._wake.clear()
            self.flush()


def write_rows(rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` in chunks on a connection of their own; skip ids already stored.

    When the database refuses the rows themselves (a version deleted since it
    served, say), they are written one by one and only the refused are
    dropped, so one bad row never holds the others back.
    """
    statement = insert_ignoring_conflict(PredictionLog)
    try:
        with db.engine.begin() as connection:
            for start in range(0, len(rows), CHUNK_ROWS):
                connection.execute(statement, rows[start : start + CHUNK_ROWS])
    except (IntegrityError, DataError):
        refused = 0
        for row in rows:
            try:
                with db.engine.begin() as connection:
                    connection.execute(statement, [row])
            except (IntegrityError, DataError):
                refused += 1
        log.error("dropped %d prediction-log rows the database refused", refused)
