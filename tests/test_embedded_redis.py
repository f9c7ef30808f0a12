"""The embedded Redis is stopped with a command the shipped server accepts, and is gone."""

from __future__ import annotations

import psutil
import pytest
import redis

from webapp.runtime import embedded_redis


@pytest.fixture
def server(tmp_path):
    owner = embedded_redis.start(str(tmp_path / "redis.sock"))
    yield owner
    if psutil.pid_exists(owner.pid or -1):
        embedded_redis.stop(owner)


def test_the_shipped_server_rejects_the_old_shutdown_and_stop_still_ends_it(server):
    pid = server.pid
    assert embedded_redis.server_version(server)[:2] == (6, 2)
    # What stop() used to send: a syntax error on 6.2, and the server stays up.
    with pytest.raises(redis.ResponseError, match="syntax"):
        server.execute_command("SHUTDOWN", "SAVE", "NOW", "FORCE")
    assert server.ping()
    embedded_redis.stop(server)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie"


def test_a_server_that_ignores_shutdown_is_killed_by_pid(server, monkeypatch):
    pid = server.pid
    monkeypatch.setattr(embedded_redis, "request_shutdown", lambda connection: None)
    monkeypatch.setattr(embedded_redis, "SHUTDOWN_WAIT", 0.2)
    embedded_redis.stop(server)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie"


def test_the_supervised_server_keeps_its_files_beside_the_socket(tmp_path):
    command = embedded_redis.server_command(str(tmp_path / "redis.sock"))
    assert command[command.index("--dir") + 1] == str(tmp_path)
    assert command[command.index("--logfile") + 1] == str(tmp_path / "redis.log")
    assert command[command.index("--daemonize") + 1] == "no"
