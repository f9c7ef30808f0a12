"""Configuration layers: defaults, instance/config.py, MATCHLOOP_* env, test_config."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

import pytest
from conftest import PROJECT_ROOT

from webapp import create_app
from webapp.config import DEFAULTS, ConfigError, dev_secret_key


@pytest.fixture
def instance(tmp_path, monkeypatch):
    """Point the app at an empty instance folder with no MATCHLOOP_* variables set."""
    for name in list(os.environ):
        if name.startswith("MATCHLOOP_"):
            monkeypatch.delenv(name)
    path = tmp_path / "instance"
    monkeypatch.setenv("MATCHLOOP_INSTANCE_PATH", str(path))
    return path


def write_instance_config(instance, text: str) -> None:
    """Write ``instance/config.py``."""
    instance.mkdir(parents=True, exist_ok=True)
    (instance / "config.py").write_text(textwrap.dedent(text))


def test_defaults_apply_without_any_other_layer(instance):
    app = create_app()
    assert app.config["ENV"] == "development"
    assert app.config["PER_PAGE"] == DEFAULTS["PER_PAGE"] == 25
    assert app.config["RATELIMIT_LOGIN"] == "10 per minute"
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["PROXY_FIX"] is False
    assert app.config["MODEL_DIR"] == str(instance / "models")
    # Counters live in the embedded Redis, shared by every web process.
    assert app.config["RATELIMIT_STORAGE_URI"] == f"redis+unix://{instance}/redis.sock"
    assert app.instance_path == str(instance)


def test_database_url_unset_means_sqlite_in_the_instance_folder(instance):
    app = create_app()
    expected = f"sqlite:///{instance / 'matchloop.sqlite'}"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == expected
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"] == {"connect_args": {"timeout": 30}}


def test_database_url_from_the_environment_is_used_as_given(instance, monkeypatch):
    url = "postgresql://matchloop@db.example:5432/matchloop"
    monkeypatch.setenv("MATCHLOOP_DATABASE_URL", url)
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == url
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True


def test_instance_config_overrides_defaults(instance):
    write_instance_config(
        instance,
        """
        PER_PAGE = 7
        RATELIMIT_LOGIN = "3 per minute"
        """,
    )
    app = create_app()
    assert app.config["PER_PAGE"] == 7
    assert app.config["RATELIMIT_LOGIN"] == "3 per minute"
    assert app.config["SUCCESS_MIN_RATING"] == DEFAULTS["SUCCESS_MIN_RATING"]


def test_environment_overrides_instance_config(instance, monkeypatch):
    write_instance_config(
        instance,
        """
        PER_PAGE = 7
        PROXY_FIX = False
        LOG_LEVEL = "WARNING"
        """,
    )
    monkeypatch.setenv("MATCHLOOP_PER_PAGE", "9")
    monkeypatch.setenv("MATCHLOOP_PROXY_FIX", "yes")
    monkeypatch.setenv("MATCHLOOP_LOG_LEVEL", "DEBUG")
    app = create_app()
    assert app.config["PER_PAGE"] == 9
    assert app.config["PROXY_FIX"] is True
    assert app.config["LOG_LEVEL"] == "DEBUG"
    assert type(app.wsgi_app).__name__ == "ProxyFix"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), ("On", True), ("0", False), ("no", False)],
)
def test_boolean_environment_values(instance, monkeypatch, raw, expected):
    monkeypatch.setenv("MATCHLOOP_PROXY_FIX", raw)
    assert create_app().config["PROXY_FIX"] is expected


def test_test_config_overrides_environment(instance, monkeypatch):
    monkeypatch.setenv("MATCHLOOP_PER_PAGE", "9")
    app = create_app({"PER_PAGE": 3})
    assert app.config["PER_PAGE"] == 3


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("MATCHLOOP_PER_PAGE", "ten"),
        ("MATCHLOOP_MIN_TRAINING_SAMPLES", "2.5"),
        ("MATCHLOOP_PROXY_FIX", "maybe"),
        ("MATCHLOOP_SESSION_COOKIE_SECURE", "2"),
    ],
)
def test_malformed_environment_value_is_an_error(instance, monkeypatch, name, raw):
    monkeypatch.setenv(name, raw)
    with pytest.raises(ConfigError, match=name):
        create_app()


def test_unknown_env_mode_is_an_error(instance):
    with pytest.raises(ConfigError, match="staging"):
        create_app({"ENV": "staging"})


def test_production_without_secret_key_is_an_error(instance, monkeypatch):
    monkeypatch.setenv("MATCHLOOP_ENV", "production")
    with pytest.raises(ConfigError, match="MATCHLOOP_SECRET_KEY"):
        create_app()
    assert not (instance / "secret_key").exists()


def test_production_ignores_a_development_secret_file(instance, monkeypatch):
    instance.mkdir(parents=True)
    (instance / "secret_key").write_text("left-over-dev-secret")
    monkeypatch.setenv("MATCHLOOP_ENV", "production")
    monkeypatch.setenv("MATCHLOOP_SECRET_KEY", "")
    with pytest.raises(ConfigError):
        create_app()


def test_production_with_secret_key_forces_secure_cookies(instance, monkeypatch):
    monkeypatch.setenv("MATCHLOOP_ENV", "production")
    monkeypatch.setenv("MATCHLOOP_SECRET_KEY", "s3cret-from-the-environment")
    monkeypatch.setenv("MATCHLOOP_SESSION_COOKIE_SECURE", "false")
    app = create_app()
    assert app.config["SECRET_KEY"] == "s3cret-from-the-environment"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    # The "keep me signed in" cookie restores a session, so it must be as safe.
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_HTTPONLY"] is True
    assert not (instance / "secret_key").exists()


def test_development_generates_and_reuses_the_instance_secret(instance):
    first = create_app()
    key_file = instance / "secret_key"
    assert key_file.exists()
    assert key_file.stat().st_mode & 0o077 == 0, "the secret must be private"
    secret = key_file.read_text().strip()
    assert len(secret) >= 32
    assert first.config["SECRET_KEY"] == secret
    assert create_app().config["SECRET_KEY"] == secret


def test_explicit_secret_key_wins_over_the_instance_file(instance, monkeypatch):
    monkeypatch.setenv("MATCHLOOP_SECRET_KEY", "from-env")
    assert create_app().config["SECRET_KEY"] == "from-env"
    assert not (instance / "secret_key").exists()


def test_concurrent_first_starts_share_one_secret(tmp_path):
    """Web, worker and scheduler may start together: all must read the same key."""
    for attempt in range(5):
        folder = tmp_path / f"race-{attempt}"
        barrier = threading.Barrier(8)
        results, errors = [], []

        def start(folder=folder, barrier=barrier, results=results, errors=errors):
            barrier.wait()
            try:
                results.append(dev_secret_key(str(folder)))
            except Exception as error:  # collected and asserted below
                errors.append(error)

        threads = [threading.Thread(target=start) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert len(set(results)) == 1
        assert results[0] and results[0] == (folder / "secret_key").read_text()


def test_empty_secret_file_is_an_error_not_an_empty_key(instance):
    instance.mkdir(parents=True)
    (instance / "secret_key").write_text("\n")
    with pytest.raises(ConfigError, match="secret_key"):
        create_app()


def test_rate_limit_storage_follows_redis_url(instance, monkeypatch):
    monkeypatch.setenv("MATCHLOOP_REDIS_URL", "redis://cache.example:6379/2")
    app = create_app()
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://cache.example:6379/2"


def test_rate_limits_count_in_memory_only_when_testing(instance, monkeypatch):
    monkeypatch.setenv("MATCHLOOP_ENV", "testing")
    assert create_app().config["RATELIMIT_STORAGE_URI"] == "memory://"
    monkeypatch.setenv("MATCHLOOP_RATELIMIT_STORAGE_URI", "redis://other:6379/1")
    assert create_app().config["RATELIMIT_STORAGE_URI"] == "redis://other:6379/1"


def test_create_app_does_not_connect_to_redis_until_used(app):
    from webapp.runtime import jobs

    keys = ("ENV", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "RATELIMIT_ENABLED")
    fresh = create_app({key: app.config[key] for key in keys})
    assert "matchloop.redis" not in fresh.extensions
    connection = jobs.redis_connection(fresh)
    assert connection.ping()
    assert "matchloop.redis" in fresh.extensions


def test_import_and_create_app_open_no_connections(tmp_path):
    """Importing every module and building an app touches no socket or database."""
    script = textwrap.dedent(
        """
        import socket, sys
        opened = []
        def refuse(self, address):
            opened.append(address)
            raise OSError(f"connection attempted at import/start-up: {address}")
        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        import importlib, pkgutil
        import plugins, webapp, workers
        # Every module of the app, workers and plugins (migrations run under alembic).
        for package in (webapp, workers, plugins):
            prefix = package.__name__ + "."
            for module in pkgutil.walk_packages(package.__path__, prefix):
                if ".migrations" not in module.name:
                    importlib.import_module(module.name)
        from webapp import create_app
        app = create_app({"ENV": "testing", "SECRET_KEY": "x"})
        assert "matchloop.redis" not in app.extensions, app.extensions.keys()
        print("OPENED", opened)
        sys.exit(1 if opened else 0)
        """
    )
    instance = tmp_path / "instance"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("MATCHLOOP_")
    }
    env.update(
        MATCHLOOP_INSTANCE_PATH=str(instance),
        # Unreachable on purpose: any connection attempt would fail loudly.
        MATCHLOOP_REDIS_URL="redis://127.0.0.1:9/0",
        MATCHLOOP_DATABASE_URL=f"sqlite:///{tmp_path / 'never.sqlite'}",
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OPENED []" in result.stdout
    assert not (tmp_path / "never.sqlite").exists()
    assert not (instance / "redis.sock").exists()
