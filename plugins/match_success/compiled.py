"""The match model compiled for serving: its tree members as ONNX graphs run by onnxruntime.

scikit-learn answers a forest or a boosted ensemble in milliseconds per call
even for one row (input checks, then a Python step per tree: about 30 ms for
the random forest and 9 ms for the 300-iteration gradient boosting on one row
on the bench machine), which was most of a single-pair prediction's time.
After training, :func:`compile_model` converts every member of the served
model that is a forest (``FLOAT32_EXACT``; a scaled logistic regression is
already evaluated in numpy, ``artifact.linear_parts``, and the boosted trees are
not exact in float32) with skl2onnx, and keeps a member's graph only
if onnxruntime's probabilities match scikit-learn's within ``TOLERANCE`` on the
final window's rows. A member that does not convert or does not agree is served
by scikit-learn, and the reason is stored in the metrics.

The graphs take float32 rows, as the forest compares float32 values in
scikit-learn too. Their bytes live inside the artifact, so the
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


class CompiledModel:
    """The compiled members of a served model; sessions are opened per process."""

    def __init__(
        self, members: list[CompiledMember], notes: list[str], checked_rows: int
    ) -> None:
        self.members = members
        # Why a member is served by scikit-learn (not convertible, disagreed).
        self.notes = notes
        self.checked_rows = checked_rows
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
            "tolerance": TOLERANCE,
            "not_compiled": list(self.notes),
        }


class CompiledRefused(RuntimeError):
    """A compiled graph's bytes do not match its sha256, or onnxruntime cannot open it."""


# Models whose scikit-learn predict already compares float32 features with
# float32 thresholds (its trees cast the input), so a float32 graph takes the
# same branch on every row, not only on the rows checked. Histogram gradient
# boosting keeps float64 thresholds: compiled, it agreed within 1e-5 on the
# final window yet differed by 0.027 on other rows.
FLOAT32_EXACT = frozenset({"RandomForestClassifier", "ExtraTreesClassifier"})


def compile_model(members: list[Any], rows: np.ndarray) -> CompiledModel:
    """Convert each non-linear member to ONNX; keep those that agree with scikit-learn on ``rows``.

    :param members: the fitted members of the served model (``MatchArtifact.members()``).
    :param rows: held-out feature rows the agreement is measured on.
    """
    compiled, notes = [], []
    for index, member in enumerate(members):
        if linear_parts(member) is not None:
            continue  # numpy evaluates it in closed form already
        name = type(member).__name__
        if name not in FLOAT32_EXACT:
            notes.append(
                f"{name}: its thresholds are float64, so a float32 graph could take "
                "another branch on rows no check saw; scikit-learn serves it"
            )
            continue
        if len(rows) == 0:
            notes.append(f"{name}: no rows to check a compiled form on")
            continue
        try:
            graph = _convert(member, rows.shape[1])
            got = _runner(_session(graph))(rows)
        except Exception as error:  # any converter or runtime failure: sklearn serves
            notes.append(
                f"{name}: not compiled ({type(error).__name__}: {str(error)[:160]})"
            )
            continue
        difference = float(np.max(np.abs(got - member.predict_proba(rows)[:, 1])))
        if not difference <= TOLERANCE:
            notes.append(
                f"{name}: compiled probabilities differ from scikit-learn's by up to "
                f"{difference:.2g} on {len(rows):,} held-out rows (tolerance "
                f"{TOLERANCE:g}), so scikit-learn serves it"
            )
            continue
        compiled.append(
            CompiledMember(
                index, name, graph, hashlib.sha256(graph).hexdigest(), difference
            )
        )
    return CompiledModel(compiled, notes, len(rows))


def _convert(estimator: Any, n_features: int) -> bytes:
    """Return the ONNX graph of a fitted classifier taking float32 rows (probabilities out)."""
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    with warnings.catch_warnings():
        # skl2onnx 1.20's boosting converter writes booleans into int attributes,
        # which protobuf 6 accepts with this warning (7 refuses: setup.cfg pins <7).
        warnings.filterwarnings(
            "ignore", "Field onnx.AttributeProto", DeprecationWarning
        )
        graph = to_onnx(
            estimator,
            initial_types=[("rows", FloatTensorType([None, n_features]))],
            options={id(estimator): {"zipmap": False}},
        )
    return graph.SerializeToString()


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


def _runner(session: Any) -> Runner:
    """Return rows -> success probability through ``session``."""
    (feed,) = session.get_inputs()
    probabilities = session.get_outputs()[1].name

    def run(rows: np.ndarray) -> np.ndarray:
        out = session.run([probabilities], {feed.name: np.asarray(rows, np.float32)})
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
        return _runner(_session(member.onnx))
    except Exception as error:  # onnxruntime rejects the graph: sklearn serves
        raise CompiledRefused(
            f"onnxruntime cannot open the compiled {member.estimator}: "
            f"{type(error).__name__}: {str(error)[:160]}"
        ) from error
