"""The history of past loops that ``loopwise bench speed`` hands to strategies that read one (``auto``).

Built once per configuration, outside the timed call, as a run of
:class:`~loopwise.loop.Loop` would have left it before its loop ``HISTORY_LOOPS``:
loops ``0 .. HISTORY_LOOPS - 1`` each appended the pool's probabilities (so the
running metadata was fed that many times) and bought an equal share of the
pool's labelled rows, with their true labels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Loops of history before the timed selection (issue 9: "a history of 10 loops").
HISTORY_LOOPS = 10


def speed_history(X: np.ndarray, model: Any, y_labelled: np.ndarray, loops: int = HISTORY_LOOPS, chunk: int = 1 << 16) -> Any:
    """A :class:`~loopwise.strategies.History` of ``loops`` loops over the pool ``X`` (its last rows labelled).

    Loop ``t``'s probabilities are the fitted model's softmax at temperature
    ``loops / (t + 1)``, so the model sharpens as labels come in; loop 0 bought
    its labels at random (``initial``), the later ones as ``auto`` would.
    Labelled rows go to the loops in pool order, ``len(y_labelled) // loops``
    a loop (the remainder to loop 0).
    """
    from loopwise.strategies import History

    n, n_labelled = X.shape[0], y_labelled.shape[0]
    coef = np.asarray(model.coef_, dtype=np.float32).T
    intercept = np.asarray(model.intercept_, dtype=np.float32)
    if coef.shape[1] == 1:  # binary: the second class's logit against a zero one
        coef, intercept = np.hstack([np.zeros_like(coef), coef]), np.concatenate([[0.0], intercept]).astype(np.float32)
    logits = np.empty((n, coef.shape[1]), dtype=np.float32)
    for start in range(0, n, chunk):
        np.matmul(X[start : start + chunk], coef, out=logits[start : start + chunk])
    logits += intercept
    logits -= logits.max(axis=1, keepdims=True)
    history = History()
    per_loop = n_labelled // loops
    first = n_labelled - per_loop * (loops - 1)
    start = n - n_labelled
    for t in range(loops):
        proba = np.exp(logits * np.float32((t + 1) / loops))
        proba /= proba.sum(axis=1, keepdims=True)
        history.append(t, proba)
        size = first if t == 0 else per_loop
        positions = np.arange(start, start + size)
        history.add_labels(t, positions, y_labelled[positions - (n - n_labelled)], "initial:random" if t == 0 else "auto")
        start += size
    return history
