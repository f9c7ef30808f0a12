"""The match model's compiled form: it agrees with scikit-learn, an altered one is refused, pages say which serves."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import joblib
import numpy as np
import pytest
from api_support import ApiClient, issue_token
from training_helpers import FAST_PARAMS, seed_small_world, serve_trained_once

from plugins.match_success import compiled
from plugins.match_success.artifact import _positive
from webapp import serving
from webapp.extensions import db
from webapp.learning import training_data
from webapp.models import Company, Influencer
from webapp.registry import artifacts

ENSEMBLE = {**FAST_PARAMS, "algorithm": "soft_voting"}
TREES = ["RandomForestClassifier", "HistGradientBoostingClassifier"]


# One trained ensemble for the whole module (training it takes a while).
_TRAINED: dict = {}


@pytest.fixture
def ensemble(app):
    """Seed the small world and serve a soft-voting ensemble trained on it (once per module)."""
    seed_small_world()
    return serve_trained_once(_TRAINED, ENSEMBLE)


def stored(app, version):
    """Return the version's artifact as stored (a fresh unpickled copy)."""
    path = Path(app.config["MODEL_DIR"]) / version.artifact_path
    return joblib.load(io.BytesIO(path.read_bytes()))


def unseen_rows(app, n: int = 300) -> np.ndarray:
    """Return feature rows no model saw: the latest rows with each column shuffled apart."""
    X = training_data.build("success", app.config).X[-n:]
    return np.random.default_rng(5).permuted(X, axis=0)


def scikit_learn(artifact, rows: np.ndarray) -> np.ndarray:
    """Return each member's probabilities as scikit-learn (or numpy for linear ones) computes them."""
    return np.vstack([_positive(member, rows) for member in artifact.members()])


def test_the_compiled_trees_agree_with_scikit_learn(app, ensemble):
    artifact = stored(app, ensemble)
    assert [m.estimator for m in artifact.compiled.members] == TREES
    assert [m.dtype for m in artifact.compiled.members] == ["float32", "float64"]
    assert set(artifact.compiled.runners()) == {1, 2}
    assert artifact.compiled.refused is None
    rows = unseen_rows(app)
    served = artifact.member_probabilities(rows)
    assert np.max(np.abs(served - scikit_learn(artifact, rows))) <= compiled.TOLERANCE
    note = ensemble.metrics["serving"]
    assert note["compiled"] == TREES
    assert note["not_compiled"] == []
    assert note["threshold_rows"] > 0
    assert 0 <= note["max_difference"] <= compiled.TOLERANCE


def test_boosted_trees_on_their_split_thresholds_take_scikit_learns_branch(
    app, ensemble
):
    artifact = stored(app, ensemble)
    boosted = artifact.members()[2]
    rows = compiled._boundary_rows(boosted, unseen_rows(app))
    [runner] = [r for k, r in artifact.compiled.runners().items() if k == 2]
    exact = np.max(np.abs(runner(rows) - boosted.predict_proba(rows)[:, 1]))
    assert exact <= compiled.TOLERANCE
    # The graph skl2onnx writes alone (float32 thresholds) goes astray on them,
    # which is what the threshold rows are there to catch.
    rounded = compiled._runner(
        compiled._session(compiled._convert(boosted, rows.shape[1], "float32")),
        "float32",
    )
    assert np.max(np.abs(rounded(rows) - boosted.predict_proba(rows)[:, 1])) > 1e-3


def test_a_boosted_graph_with_rounded_thresholds_is_not_compiled(
    app, ensemble, monkeypatch
):
    from onnx import numpy_helper

    exact = compiled._exact_thresholds

    def rounded(graph, estimator):
        """Write the thresholds as float32 values, as skl2onnx alone would."""
        exact(graph, estimator)
        (node,) = graph.graph.node
        [tensor] = [a for a in node.attribute if a.name == "nodes_values_as_tensor"]
        values = numpy_helper.to_array(tensor.t).astype(np.float32).astype(np.float64)
        tensor.t.CopyFrom(numpy_helper.from_array(values))

    artifact = stored(app, ensemble)
    monkeypatch.setattr(compiled, "_exact_thresholds", rounded)
    found = compiled.compile_model(artifact.members(), unseen_rows(app))
    assert [m.estimator for m in found.members] == ["RandomForestClassifier"]
    [note] = found.notes
    assert note.startswith(
        "HistGradientBoostingClassifier: compiled probabilities differ"
    )


def test_a_member_that_disagrees_is_left_to_scikit_learn(app, ensemble, monkeypatch):
    artifact = stored(app, ensemble)
    monkeypatch.setattr(compiled, "TOLERANCE", -1.0)  # no difference passes
    rows = unseen_rows(app)
    artifact.compiled = compiled.compile_model(artifact.members(), rows)
    assert artifact.compiled.members == []
    assert len(artifact.compiled.notes) == 2
    assert all("scikit-learn serves it" in note for note in artifact.compiled.notes)
    assert "differ from scikit-learn" in artifact.compiled.notes[0]
    served = artifact.member_probabilities(rows)
    np.testing.assert_array_equal(served, scikit_learn(artifact, rows))


def test_an_altered_compiled_graph_is_refused_and_scikit_learn_serves(
    app, ensemble, make_user, signed_in_admin
):
    artifact = stored(app, ensemble)
    graph = artifact.compiled.members[0]
    artifact.compiled.members[0] = dataclasses.replace(
        graph, onnx=graph.onnx[:-16] + bytes(16)
    )
    # Stored with a matching sha256 for the whole artifact: only the graph's own
    # fingerprint can tell it was altered.
    saved = artifacts.save(app.config["MODEL_DIR"], "match_success", 99, artifact)
    ensemble.artifact_path, ensemble.sha256 = saved.path, saved.sha256
    db.session.commit()
    serving.serving_state().clear()

    influencer = db.session.scalars(db.select(Influencer).limit(1)).one()
    company = db.session.scalars(db.select(Company).limit(1)).one()
    api = ApiClient(app.test_client())
    body = api.call(
        "POST",
        "/predict/match",
        200,
        token=issue_token(make_user("ops@example.com", role="admin")),
        json={
            "influencer_id": influencer.external_id,
            "company_id": company.external_id,
        },
    ).get_json()
    assert body["fallback"] is False
    loaded = serving.serving_state().artifacts.get(ensemble.sha256)
    assert f"{graph.estimator} was altered" in loaded.compiled.refused
    # Every other compiled member still runs compiled; the altered forest does not.
    others = {m.index for m in loaded.compiled.members} - {graph.index}
    assert set(loaded.compiled.runners()) == others
    rows = unseen_rows(app)
    served = loaded.member_probabilities(rows)
    assert np.max(np.abs(served - scikit_learn(loaded, rows))) <= compiled.TOLERANCE

    page = signed_in_admin.get("/models/match_success").get_data(as_text=True)
    assert "compiled to ONNX" in page
    assert "compiled form refused" in page


def test_the_model_page_says_onnxruntime_serves(app, ensemble, signed_in_admin):
    serving.serving_state().clear()
    [answer] = serving.predict_pairs(
        [
            (
                db.session.scalars(db.select(Influencer).limit(1)).one(),
                db.session.scalars(db.select(Company).limit(1)).one(),
            )
        ]
    )
    assert answer["fallback"] is False
    page = signed_in_admin.get("/models/match_success").get_data(as_text=True)
    assert "In this process: onnxruntime serves RandomForestClassifier" in page
