"""Cost-aware stopping without test labels: the next loop's gain bounded by the predictions it changes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from loopwise.core.records import LoopRecord
from loopwise.errors import ConfigError
from loopwise.stopping._cost_aware import PricedStop
from loopwise.stopping._criteria import _KINDS


def prediction_changes(records: Sequence[LoopRecord]) -> list[float]:
    """Per pair of successive loops, the share of the fixed stop set whose predicted class changed."""
    return [float(np.mean(np.asarray(a.stop_predictions) != np.asarray(b.stop_predictions)))
            for a, b in zip(records[:-1], records[1:], strict=True)]


def change_bound_gain(changes: Sequence[float], useful_share: float, window: int) -> float | None:
    """The next loop's accuracy gain, bounded from above by the predictions recent loops changed.

    A model can raise accuracy on the pool's distribution by at most the share of predictions it
    changes, and only the corrections among them count: the bound is ``useful_share`` times the
    largest change of the last ``window`` loops. The largest, not the mean, so that one quiet loop
    after busy ones does not end a run. ``None`` with fewer than ``window`` changes (no evidence yet).
    """
    if len(changes) < window:
        return None
    return useful_share * float(max(changes[-window:]))


class ChangeBoundStop(PricedStop):
    """Stop when the next loop's bounded accuracy gain is worth less than the next loop costs; no test labels.

    The gain is :func:`change_bound_gain` over the stop set's prediction changes (label-free: the
    stop set is unlabelled pool records), worth ``value_per_point`` for each accuracy point (0.01).
    The next loop costs a batch of the last loop's size at ``label_cost`` a label plus the last loop's
    CPU seconds at ``compute_rate`` per CPU hour, as for :class:`CostAwareStop`. Never stops before
    ``min_loops`` loops. ``useful_share`` is the part of changed predictions taken to be net corrections.
    The defaults (0.15, the last loop's change alone, from the second loop on) were chosen by a grid on
    five of the ten benchmark datasets with logreg, seeds 0-4 (``benchmarks/cost/stopping.py --tune``;
    docs/benchmarks.md, "Cost-aware stopping"). Where the test curve is at hand, :class:`CostAwareStop`
    fits it instead.
    """

    def __init__(self, value_per_point: float, label_cost: float = 1.0, compute_rate: float = 0.0,
                 useful_share: float = 0.15, window: int = 1, min_loops: int = 2) -> None:
        super().__init__(value_per_point, label_cost, compute_rate)
        if not (isinstance(useful_share, (int, float)) and 0.0 < useful_share <= 1.0):
            raise ConfigError(f"ChangeBoundStop: useful_share must be in (0, 1]; got {useful_share!r}")
        if not isinstance(window, int) or window < 1:
            raise ConfigError(f"ChangeBoundStop: window must be an integer >= 1; got {window!r}")
        if not isinstance(min_loops, int) or min_loops < window + 1:
            raise ConfigError(f"ChangeBoundStop: min_loops must be an integer >= window + 1 ({window + 1}); got {min_loops!r}")
        self.useful_share = float(useful_share)
        self.window = window
        self.min_loops = min_loops

    def _gain(self, records: Sequence[LoopRecord], batch: int) -> float | None:
        return change_bound_gain(prediction_changes(records), self.useful_share, self.window)


_KINDS["ChangeBoundStop"] = ChangeBoundStop
