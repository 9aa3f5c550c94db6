"""Test-then-train over a stream, chunk by chunk, with randomness derived per chunk from the run seed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sklearn

from loopwise.stream._budget import BudgetManager
from loopwise.stream._learner import IncrementalLearner
from loopwise.stream._prequential import Prequential

# Purpose key of the stream's generators, apart from the pool loop's keys (loop_rng in loop/_loop.py).
_STREAM = 7
# Rows predicted at once while the model stays the same (it changes only when a label is asked).
_BLOCK = 64


def chunk_rng(seed: int, chunk_index: int) -> np.random.Generator:
    """The generator of one chunk, from the run seed alone, so a resumed run draws what an uninterrupted one would."""
    return np.random.default_rng([seed, _STREAM, chunk_index])


@dataclass
class StreamState:
    """Everything a stream run carries from one chunk to the next (pickled with each chunk to resume)."""

    learner: IncrementalLearner
    manager: BudgetManager
    prequential: Prequential
    n_seen: int = 0
    n_labelled: int = 0
    chunks_done: int = 0


@dataclass
class ChunkOutcome:
    """What one chunk produced: positions asked (within the chunk), predictions, and the figures after it."""

    asked: np.ndarray
    predictions: np.ndarray
    metrics: dict[str, Any] = field(default_factory=dict)


def run_chunk(state: StreamState, X: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> ChunkOutcome:
    """Predict each record, then let the manager decide to ask for its label; learn the labels asked."""
    # One record at a time, scikit-learn's input checks cost more than the learning; the inputs are ours.
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        return _run_chunk(state, np.asarray(X, dtype=np.float64), np.asarray(y), rng)


def _run_chunk(state: StreamState, X: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> ChunkOutcome:
    n = len(X)
    predictions = np.zeros(n, dtype=np.int64)
    asked: list[int] = []
    pos = 0
    while pos < n:
        end = min(pos + _BLOCK, n)
        proba = state.learner.proba(X[pos:end])
        predictions[pos:end] = proba.argmax(axis=1)
        hit = next((pos + k for k in range(end - pos) if state.manager.ask(proba[k], rng)), None)
        if hit is None:
            state.learner.see(X[pos:end])
            pos = end
            continue
        state.learner.see(X[pos : hit + 1])
        state.learner.learn(X[hit], int(y[hit]))
        asked.append(hit)
        pos = hit + 1
    state.prequential.update(predictions == y)
    state.n_seen += n
    state.n_labelled += len(asked)
    state.chunks_done += 1
    metrics = {
        "accuracy": state.prequential.accuracy,
        "window_accuracy": state.prequential.window_accuracy,
        "chunk_accuracy": float(np.mean(predictions == y)) if n else 0.0,
        "n_seen": state.n_seen,
        "labels_spent": state.n_labelled,
        "label_rate": state.n_labelled / state.n_seen if state.n_seen else 0.0,
    }
    return ChunkOutcome(np.asarray(asked, dtype=np.int64), predictions, metrics)


def simulate_stream(
    X: np.ndarray,
    y: np.ndarray,
    state: StreamState,
    seed: int,
    chunk: int = 1000,
) -> list[dict[str, Any]]:
    """Run a whole stream from ``state`` (chunk after chunk) and return the figures after each chunk."""
    curve = []
    for index, start in enumerate(range(state.chunks_done * chunk, len(X), chunk), start=state.chunks_done):
        outcome = run_chunk(state, X[start : start + chunk], y[start : start + chunk], chunk_rng(seed, index))
        curve.append(outcome.metrics)
    return curve
