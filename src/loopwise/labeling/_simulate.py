"""Simulated labelling for a run: a perfect, noisy or multi-annotator oracle and an optional audit, from one spec."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from loopwise.core.records import Query
from loopwise.errors import ConfigError
from loopwise.labeling._audit import LabelAudit, run_audited_simulation
from loopwise.labeling._consensus import CONSENSUS_METHODS, consensus
from loopwise.labeling._noisy import ABSTAIN, AnnotatorPanel, NoisyOracle
from loopwise.labeling._oracles import SimulatedOracle

QUALITY_KEYS = ("noise", "noise_kind", "annotators", "consensus", "audit")


class PanelOracle:
    """Several simulated annotators label each query; the training label is their consensus so far.

    Every answer is kept, so the consensus model (Dawid-Skene by default) and
    its annotator-quality estimates are refitted on all answers gathered in the
    run, not only on the current batch. ``answer`` (a second opinion for the
    audit) asks the panel's best-rated annotator.
    """

    def __init__(self, panel: AnnotatorPanel, method: str = "dawid_skene") -> None:
        if method not in ("majority", "dawid_skene"):
            raise ConfigError(f"a simulated panel's consensus must be 'majority' or 'dawid_skene'; got {method!r}")
        self.panel = panel
        self.method = method
        self.y_true = panel.y_true
        self._answers = np.full((len(panel.y_true), panel.n_annotators), ABSTAIN, dtype=np.int64)
        self.annotator_quality = np.full(panel.n_annotators, np.nan)

    def collect(self, query: Query) -> np.ndarray:
        """Consensus labels for ``query`` from all answers so far (an abstention by all falls back to a re-ask)."""
        answers = self.panel.answer(query.positions, query.loop_index)
        empty = (answers < 0).all(axis=1)
        attempt = 1
        while empty.any():  # nobody answered: ask those records again, independently
            answers[empty] = self.panel.answer(query.positions[empty], query.loop_index, attempt=attempt)
            empty = (answers < 0).all(axis=1)
            attempt += 1
        self._answers[query.positions] = answers
        asked = np.flatnonzero((self._answers >= 0).any(axis=1))
        result = consensus(self._answers[asked], self.panel.n_classes, self.method, seed=self.panel.seed)
        self.annotator_quality = result.annotator_quality
        label_of = dict(zip(asked.tolist(), result.labels.tolist(), strict=True))
        return np.asarray([label_of[int(p)] for p in query.positions], dtype=np.int64)

    def answer(self, positions: np.ndarray, loop_index: int, attempt: int = 0) -> np.ndarray:
        """A second opinion from the annotator the consensus rates best (the first when none is rated yet)."""
        quality = np.nan_to_num(self.annotator_quality, nan=-1.0)
        best = int(np.argmax(quality))
        labels = self.panel.answer(positions, loop_index, attempt=100 + 10 * attempt, annotators=[best])[:, best]
        retry = 1
        while (labels < 0).any():  # the annotator abstained: ask those records again, independently
            missing = labels < 0
            labels[missing] = self.panel.answer(positions[missing], loop_index, attempt=100 + 10 * attempt + retry, annotators=[best])[:, best]
            retry += 1
        return labels


def check_quality_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The label-quality settings of a run, checked once: noise rate, noise kind, annotators, consensus, audit."""
    unknown = sorted(set(spec) - set(QUALITY_KEYS))
    if unknown:
        raise ConfigError(f"unknown label-quality settings {unknown}; known: {', '.join(QUALITY_KEYS)}")
    noise = float(spec.get("noise", 0.0))
    if not 0.0 <= noise < 1.0:
        raise ConfigError(f"--noise must be a rate in [0, 1); got {noise}")
    annotators = [float(a) for a in spec.get("annotators") or []]
    if any(not 0.0 < a <= 1.0 for a in annotators):
        raise ConfigError(f"--annotators takes accuracies in (0, 1]; got {annotators}")
    if annotators and noise:
        raise ConfigError("give --noise (one noisy annotator) or --annotators (a panel), not both")
    method = spec.get("consensus", "dawid_skene")
    if method not in CONSENSUS_METHODS or method == "crowdlab":
        raise ConfigError(f"consensus for a simulated panel must be 'majority' or 'dawid_skene'; got {method!r}")
    kind = spec.get("noise_kind", "uniform")
    if kind not in ("uniform", "class_conditional"):
        raise ConfigError(f"noise kind must be 'uniform' or 'class_conditional'; got {kind!r}")
    return {"noise": noise, "noise_kind": kind, "annotators": annotators, "consensus": method, "audit": bool(spec.get("audit", False))}


def make_oracle(spec: dict[str, Any], y_true: np.ndarray, n_classes: int, seed: int) -> tuple[Any, LabelAudit | None]:
    """The run's oracle (perfect, noisy, or a panel with consensus) and its audit, if the spec asks for one."""
    spec = check_quality_spec(spec)
    oracle: Any
    if spec["annotators"]:
        panel = AnnotatorPanel(y_true, n_classes, spec["annotators"], seed=seed, kind=spec["noise_kind"])
        oracle = PanelOracle(panel, spec["consensus"])
    elif spec["noise"] or spec["audit"]:
        oracle = NoisyOracle(y_true, n_classes, spec["noise"], seed=seed, kind=spec["noise_kind"])
    else:
        oracle = SimulatedOracle(y_true)
    return oracle, (LabelAudit(oracle) if spec["audit"] else None)


def drive(loop: Any, oracle: Any, audit: LabelAudit | None, on_record: Callable[[Any], None] | None = None) -> Sequence[Any]:
    """Run ``loop`` to the end with ``oracle``, through the audit when there is one."""
    if audit is None:
        from loopwise.loop import run_simulation

        return run_simulation(loop, oracle, on_record=on_record)
    return run_audited_simulation(loop, oracle, audit, on_record=on_record)
