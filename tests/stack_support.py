"""Run a real ``flask up`` stack from a test: start it, find its processes, stop it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, timeout: float, what: str, every: float = 0.2):
    """Poll ``condition()`` until it returns something truthy; return it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class Stack:
    """One ``flask up`` on a free port over its own instance folder."""

    def __init__(self, instance: Path, **settings: str) -> None:
        self.instance = instance
        self.port = free_port()
        self.env = {
            **os.environ,
            "MATCHLOOP_INSTANCE_PATH": str(instance),
            "MATCHLOOP_LOG_LEVEL": "WARNING",
            **{f"MATCHLOOP_{key}": value for key, value in settings.items()},
        }
        for key in ("MATCHLOOP_REDIS_URL", "MATCHLOOP_DATABASE_URL"):
            self.env.pop(key, None)
        self.log = instance / "up.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """Return the stack's base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def redis_socket(self) -> str:
        """Return the embedded Redis socket path."""
        return str(self.instance / "redis.sock")

    def start(self) -> Stack:
        """Start ``flask up`` and wait until the login page answers."""
        self.instance.mkdir(parents=True, exist_ok=True)
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                [*FLASK, "up", "--port", str(self.port)],
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_for(lambda: self.get("/auth/login")[0] == 200, 240, "the login page")
        except AssertionError as error:
            raise AssertionError(
                f"{error}; the stack printed:\n{self.output()}"
            ) from None
        return self

    def output(self) -> str:
        """Return everything the stack printed so far."""
        return self.log.read_text()

    def get(self, path: str, headers: dict | None = None) -> tuple[int, bytes]:
        """GET ``path`` on a new connection; (0, b"") when nothing answers."""
        assert self.process is not None and self.process.poll() is None, self.output()
        request = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
        except OSError:
            return 0, b""

    def request(self, path: str, body: bytes, headers: dict) -> tuple[int, bytes]:
        """POST ``body`` to ``path`` on a new connection."""
        request = urllib.request.Request(
            self.url + path, data=body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def tree(self) -> list[psutil.Process]:
        """Return every process below the supervisor (children, grandchildren)."""
        return psutil.Process(self.process.pid).children(recursive=True)

    def find(self, word: str) -> psutil.Process | None:
        """Return the direct child running ``word`` (a subcommand or a program name)."""
        for process in psutil.Process(self.process.pid).children():
            try:
                parts = process.cmdline()
            except psutil.NoSuchProcess:
                continue
            if any(p == word or p.split(" ")[0].endswith("/" + word) for p in parts):
                return process
        return None

    def child(self, word: str) -> psutil.Process:
        """Return the direct child running ``word``; fail when there is none."""
        found = self.find(word)
        assert found is not None, f"no child process running {word!r}"
        return found

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> float:
        """Send ``sig`` to the supervisor; return the seconds it took to exit."""
        started = time.monotonic()
        self.process.send_signal(sig)
        self.process.wait(timeout=timeout)
        return time.monotonic() - started


def survivors(processes: list[psutil.Process], timeout: float = 10) -> list[str]:
    """Return the processes still alive after ``timeout`` seconds (zombies count as gone)."""
    deadline = time.monotonic() + timeout
    alive = processes
    while time.monotonic() < deadline:
        alive = [p for p in processes if _alive(p)]
        if not alive:
            return []
        time.sleep(0.1)
    return [f"{p.pid} {' '.join(p.cmdline()[:6])}" for p in alive if _alive(p)]


def _alive(process: psutil.Process) -> bool:
    """True when ``process`` still runs (not gone, not a zombie)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def stack_processes_by_instance(instance: Path) -> list[psutil.Process]:
    """Return every process on the machine whose command line or cwd mentions ``instance``."""
    found = []
    for process in psutil.process_iter(["cmdline", "environ"]):
        try:
            environ = process.info["environ"] or {}
            cmdline = " ".join(process.info["cmdline"] or [])
        except (psutil.AccessDenied, psutil.NoSuchProcess):
            continue
        if environ.get("MATCHLOOP_INSTANCE_PATH") == str(instance) or (
            str(instance) in cmdline
        ):
            found.append(process)
    return [p for p in found if p.pid != os.getpid() and _alive(p)]


def signal_name(sig: int) -> str:
    """Return the name of a signal number."""
    return signal.Signals(sig).name
