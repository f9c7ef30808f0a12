"""Keep a set of child processes running: restart with back-off, stop in order.

Used by ``flask up``. Every child is started in its own process group with a
parent-death signal, so none outlives the supervisor. A child that exits on its
own is restarted after a back-off that doubles with each quick crash (1 s, 2 s,
4 s ... 30 s) and resets once the child has stayed up a while; a child that
keeps crashing at start gives up the whole stack instead of spinning forever.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from webapp.runtime import processes

BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0
# A child that stayed up this long is healthy again: its next crash restarts at once.
STABLE_SECONDS = 30.0
# This many crashes in a row, each within STABLE_SECONDS of its start, end the stack.
MAX_QUICK_CRASHES = 6
POLL_SECONDS = 0.2


class StackFailed(RuntimeError):
    """A child keeps crashing right after it starts; the stack cannot run."""


def say(message: str) -> None:
    """Print a supervisor message (the terminal is ``flask up``'s interface)."""
    stamp = time.strftime("%H:%M:%S")
    print(f"[{stamp}] up: {message}", file=sys.stderr, flush=True)


def describe_exit(returncode: int) -> str:
    """Return 'exit 3' or 'signal 9 (SIGKILL)' for a Popen return code."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "unknown"
        return f"signal {-returncode} ({name})"
    return f"exit {returncode}"


@dataclass
class Service:
    """One supervised program and its restart bookkeeping."""

    name: str
    # Builds the command line; gets the start number (1, 2, ...) for unique names.
    argv: Callable[[int], list[str]]
    # Sent by the kernel when the supervisor dies (SIGKILL unless the child must save).
    death_signal: int = signal.SIGKILL
    # Waits until a fresh process is ready to serve (raises when it never is).
    ready: Callable[[subprocess.Popen], None] | None = None
    # Called after the process ended, with the start number and a description.
    after_exit: Callable[[int, str], None] | None = None
    # Stops the process gracefully (default: SIGTERM to its group).
    stop: Callable[[subprocess.Popen], None] | None = None
    process: subprocess.Popen | None = None
    starts: int = 0
    started_at: float = 0.0
    quick_crashes: int = 0
    restart_at: float | None = None
    history: list[str] = field(default_factory=list)

    @property
    def running(self) -> bool:
        """True while the current process is alive."""
        return self.process is not None and self.process.poll() is None


class Supervisor:
    """Start, watch, restart and stop a list of services."""

    def __init__(self, services: list[Service], env: dict[str, str]) -> None:
        self.services = services
        self.env = env

    def launch(self, service: Service) -> None:
        """Start a new process of ``service`` and wait until it is ready."""
        service.starts += 1
        service.process = subprocess.Popen(
            service.argv(service.starts),
            env=self.env,
            preexec_fn=processes.die_with_parent(service.death_signal),
        )
        service.started_at = time.monotonic()
        service.restart_at = None
        if service.ready is not None:
            service.ready(service.process)

    def start_all(self) -> None:
        """Start every service in order."""
        for service in self.services:
            self.launch(service)

    def check(self) -> None:
        """Notice crashed services, schedule their restart, restart those due."""
        now = time.monotonic()
        for service in self.services:
            if service.restart_at is not None:
                if now >= service.restart_at:
                    say(f"restarting {service.name} (start {service.starts + 1})")
                    self.launch(service)
                continue
            if service.process is None or service.process.poll() is None:
                continue
            self.crashed(service, now)

    def crashed(self, service: Service, now: float) -> None:
        """Record an unexpected exit and schedule the restart after a back-off."""
        lived = now - service.started_at
        how = describe_exit(service.process.returncode)
        # Whatever the dead leader forked (gunicorn workers) goes with it.
        processes.signal_group(service.process.pid, signal.SIGKILL)
        service.quick_crashes = (
            1 if lived >= STABLE_SECONDS else service.quick_crashes + 1
        )
        if service.after_exit is not None:
            service.after_exit(service.starts, how)
        if service.quick_crashes >= MAX_QUICK_CRASHES:
            raise StackFailed(
                f"{service.name} crashed {service.quick_crashes} times in a row "
                f"right after starting (last: {how}); giving up"
            )
        delay = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (service.quick_crashes - 1))
        service.history.append(how)
        say(
            f"{service.name} (pid {service.process.pid}) ended unexpectedly: {how} "
            f"after {lived:.1f} s; restarting in {delay:.0f} s"
        )
        service.restart_at = now + delay

    def run(self, stopping: Callable[[], bool]) -> None:
        """Watch the services until ``stopping()`` is true."""
        while not stopping():
            self.check()
            time.sleep(POLL_SECONDS)

    def stop_all(self, order: list[str], grace: float, cold_after: float) -> None:
        """Stop the services named in ``order``, all within ``grace`` seconds.

        Each gets its graceful stop at once; those still running after
        ``cold_after`` seconds get SIGTERM again (RQ's "cold" shutdown), and
        those left at the deadline are killed with their whole process group.
        """
        chosen = [s for name in order for s in self.services if s.name == name]
        for service in chosen:
            service.restart_at = None
            if service.running:
                (service.stop or _terminate)(service.process)
        start = time.monotonic()
        resent = False
        while any(s.running for s in chosen):
            elapsed = time.monotonic() - start
            if elapsed >= grace:
                for service in chosen:
                    if service.running:
                        say(f"{service.name} did not stop in time; killing it")
                        processes.signal_group(service.process.pid, signal.SIGKILL)
                break
            if elapsed >= cold_after and not resent:
                resent = True
                for service in chosen:
                    if service.running:
                        processes.signal_group(service.process.pid, signal.SIGTERM)
            time.sleep(0.05)
        for service in chosen:
            if service.process is not None:
                service.process.wait()
                if service.after_exit is not None:
                    service.after_exit(service.starts, "the stack stopped")
                took = time.monotonic() - start
                say(f"{service.name} stopped ({took:.1f} s)")
            # Stragglers of the group (a forked child) go with it.
            if service.process is not None:
                processes.signal_group(service.process.pid, signal.SIGKILL)


def _terminate(process: subprocess.Popen) -> None:
    """Ask a process group to stop (SIGTERM)."""
    processes.signal_group(process.pid, signal.SIGTERM)
