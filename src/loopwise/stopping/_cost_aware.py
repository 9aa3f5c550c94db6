"""Cost-aware stopping from a fitted learning curve, and small-text's uncertainty, change and delta-F rules."""

from __future__ import annotations

import abc
import math
import warnings
from collections.abc import Sequence

import numpy as np

from loopwise.core.records import LoopRecord
from loopwise.errors import ConfigError
from loopwise.stopping._criteria import _KINDS, StoppingCriterion

#: Steps whose CPU seconds a loop pays for (the ledger's; EVALUATE is bookkeeping).
_COMPUTE_STEPS = ("train", "infer", "select")


#: The noise floor of a fitted learning curve: residuals beyond about one accuracy point count as outliers.
NOISE_FLOOR = 0.01


def fit_power_law(n_labelled: Sequence[float], scores: Sequence[float],
                  noise: float = NOISE_FLOOR) -> tuple[float, float, float] | None:
    """Fit ``score(n) = a - b * n ** -c`` (inverse power law; Figueroa et al. 2012) by robust least squares.

    The loss is soft-L1 with scale ``noise`` (quadratic within the noise floor, linear beyond): one loop
    that jumps ten points (a rare class found at last) bends a plain least-squares fit, and with it
    every marginal gain read from the curve, far more than it bends this one.

    Returns ``(a, b, c)`` with ``c > 0``, or ``None`` with fewer than four points or when
    the fit does not converge. ``a`` is the asymptote the curve is heading for.
    """
    from scipy.optimize import curve_fit

    x = np.asarray(n_labelled, dtype=np.float64)
    y = np.asarray(scores, dtype=np.float64)
    keep = np.isfinite(x) & np.isfinite(y) & (x > 0)
    x, y = x[keep], y[keep]
    if x.size < 4:
        return None

    def curve(n: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
        return a - b * n ** (-c)

    start = (float(y.max()), max(float(y.max() - y.min()), 1e-3) * float(x.min()) ** 0.5, 0.5)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            params, _ = curve_fit(curve, x, y, p0=start, bounds=([-1.0, -10.0, 1e-3], [2.0, 1e6, 3.0]), maxfev=5000,
                                  loss="soft_l1", f_scale=float(noise))
    except (RuntimeError, ValueError):
        return None
    a, b, c = (float(v) for v in params)
    return (a, b, c) if all(math.isfinite(v) for v in (a, b, c)) else None


def predicted_gain(n_labelled: Sequence[float], scores: Sequence[float], next_n: float) -> float | None:
    """The fitted curve's gain from the last ``n_labelled`` to ``next_n`` labels (``None`` if no fit)."""
    params = fit_power_law(n_labelled, scores)
    if params is None:
        return None
    a, b, c = params
    last = float(n_labelled[-1])
    return float((a - b * next_n ** (-c)) - (a - b * last ** (-c)))


def label_only_accuracy(record: LoopRecord) -> float | None:
    """Accuracy of the previous loop's model on this loop's newly bought labels: a signal with no test set.

    The probabilities INFER gave the batch (``pool_proba``) came from the model before these labels
    existed, so agreement with the labels is a held-out estimate (biased low for uncertainty picks).
    """
    if record.pool_proba is None or len(record.positions) == 0:
        return None
    predicted = np.asarray(record.pool_proba)[record.positions].argmax(axis=1)
    return float(np.mean(predicted == record.labels))


def loop_compute_seconds(record: LoopRecord) -> float:
    """CPU seconds of one loop's TRAIN, INFER and SELECT, as the loop recorded them."""
    return float(sum(float(record.timings.get(f"{step}_cpu", 0.0)) for step in _COMPUTE_STEPS))


def _curve(records: Sequence[LoopRecord], metric: str, signal: str) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for record in records:
        if signal == "test":
            value = record.metrics.get(metric)
            value = None if value is None else float(value)
        else:
            value = label_only_accuracy(record)
        if value is not None and math.isfinite(value):
            xs.append(float(record.n_labelled))
            ys.append(value)
    if signal == "labels" and len(ys) >= 3:
        # One batch is a noisy estimate: smooth over a window of three loops before fitting.
        ys = list(np.convolve(ys, np.ones(3) / 3, mode="valid"))
        xs = xs[2:]
    return xs, ys


class PricedStop(StoppingCriterion):
    """Stop when the next loop's estimated accuracy gain is worth less than the next loop costs.

    Subclasses estimate the gain (:meth:`_gain`); the prices are shared: each accuracy point (0.01)
    is worth ``value_per_point``, and the next loop costs a batch of the last loop's size at
    ``label_cost`` a label plus the last loop's CPU seconds at ``compute_rate`` per CPU hour.
    """

    min_loops: int

    def __init__(self, value_per_point: float, label_cost: float, compute_rate: float) -> None:
        for name, value in (("value_per_point", value_per_point), ("label_cost", label_cost), ("compute_rate", compute_rate)):
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ConfigError(f"{type(self).__name__}: {name} must be a finite number >= 0; got {value!r}")
        self.value_per_point = float(value_per_point)
        self.label_cost = float(label_cost)
        self.compute_rate = float(compute_rate)

    @abc.abstractmethod
    def _gain(self, records: Sequence[LoopRecord], batch: int) -> float | None:
        """The next loop's accuracy gain from one more batch of ``batch`` labels; ``None``: no estimate yet."""

    def next_loop(self, records: Sequence[LoopRecord]) -> dict[str, float] | None:
        """The estimate behind the decision: ``gain`` (accuracy), its ``value`` and the next loop's ``cost``."""
        if len(records) < max(self.min_loops, 2):
            return None
        batch = records[-1].n_labelled - records[-2].n_labelled
        if batch <= 0:
            return None
        gain = self._gain(records, batch)
        if gain is None:
            return None
        cost = batch * self.label_cost + loop_compute_seconds(records[-1]) / 3600.0 * self.compute_rate
        return {"gain": gain, "value": gain * 100.0 * self.value_per_point, "cost": cost, "batch": float(batch)}

    def should_stop(self, records: Sequence[LoopRecord]) -> bool:
        estimate = self.next_loop(records)
        return estimate is not None and estimate["value"] < estimate["cost"]


class CostAwareStop(PricedStop):
    """Stop when the next loop's expected accuracy gain is worth less than the next loop costs.

    The gain comes from an inverse power law fitted to the learning curve so far (``signal="test"``:
    the test metric; ``signal="labels"``: :func:`label_only_accuracy`, for runs without test labels),
    extrapolated by one batch of the size of the last loop. It is worth ``value_per_point`` for each
    accuracy point (0.01). The next loop costs that batch at ``label_cost`` a label plus the last
    loop's CPU seconds at ``compute_rate`` per CPU hour. Waits ``min_loops`` loops before fitting,
    and never stops while the curve has risen less than ``min_rise`` above its first loop: a start
    stuck near chance is flat within its noise without having converged (logreg on ag_news sat at
    0.25 for five loops, then rose to 0.72; the fit of those five loops said "stop").
    """

    def __init__(self, value_per_point: float, label_cost: float = 1.0, compute_rate: float = 0.0,
                 metric: str = "accuracy", signal: str = "test", min_loops: int = 5, min_rise: float = 0.05) -> None:
        super().__init__(value_per_point, label_cost, compute_rate)
        if signal not in ("test", "labels"):
            raise ConfigError(f"CostAwareStop: signal must be 'test' or 'labels'; got {signal!r}")
        if not isinstance(min_loops, int) or min_loops < 4:
            raise ConfigError(f"CostAwareStop: min_loops must be an integer >= 4 (a power law needs four points); got {min_loops!r}")
        self.metric = metric
        self.signal = signal
        if not (isinstance(min_rise, (int, float)) and math.isfinite(min_rise) and min_rise >= 0):
            raise ConfigError(f"CostAwareStop: min_rise must be a finite number >= 0; got {min_rise!r}")
        self.min_loops = min_loops
        self.min_rise = float(min_rise)

    def _gain(self, records: Sequence[LoopRecord], batch: int) -> float | None:
        xs, ys = _curve(records, self.metric, self.signal)
        if len(ys) < 2 or max(ys) - ys[0] < self.min_rise:
            return None
        return predicted_gain(xs, ys, xs[-1] + batch)


def hindsight_best_loop(records: Sequence[LoopRecord], value_per_point: float, label_cost: float = 1.0,
                        compute_rate: float = 0.0, metric: str = "accuracy") -> int:
    """The loop index a hindsight oracle would stop after: most value of accuracy minus everything spent."""
    spent = 0.0
    best, best_net = 0, -math.inf
    previous = 0
    for i, record in enumerate(records):
        spent += (record.n_labelled - previous) * label_cost + loop_compute_seconds(record) / 3600.0 * compute_rate
        previous = record.n_labelled
        net = float(record.metrics[metric]) * 100.0 * value_per_point - spent
        if net > best_net:
            best, best_net = i, net
    return best


def hindsight_stop_loop(records: Sequence[LoopRecord], value_per_point: float, label_cost: float = 1.0,
                        compute_rate: float = 0.0, metric: str = "accuracy") -> int:
    """The loop a hindsight oracle stops after: the first whose next loop's gain is worth less than that loop costs.

    The gain is read from the whole test curve, smoothed by the inverse power law fitted to every
    loop (one loop's raw difference is mostly noise at these batch sizes), at the same value per
    point and prices as :class:`CostAwareStop`, which sees only the loops so far. The last loop when
    every loop paid; :func:`hindsight_best_loop` when the curve cannot be fitted.
    """
    xs = [float(r.n_labelled) for r in records]
    params = fit_power_law(xs, [float(r.metrics[metric]) for r in records])
    if params is None:
        return hindsight_best_loop(records, value_per_point, label_cost, compute_rate, metric)
    a, b, c = params
    for k in range(len(records) - 1):
        gain = b * (xs[k] ** (-c) - xs[k + 1] ** (-c))
        cost = (xs[k + 1] - xs[k]) * label_cost + loop_compute_seconds(records[k + 1]) / 3600.0 * compute_rate
        if gain * 100.0 * value_per_point < cost:
            return k
    return len(records) - 1


class OverallUncertainty(StoppingCriterion):
    """Stop when the mean uncertainty (1 - max probability) over the unlabelled pool falls below ``threshold``.

    Zhu, Wang & Hovy 2008 ("overall uncertainty"); read from the probabilities INFER recorded.
    """

    def __init__(self, threshold: float = 0.05) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ConfigError(f"OverallUncertainty: threshold must be in [0, 1]; got {threshold!r}")
        self.threshold = threshold

    def should_stop(self, records: Sequence[LoopRecord]) -> bool:
        if not records or records[-1].pool_proba is None:
            return False
        proba = np.asarray(records[-1].pool_proba)
        labelled = np.zeros(len(proba), dtype=bool)
        for record in records[:-1]:
            labelled[record.positions] = True
        unlabelled = proba[~labelled]
        return unlabelled.size > 0 and float(np.mean(1.0 - unlabelled.max(axis=1))) < self.threshold


class ClassificationChange(StoppingCriterion):
    """Stop when at most ``threshold`` of the stop set changed predicted class since the last loop.

    Zhu, Wang & Hovy 2008 ("classification change"); ``threshold=0`` asks for no change at all.
    """

    def __init__(self, threshold: float = 0.0) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ConfigError(f"ClassificationChange: threshold must be in [0, 1]; got {threshold!r}")
        self.threshold = threshold

    def should_stop(self, records: Sequence[LoopRecord]) -> bool:
        if len(records) < 2:
            return False
        before, after = records[-2].stop_predictions, records[-1].stop_predictions
        return float(np.mean(before != after)) <= self.threshold


def agreement_f1(before: np.ndarray, after: np.ndarray) -> float:
    """Macro F1 of ``after`` scored against ``before`` over the classes either predicts (1.0 when identical)."""
    before = np.asarray(before, dtype=np.int64)
    after = np.asarray(after, dtype=np.int64)
    scores = []
    for c in np.union1d(before, after):
        tp = float(np.sum((before == c) & (after == c)))
        denom = float(np.sum(before == c) + np.sum(after == c))
        scores.append(2.0 * tp / denom if denom else 1.0)
    return float(np.mean(scores)) if scores else 1.0


class DeltaF(StoppingCriterion):
    """Stop when successive models agree: 1 - F1(previous, current) on the stop set is below ``threshold``
    for ``window`` successive pairs (Altschuler & Bloodgood 2019, "stopping active learning based on predicted change of F measure").
    """

    def __init__(self, threshold: float = 0.005, window: int = 3) -> None:
        if not 0.0 <= threshold <= 1.0 or window < 1:
            raise ConfigError(f"DeltaF: need threshold in [0, 1] and window >= 1; got {threshold!r} and {window!r}")
        self.threshold = threshold
        self.window = window

    def should_stop(self, records: Sequence[LoopRecord]) -> bool:
        if len(records) < self.window + 1:
            return False
        recent = records[-(self.window + 1):]
        deltas = [1.0 - agreement_f1(a.stop_predictions, b.stop_predictions) for a, b in zip(recent[:-1], recent[1:], strict=True)]
        return max(deltas) < self.threshold


_KINDS.update({c.__name__: c for c in (CostAwareStop, OverallUncertainty, ClassificationChange, DeltaF)})
