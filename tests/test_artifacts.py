"""Artifacts on disk: atomic writes, sha256 checks, cache."""

from __future__ import annotations

import hashlib

import pytest

from webapp.registry import artifacts


def test_save_writes_atomically_and_records_the_fingerprint(tmp_path):
    stored = artifacts.save(tmp_path, "match_success", 3, {"weights": [1, 2, 3]})
    path = tmp_path / stored.path
    assert path.parent.name == "match_success" and path.name.startswith("v3-")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == stored.sha256
    assert stored.size_bytes == path.stat().st_size
    assert not list(path.parent.glob(".incoming-*"))  # no temp file left behind


def test_verified_load_round_trips(tmp_path):
    stored = artifacts.save(tmp_path, "t", 1, {"a": 1})
    cache = artifacts.ArtifactCache()
    assert cache.load(tmp_path, stored.path, stored.sha256) == {"a": 1}


def test_altered_artifact_is_refused(tmp_path):
    stored = artifacts.save(tmp_path, "t", 1, {"a": 1})
    path = tmp_path / stored.path
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(artifacts.ArtifactError, match="altered"):
        artifacts.ArtifactCache().load(tmp_path, stored.path, stored.sha256)


def test_missing_artifact_is_refused(tmp_path):
    stored = artifacts.save(tmp_path, "t", 1, {"a": 1})
    (tmp_path / stored.path).unlink()
    with pytest.raises(artifacts.ArtifactError, match="missing"):
        artifacts.read_verified(tmp_path, stored.path, stored.sha256)


def test_a_failed_write_leaves_no_file(tmp_path):
    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError("cannot serialise")

    with pytest.raises(RuntimeError):
        artifacts.save(tmp_path, "t", 1, Unpicklable())
    assert not list(tmp_path.rglob("*.joblib"))


def test_cache_evicts_the_least_recently_used(tmp_path):
    cache = artifacts.ArtifactCache(capacity=1)
    first = artifacts.save(tmp_path, "t", 1, "one")
    second = artifacts.save(tmp_path, "t", 2, "two")
    cache.load(tmp_path, first.path, first.sha256)
    cache.load(tmp_path, second.path, second.sha256)
    (tmp_path / first.path).unlink()
    with pytest.raises(artifacts.ArtifactError):
        cache.load(tmp_path, first.path, first.sha256)  # evicted: read from disk again
