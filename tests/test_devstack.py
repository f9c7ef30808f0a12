"""``flask up`` (what ``make run`` starts): everything comes up, Ctrl-C stops it all."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from conftest import PROJECT_ROOT

from webapp.runtime import embedded_redis


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_login_page(
    port: int, process: subprocess.Popen, timeout: float = 240
) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "flask up exited early"
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/auth/login", timeout=2
            ) as r:
                return r.status
        except OSError:
            time.sleep(0.5)
    raise AssertionError("the login page never answered")


def test_up_serves_the_app_and_stops_everything_on_ctrl_c(tmp_path):
    instance = tmp_path / "instance"
    env = {
        **os.environ,
        "MATCHLOOP_INSTANCE_PATH": str(instance),
        "MATCHLOOP_LOG_LEVEL": "WARNING",
    }
    env.pop("MATCHLOOP_REDIS_URL", None)
    env.pop("MATCHLOOP_DATABASE_URL", None)
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run(
        [*flask, "init-db"], cwd=PROJECT_ROOT, env=env, check=True, capture_output=True
    )
    port = free_port()
    process = subprocess.Popen(
        [*flask, "up", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert wait_for_login_page(port, process) == 200
        assert embedded_redis.is_running(str(instance / "redis.sock"))
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output[-2000:]
    assert f"Matchloop is running at http://127.0.0.1:{port}/" in output
    assert "Stopped." in output
    assert not embedded_redis.is_running(str(instance / "redis.sock"))
    # Nothing listens on the web port any more (connections in TIME_WAIT may linger).
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
