"""Process plumbing for the stack: parent-death signals and process-tree checks.

A child started by ``flask up`` asks the kernel to signal it when its parent
dies (Linux ``prctl(PR_SET_PDEATHSIG)``), so no process of the stack outlives
the supervisor, even when the supervisor itself is killed with SIGKILL. The
setting does not survive ``fork``, so the RQ work horse and the gunicorn
workers set it again for themselves.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1


def set_parent_death_signal(sig: int, expected_parent: int | None = None) -> bool:
    """Ask the kernel to send ``sig`` to this process when its parent dies.

    Returns False where the kernel has no such feature (not Linux). When
    ``expected_parent`` is given and the parent already changed (it died before
    the request was made), the signal is delivered to ourselves at once.
    """
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"prctl(PR_SET_PDEATHSIG) failed: {os.strerror(error)}")
    if expected_parent is not None and os.getppid() != expected_parent:
        os.kill(os.getpid(), sig)
    return True


def die_with_parent(sig: int = signal.SIGKILL) -> Callable[[], None]:
    """Return a ``preexec_fn`` that makes a Popen child die with its parent.

    The child also gets its own process group, so a Ctrl-C in the terminal
    reaches only the supervisor, which then stops the children in order.
    """
    parent = os.getpid()

    def preexec() -> None:
        os.setpgid(0, 0)
        set_parent_death_signal(sig, expected_parent=parent)

    return preexec


def die_with(parent: int, sig: int = signal.SIGKILL) -> None:
    """Make the current (just forked) process die with ``parent``, the pid that forked it.

    Call it first thing in the child; the pid must be read before the fork, so a
    parent that died in between is noticed.
    """
    set_parent_death_signal(sig, expected_parent=parent)


def signal_group(pid: int, sig: int) -> bool:
    """Send ``sig`` to the process group led by ``pid``; False when it is gone."""
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return False
    return True
