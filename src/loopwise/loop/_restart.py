"""A loop 0 that can be undone: several candidate starts run for a few loops, the most promising is kept."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from loopwise.errors import ConfigError
from loopwise.loop._initial import Initializer
from loopwise.loop._loop import Loop


def held_out_accuracy(loop: Loop, positions: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy of ``loop``'s current model on labelled records it never trained on (no test labels needed)."""
    assert loop.model is not None
    if len(positions) == 0:
        return float("nan")
    predicted = loop.model.predict_proba(loop.pool.rows(positions)).argmax(axis=1)
    return float(np.mean(predicted == labels))


def _advance(loop: Loop, oracle: Any, n_loops: int) -> None:
    while loop.loop_index < n_loops and not loop.should_stop():
        loop.record(oracle.collect(loop.propose()))


def choose_start(
    make_loop: Callable[[Initializer], Loop],
    oracle: Any,
    candidates: Mapping[str, Initializer],
    n_loops: int = 2,
    min_gain: float = 0.0,
) -> tuple[Loop, dict[str, Any]]:
    """Run each candidate loop-0 sample (random, diverse, TypiClust, ...) for ``n_loops`` loops and keep one.

    Each candidate's model is scored on the records the *other* candidates labelled and it did not
    (held-out records with true labels, so the criterion needs no test set). A start is *stalled*
    when that accuracy is no better, by ``min_gain``, than always answering the most frequent class
    of its own labels (a model that learned nothing but its label prior); the best candidate that is not stalled is
    kept. When every candidate stalled, the run restarts: each candidate runs ``n_loops`` more loops
    and they are scored again, once; if all are still stalled the best is kept and the choice says so.
    Returns the kept loop, ready to continue, and the choice (also in its loop-0 record's
    ``extra["start"]``); the labels the other candidates bought are counted there, since they were paid for.
    """
    if len(candidates) < 2:
        raise ConfigError(f"choose_start needs at least two candidate starts; got {list(candidates)}")
    if isinstance(n_loops, bool) or not isinstance(n_loops, int) or n_loops < 1:
        raise ConfigError(f"choose_start: n_loops must be a positive integer; got {n_loops!r}")
    loops = {name: make_loop(init) for name, init in candidates.items()}
    scores: dict[str, dict[str, Any]] = {}
    for attempt, horizon in enumerate((n_loops, 2 * n_loops)):
        for loop in loops.values():
            _advance(loop, oracle, horizon)
        scores = _score(loops, min_gain)
        if not all(s["stalled"] for s in scores.values()):
            break
    restarted = attempt == 1
    live = [n for n in loops if not scores[n]["stalled"]] or list(loops)
    kept = max(live, key=lambda n: (scores[n]["held_out_accuracy"], -list(loops).index(n)))
    others = [n for n in loops if n != kept]
    why = (f"{kept}'s model was right on {scores[kept]['held_out_accuracy']:.1%} of the "
           f"{scores[kept]['n_held_out']} records the other starts labelled, the best of "
           + ", ".join(f"{n} {scores[n]['held_out_accuracy']:.1%}" for n in others))
    if restarted:
        why += ("; every start stalled after the first loops, so each ran " + str(n_loops) + " more"
                + ("" if not scores[kept]["stalled"] else ", and all were still stalled"))
    choice = {
        "kept": kept, "why": why, "restarted": restarted, "n_loops": loops[kept].loop_index, "candidates": scores,
        "labels_spent_on_other_starts": int(sum(loops[n].pool.n_labelled for n in others)),
    }
    loops[kept].records[0].extra["start"] = choice
    return loops[kept], choice


def _score(loops: Mapping[str, Loop], min_gain: float) -> dict[str, dict[str, Any]]:
    """Each candidate's accuracy on the others' labels, against answering its own most frequent label."""
    scores = {}
    for name, loop in loops.items():
        mine = np.zeros(len(loop.pool), dtype=bool)
        mine[loop.pool.labelled_positions] = True
        positions, labels = [], []
        for other, their in loops.items():
            if other == name:
                continue
            pos = their.pool.labelled_positions
            pos = pos[~mine[pos]]
            positions.append(pos)
            labels.append(their.pool.labels[pos])
        pos_all = np.unique(np.concatenate(positions))
        first = {int(p): int(lab) for pos, lab in zip(positions, labels, strict=True) for p, lab in zip(pos, lab, strict=True)}
        y = np.asarray([first[int(p)] for p in pos_all], dtype=np.int64)
        accuracy = held_out_accuracy(loop, pos_all, y)
        own = np.bincount(loop.pool.labels[loop.pool.labelled_positions]).argmax()
        majority = float(np.mean(y == own)) if len(y) else 1.0
        scores[name] = {"held_out_accuracy": accuracy, "n_held_out": int(len(y)), "prior_only_accuracy": majority,
                        "stalled": not accuracy > majority + min_gain}
    return scores
