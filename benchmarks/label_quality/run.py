"""Label-quality benchmark (issue 12): audit under injected noise, consensus vs majority, auto-labelling at 0.98.

Run from the repository root (2 shared cores: nice it; it resumes from the cells already in --out):

    nice -n 10 .venv/bin/python benchmarks/label_quality/run.py --seeds 10 --out benchmarks/results/label_quality.json

Cells: for each dataset, seed and strategy (margin; ``auto`` with ``--strategies margin auto``), a perfect
oracle; for each noise rate, a noisy oracle and no audit, and with the audit (extra labels counted against
the budget on the cost axis). The audit of a text dataset ranks with logistic regression on the bundled
MiniLM sentence embeddings of the pool (``text`` extra), of a tabular one with the run's own learner.
Consensus: 3 annotators (0.9, 0.75, 0.6) and 5 (0.9, 0.8, 0.7, 0.6, 0.55) label the pool; majority vote,
Dawid-Skene and CROWDLAB against the truth. Auto-labelling: after the perfect-oracle run, a 0.98 target
calibrated on 200 fresh human labels of random pool records labels the rest of the pool.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from loopwise.core import Pool
from loopwise.evaluation import evaluate
from loopwise.experiments import PreparedData, prepare_data
from loopwise.experiments._config import DataSpec
from loopwise.labeling import (
    AnnotatorPanel,
    AutoLabeler,
    LabelAudit,
    NoisyOracle,
    SimulatedOracle,
    consensus,
    majority_vote,
    out_of_fold_proba,
    run_audited_simulation,
)
from loopwise.learners import as_learner, make_estimator
from loopwise.loop import FixedSchedule, Loop, run_simulation
from loopwise.strategies import make_strategy

SHARED = Path("/work/shared/datasets")
DATASETS = ["sms_spam", "trec", "ag_news", "letter", "adult", "optdigits"]
INITIAL, BATCH, BUDGET = 20, 20, 200
PANELS = {"3": (0.9, 0.75, 0.6), "5": (0.9, 0.8, 0.7, 0.6, 0.55)}


# The audit's settings (LabelAudit's keywords) for every audited cell; text datasets add their embeddings.
AUDIT: dict[str, Any] = {}  # LabelAudit's defaults: 3 fold draws, the model as tie-breaker, 2 flags in a row, 0.3 / n_classes
_EMBEDDINGS: dict[str, np.ndarray] = {}


def _loop(data: PreparedData, seed: int, strategy: str = "margin") -> Loop:
    learner = as_learner(make_estimator("logreg", seed=seed), data.n_classes)
    return Loop(
        Pool.new(data.pool_ids, data.X_pool),
        learner,
        make_strategy(strategy),
        FixedSchedule(initial_size=INITIAL, batch=BATCH, budget=BUDGET),
        seed=seed,
        X_test=data.X_test,
        y_test=data.y_test,
        evaluate=evaluate,
    )


def aulc_on_cost(costs: list[float], accuracies: list[float], start: int = INITIAL, budget: int = BUDGET) -> float:
    """Mean accuracy over label cost ``start..budget``: each cost gets the accuracy of the last loop paid by then."""
    grid = np.arange(start, budget + 1)
    idx = np.searchsorted(np.asarray(costs), grid, side="right") - 1
    acc = np.asarray(accuracies)[np.clip(idx, 0, None)]
    return float(np.where(idx >= 0, acc, accuracies[0]).mean())


def _curve(records: list[Any]) -> tuple[list[float], list[float]]:
    costs, accs, extra = [], [], 0
    for r in records:
        extra += int(r.extra.get("audit_extra_labels", 0))
        costs.append(float(r.n_labelled + extra))
        accs.append(float(r.metrics["accuracy"]))
    return costs, accs


def _audit_scores(audit: LabelAudit, y: np.ndarray) -> dict[str, Any]:
    """Audit precision and recall against the injected errors, per loop and over the run.

    A wrong label was *given the chance to check* when it sat, unchecked, in the labelled set of a loop whose
    audit could rank (``LabelAudit.log``); recall = those the audit checked / those given the chance (each
    counted once per run); precision = checked labels that were wrong / labels checked. Per loop: the wrong
    labels on the table (``wrong``), the labels checked (``flagged``) and the wrong ones among them (``hits``).
    """
    found: set[int] = set()
    chance: set[int] = set()
    n_flagged = n_hits = 0
    per_loop = []
    for loop_index, positions, before, suspects in audit.log:
        wrong = set(positions[before != y[positions]].tolist())
        flagged = set(suspects.tolist())
        hits = flagged & wrong
        chance |= wrong
        found |= hits
        n_flagged += len(flagged)
        n_hits += len(hits)
        per_loop.append({"loop": loop_index, "wrong": len(wrong), "flagged": len(flagged), "hits": len(hits)})
    return {
        "recall": len(found) / len(chance) if chance else None,
        "precision": n_hits / n_flagged if n_flagged else None,
        "n_wrong_seen": len(chance),
        "n_flagged": n_flagged,
        "per_loop": per_loop,
    }


def _audit_for(data: PreparedData, oracle: Any) -> LabelAudit:
    """The benchmark's audit: MiniLM embeddings + logistic regression on text, the run's learner on tabular data."""
    settings: dict[str, Any] = dict(AUDIT)
    if data.dataset.task == "text":
        name = data.dataset.name
        if name not in _EMBEDDINGS:
            from loopwise.learners._text import SentenceEmbedder

            texts = prepare_data(data.spec, "minilm").X_pool  # the same pool, as raw texts
            _EMBEDDINGS[name] = SentenceEmbedder().fit().transform(texts)
        settings["features"] = _EMBEDDINGS[name]
        # The classifier of the library's minilm learner (minilm_logistic_regression: C=10), on the same embeddings.
        settings["learner"] = as_learner(LogisticRegression(C=10.0, max_iter=1000, random_state=0), data.n_classes)
    return LabelAudit(oracle, **settings)


class KnownErrorsAudit:
    """The ceiling of any audit under this accounting: it knows the injected errors of each new batch and fixes
    each at the loop it was bought for exactly one extra label (no false alarms, no wrong second opinions)."""

    def __init__(self, y_true: np.ndarray) -> None:
        self.y_true = y_true

    def audit(self, loop: Any, query: Any, labels: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        """``LabelAudit.audit``'s contract: the corrected labels of ``query`` and the counts."""
        truth = self.y_true[query.positions]
        wrong = int((labels != truth).sum())
        return truth.copy(), {"audit_checked": wrong, "audit_relabelled": wrong, "audit_extra_labels": wrong, "audit_seconds": 0.0}


def loop_cell(data: PreparedData, seed: int, noise: float, audited: bool | str, strategy: str = "margin") -> dict[str, Any]:
    """One run of ``strategy``: perfect oracle (noise 0), noisy, or noisy and audited."""
    start = time.perf_counter()
    loop = _loop(data, seed, strategy)
    cell: dict[str, Any] = {}
    if noise == 0:
        records = run_simulation(loop, SimulatedOracle(data.y_pool))
        cell["autolabel"] = _autolabel(loop, data)
    else:
        oracle = NoisyOracle(data.y_pool, data.n_classes, noise, seed=seed)
        if audited == "known":
            records = run_audited_simulation(loop, oracle, KnownErrorsAudit(data.y_pool))  # type: ignore[arg-type]
            cell["extra_labels"] = int(sum(r.extra["audit_extra_labels"] for r in records))
        elif audited:
            audit = _audit_for(data, oracle)
            records = run_audited_simulation(loop, oracle, audit)
            cell["audit"] = _audit_scores(audit, data.y_pool)
            cell["extra_labels"] = int(sum(r.extra["audit_extra_labels"] for r in records))
            cell["audit_seconds"] = float(sum(r.extra["audit_seconds"] for r in records))
        else:
            records = run_simulation(loop, oracle)
        labelled = loop.pool.labelled_positions
        cell["wrong_labels_at_end"] = int((loop.pool.labels[labelled] != data.y_pool[labelled]).sum())
    costs, accs = _curve(records)
    cell.update(costs=costs, accuracy=accs, aulc=aulc_on_cost(costs, accs), seconds=time.perf_counter() - start)
    return cell


def _autolabel(loop: Loop, data: PreparedData, n_calibration: int = 200) -> dict[str, Any]:
    """After the run: calibrate a 0.98 target on a random slice of fresh human labels, auto-label the rest of the pool."""
    rest = loop.pool.unlabelled_positions
    rng = np.random.default_rng([loop.seed, 13])
    calibration = np.sort(rng.choice(rest, size=min(n_calibration, len(rest) // 2), replace=False))
    rest = np.setdiff1d(rest, calibration)
    assert loop.model is not None
    labeler = AutoLabeler(target=0.98)
    threshold = labeler.calibrate(loop.model.predict_proba(loop.pool.rows(calibration)), data.y_pool[calibration])
    auto = labeler.label(loop.model.predict_proba(loop.pool.rows(rest)), rest, model_version=f"loop-{loop.loop_index - 1}")
    right = auto.labels == data.y_pool[auto.positions]
    return {
        "threshold": threshold,
        "n_calibration": int(len(calibration)),
        "n_labelled": int(len(auto.labels)),
        "n_unlabelled": int(len(rest)),
        "precision": float(right.mean()) if len(right) else None,
    }


def consensus_cell(data: PreparedData, seed: int, panel: str, n_records: int = 1000) -> dict[str, Any]:
    """Majority vote, Dawid-Skene and CROWDLAB on a panel's labels of ``n_records`` pool records."""
    rng = np.random.default_rng([seed, 12])
    positions = np.sort(rng.choice(len(data.y_pool), size=min(n_records, len(data.y_pool)), replace=False))
    y = data.y_pool[positions]
    answers = AnnotatorPanel(data.y_pool, data.n_classes, PANELS[panel], seed=seed).answer(positions, 0)
    mv = majority_vote(answers, data.n_classes, seed=seed)
    learner = as_learner(make_estimator("logreg", seed=seed), data.n_classes)
    X = data.X_pool[positions]
    proba = out_of_fold_proba(learner, X, mv.labels, seed=seed)
    out: dict[str, Any] = {"true_accuracy": list(AnnotatorPanel(data.y_pool, data.n_classes, PANELS[panel]).accuracies)}
    results = {"majority": mv, "dawid_skene": consensus(answers, data.n_classes, "dawid_skene")}
    if proba is not None:
        results["crowdlab"] = consensus(answers, data.n_classes, "crowdlab", pred_probs=proba)
    for name, result in results.items():
        measured = [float((answers[answers[:, a] >= 0, a] == y[answers[:, a] >= 0]).mean()) for a in range(answers.shape[1])]
        true_order = list(np.argsort(-np.asarray(measured)))
        out[name] = {
            "accuracy": float((result.labels == y).mean()),
            "annotator_quality": [float(q) for q in result.annotator_quality],
            "ranking_correct": list(np.argsort(-result.annotator_quality)) == true_order,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=DATASETS)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--noise", nargs="*", type=float, default=[0.1, 0.3])
    parser.add_argument("--pool", type=int, default=2000)
    parser.add_argument("--test", type=int, default=1000)
    parser.add_argument("--parts", nargs="*", default=["loop", "consensus"])
    parser.add_argument("--panels", nargs="*", default=list(PANELS), choices=list(PANELS))
    parser.add_argument("--strategies", nargs="*", default=["margin"])
    parser.add_argument("--ceiling", action="store_true", help="also run KnownErrorsAudit, the best any audit could do under the accounting")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/label_quality.json"))
    args = parser.parse_args()
    results: dict[str, Any] = json.loads(args.out.read_text()) if args.out.exists() else {}
    results.setdefault(
        "protocol",
        {"initial": INITIAL, "batch": BATCH, "budget": BUDGET, "pool": args.pool, "test": args.test, "learner": "logreg",
         "audit": "LabelAudit defaults (n_repeats 3, resolve model, persist 2, self_confidence 0.3 / n_classes) " + json.dumps(AUDIT)
         + "; text datasets: logistic regression on MiniLM embeddings"},
    )
    cells = results.setdefault("cells", {})

    def save() -> None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1, default=float))

    for seed in range(args.seeds):  # seeds outermost: a partial run still covers every dataset
        for name in args.datasets:
            data = prepare_data(DataSpec(source=str(SHARED / name), max_pool=args.pool, max_test=args.test))
            todo: list[tuple[str, Any]] = []
            if "loop" in args.parts:
                for strategy in args.strategies:
                    prefix = f"{name}/{seed}/{strategy}"
                    todo.append((f"{prefix}/perfect", lambda strategy=strategy: loop_cell(data, seed, 0.0, False, strategy)))
                    for noise in args.noise:
                        todo.append((f"{prefix}/noise{noise}", lambda noise=noise, strategy=strategy: loop_cell(data, seed, noise, False, strategy)))
                        todo.append((f"{prefix}/noise{noise}+audit", lambda noise=noise, strategy=strategy: loop_cell(data, seed, noise, True, strategy)))
                        if args.ceiling:
                            todo.append((f"{prefix}/noise{noise}+known", lambda noise=noise, strategy=strategy: loop_cell(data, seed, noise, "known", strategy)))
            if "consensus" in args.parts:
                for panel in args.panels:
                    todo.append((f"{name}/{seed}/-/consensus{panel}", lambda panel=panel: consensus_cell(data, seed, panel)))
            for key, run in todo:
                if key in cells:
                    continue
                start = time.perf_counter()
                cells[key] = run()
                save()
                print(f"{key}: {time.perf_counter() - start:.1f} s", flush=True)


if __name__ == "__main__":
    main()
