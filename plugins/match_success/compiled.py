"""The match model compiled for serving: its tree members as ONNX graphs run by onnxruntime.

scikit-learn answers a forest or a boosted ensemble in milliseconds per call
even for one row (input checks, then a Python step per tree: about 30 ms for
the random forest and 9 ms for the 300-iteration gradient boosting on one row
on the bench machine), which was most of a single-pair prediction's time.
After training, :func:`compile_model` converts every tree member of the served
model with skl2onnx (a scaled logistic regression is already evaluated in
numpy, ``artifact.linear_parts``), and keeps a member's graph only if
onnxruntime's probabilities match scikit-learn's within ``TOLERANCE`` on the
final window's rows and, for boosted trees, on rows placed exactly on and just
above each split's threshold. A member that does not convert or does not agree
is served by scikit-learn, and the reason is stored in the metrics.

Every row must take the branch scikit-learn takes, not only the rows checked:

- a forest (``EXACT_ROW_TYPES``) compares float32 values with float32 thresholds
  in scikit-learn too, so its graph takes float32 rows;
- histogram gradient boosting compares float64 values with
  float64 thresholds, which skl2onnx writes as float32 attributes (a float32
  graph agreed within 1e-5 on the final window yet differed by 0.027 on other
  rows). Its graph takes float64 rows and carries scikit-learn's own float64
  thresholds as a double tensor (``nodes_values_as_tensor``, ai.onnx.ml
  opset 3, ``_exact_thresholds``); only the leaf sums are float32 (about 1e-7).

Their bytes live inside the artifact, so the
artifact's sha256 covers them, and each carries its own sha256, checked before
a process opens a session on it: a graph whose bytes do not match is refused
and logged, and scikit-learn serves that member (``CompiledModel.refused`` says
why, for the model page). Each process opens one single-threaded session per
graph, when routing preloads the artifact (``MatchArtifact.warm``) or on first
use, never before a fork.
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from threading import Lock
from typing import Any

import numpy as np

from plugins.match_success.artifact import linear_parts

log = logging.getLogger(__name__)

# Largest allowed |onnxruntime - scikit-learn| of a member's probability.
TOLERANCE = 1e-5

Runner = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class CompiledMember:
    """One member's ONNX graph, its fingerprint and how closely it agreed."""

    index: int  # position among ``MatchArtifact.members()``
    estimator: str  # the scikit-learn class it replaces
    onnx: bytes
    sha256: str
    max_difference: float
    dtype: str = "float32"  # what the graph's rows are (float64: boosted trees)


class CompiledModel:
    """The compiled members of a served model; sessions are opened per process."""

    def __init__(
        self,
        members: list[CompiledMember],
        notes: list[str],
        checked_rows: int,
        threshold_rows: int = 0,
    ) -> None:
        self.members = members
        # Why a member is served by scikit-learn (not convertible, disagreed).
        self.notes = notes
        self.checked_rows = checked_rows
        # Rows on and just above boosted trees' split thresholds, also checked.
        self.threshold_rows = threshold_rows
        self._reset()

    def _reset(self) -> None:
        self._runners: dict[int, Runner] | None = None
        self.refused: str | None = None
        self._lock = Lock()

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the graphs and their checks, never a process's sessions."""
        state = dict(self.__dict__)
        for transient in ("_runners", "refused", "_lock"):
            state.pop(transient, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._reset()

    def runners(self) -> dict[int, Runner]:
        """Return a probability function per compiled member index (opened once per process).

        A graph whose bytes do not hash to its sha256, or that onnxruntime
        cannot open, is refused: it is logged, ``refused`` says why, and the
        member is left to scikit-learn.
        """
        if self._runners is not None:
            return self._runners
        with self._lock:
            if self._runners is None:
                runners: dict[int, Runner] = {}
                for member in self.members:
                    try:
                        runners[member.index] = _open(member)
                    except CompiledRefused as error:
                        self.refused = str(error)
                        log.error("compiled match model refused: %s", error)
                self._runners = runners
        return self._runners

    def status(self) -> str:
        """Say how this process serves the model (opening the sessions if need be)."""
        runners = self.runners()
        if self.refused:
            return f"compiled form refused: {self.refused}"
        served = [m.estimator for m in self.members if m.index in runners]
        if not served:
            return "nothing compiled: numpy and scikit-learn serve"
        return f"onnxruntime serves {', '.join(served)}"

    def describe(self) -> dict[str, Any]:
        """Return what the model page says about how the model is served."""
        import onnxruntime

        return {
            "runtime": f"onnxruntime {onnxruntime.__version__}",
            "compiled": [member.estimator for member in self.members],
            "max_difference": max(
                (member.max_difference for member in self.members), default=None
            ),
            "checked_rows": self.checked_rows,
            "threshold_rows": getattr(self, "threshold_rows", 0),
            "tolerance": TOLERANCE,
            "not_compiled": list(self.notes),
        }


class CompiledRefused(RuntimeError):
    """A compiled graph's bytes do not match its sha256, or onnxruntime cannot open it."""


# The row type of each model's exact graph, so it takes scikit-learn's branch on
# every row, not only on the rows checked: forests compare float32 features with
# float32 thresholds in scikit-learn too (their trees cast the input); histogram
# gradient boosting compares float64 with float64, so its graph takes float64
# rows and scikit-learn's thresholds as a double tensor.
EXACT_ROW_TYPES = {
    "RandomForestClassifier": "float32",
    "ExtraTreesClassifier": "float32",
    "HistGradientBoostingClassifier": "float64",
}
# At most this many rows on and just above split thresholds are checked.
BOUNDARY_ROWS = 4_000


def compile_model(members: list[Any], rows: np.ndarray) -> CompiledModel:
    """Convert each non-linear member to ONNX; keep those that agree with scikit-learn on ``rows``.

    :param members: the fitted members of the served model (``MatchArtifact.members()``).
    :param rows: held-out feature rows the agreement is measured on.
    """
    compiled, notes, threshold_rows = [], [], 0
    for index, member in enumerate(members):
        if linear_parts(member) is not None:
            continue  # numpy evaluates it in closed form already
        name = type(member).__name__
        dtype = EXACT_ROW_TYPES.get(name)
        if dtype is None:
            notes.append(
                f"{name}: no exact compiled form is known for it; scikit-learn serves it"
            )
            continue
        if len(rows) == 0:
            notes.append(f"{name}: no rows to check a compiled form on")
            continue
        try:
            graph = _convert(member, rows.shape[1], dtype)
            checked = (
                rows
                if dtype == "float32"
                else np.vstack([rows, _boundary_rows(member, rows)])
            )
            got = _runner(_session(graph), dtype)(checked)
            threshold_rows += len(checked) - len(rows)
        except Exception as error:  # any converter or runtime failure: sklearn serves
            notes.append(
                f"{name}: not compiled ({type(error).__name__}: {str(error)[:160]})"
            )
            continue
        difference = float(np.max(np.abs(got - member.predict_proba(checked)[:, 1])))
        if not difference <= TOLERANCE:
            notes.append(
                f"{name}: compiled probabilities differ from scikit-learn's by up to "
                f"{difference:.2g} on {len(checked):,} checked rows (tolerance "
                f"{TOLERANCE:g}), so scikit-learn serves it"
            )
            continue
        compiled.append(
            CompiledMember(
                index, name, graph, hashlib.sha256(graph).hexdigest(), difference, dtype
            )
        )
    return CompiledModel(compiled, notes, len(rows), threshold_rows)


def _boundary_rows(estimator: Any, rows: np.ndarray) -> np.ndarray:
    """Return rows whose split feature lies exactly on, or just above, a split's threshold.

    Each is a held-out row with one feature moved, so a graph that compared
    with rounded thresholds would take the other branch on some of them.
    """
    splits = [
        (int(node["feature_idx"]), float(node["num_threshold"]))
        for (predictor,) in estimator._predictors
        for node in predictor.nodes
        if not node["is_leaf"]
    ]
    picked = np.random.default_rng(0).permutation(len(splits))[: BOUNDARY_ROWS // 2]
    found = np.resize(rows, (2 * len(picked), rows.shape[1])).astype(float)
    for k, split in enumerate(picked):
        feature, threshold = splits[split]
        found[2 * k, feature] = threshold
        found[2 * k + 1, feature] = np.nextafter(threshold, np.inf)
    return found


def _convert(estimator: Any, n_features: int, dtype: str) -> bytes:
    """Return the ONNX graph of a fitted classifier taking ``dtype`` rows (probabilities out)."""
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    row_type = FloatTensorType if dtype == "float32" else DoubleTensorType
    with warnings.catch_warnings():
        # skl2onnx 1.20's boosting converter writes booleans into int attributes,
        # which protobuf 6 accepts with this warning (7 refuses: setup.cfg pins <7).
        warnings.filterwarnings(
            "ignore", "Field onnx.AttributeProto", DeprecationWarning
        )
        graph = to_onnx(
            estimator,
            initial_types=[("rows", row_type([None, n_features]))],
            options={id(estimator): {"zipmap": False}},
        )
    if dtype == "float64":
        _exact_thresholds(graph, estimator)
    return graph.SerializeToString()


def _exact_thresholds(graph: Any, estimator: Any) -> None:
    """Give a boosted graph scikit-learn's float64 thresholds (in place).

    skl2onnx writes each split's threshold as a float32 attribute
    (``nodes_values``); ai.onnx.ml opset 3 takes them as a double tensor
    instead. Each node is matched to the scikit-learn node of the same tree
    and id, and must split on the same feature at the same float32 value, or
    the conversion is refused (ValueError). onnxruntime's tree classifier
    answers float32 probabilities, so the graph's output says so.
    """
    from onnx import TensorProto, helper, numpy_helper

    (node,) = [n for n in graph.graph.node if n.op_type == "TreeEnsembleClassifier"]
    attributes = {a.name: a for a in node.attribute}
    thresholds = []
    for tree, index, mode, feature, value in zip(
        attributes["nodes_treeids"].ints,
        attributes["nodes_nodeids"].ints,
        attributes["nodes_modes"].strings,
        attributes["nodes_featureids"].ints,
        attributes["nodes_values"].floats,
        strict=True,
    ):
        (predictor,) = estimator._predictors[tree]
        sk = predictor.nodes[index]
        if mode == b"LEAF":
            thresholds.append(0.0)
            continue
        if sk["is_leaf"] or sk["feature_idx"] != feature:
            raise ValueError(f"tree {tree} node {index} does not match scikit-learn's")
        if np.float32(sk["num_threshold"]) != np.float32(value):
            raise ValueError(f"tree {tree} node {index}: another threshold")
        thresholds.append(float(sk["num_threshold"]))
    kept = [a for a in node.attribute if a.name != "nodes_values"]
    del node.attribute[:]
    node.attribute.extend(kept)
    node.attribute.append(
        helper.make_attribute(
            "nodes_values_as_tensor",
            numpy_helper.from_array(np.array(thresholds, dtype=np.float64)),
        )
    )
    for opset in graph.opset_import:
        if opset.domain == "ai.onnx.ml":
            opset.version = max(opset.version, 3)
    for output in graph.graph.output:
        if output.name == node.output[1]:
            output.type.tensor_type.elem_type = TensorProto.FLOAT


def _session(graph: bytes) -> Any:
    """Open a single-threaded onnxruntime session on ``graph`` (serving is latency-bound)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    return onnxruntime.InferenceSession(
        graph, options, providers=["CPUExecutionProvider"]
    )


def _runner(session: Any, dtype: str) -> Runner:
    """Return rows -> success probability through ``session`` (rows cast to ``dtype``)."""
    (feed,) = session.get_inputs()
    probabilities = session.get_outputs()[1].name

    def run(rows: np.ndarray) -> np.ndarray:
        out = session.run([probabilities], {feed.name: np.asarray(rows, dtype)})
        return out[0][:, 1].astype(float)

    return run


def _open(member: CompiledMember) -> Runner:
    """Verify a member's graph against its sha256 and open it (CompiledRefused otherwise)."""
    actual = hashlib.sha256(member.onnx).hexdigest()
    if actual != member.sha256:
        raise CompiledRefused(
            f"the compiled {member.estimator} was altered: sha256 {actual[:12]}… "
            f"does not match the recorded {member.sha256[:12]}…; scikit-learn serves it"
        )
    try:
        return _runner(_session(member.onnx), member.dtype)
    except Exception as error:  # onnxruntime rejects the graph: sklearn serves
        raise CompiledRefused(
            f"onnxruntime cannot open the compiled {member.estimator}: "
            f"{type(error).__name__}: {str(error)[:160]}"
        ) from error
