"""``auto``: coverage first, uncertainty later, a bandit over arms, and a random-control slice that checks them.

What it does, each loop (a pure function of its inputs and the loop's ``rng``):

1. **Regime prior** (TypiClust, Hacohen et al. 2022; SelectAL, Hacohen & Weinshall 2023;
   Uncertainty Herding, Bae et al. 2025): while the labelled set holds fewer than
   ``coverage_per_class`` labels per class, or the model is barely more confident than
   uniform (:func:`confidence` of the candidates' probabilities below ``min_confidence``:
   TF-IDF logistic regression on ag_news stays near 0.1 for 200 labels, where margin
   loses 8 points to random), a weak model's uncertainty points at outliers and piles
   the batch into one class, so the arm is ``typiclust`` (the most typical record of
   each uncovered cluster). After that the arms compete.
2. **Bandit over arms** (ALBL, Hsu & Lin 2015): ``typiclust``, ``covered_margin`` (the
   most uncertain typical record of each least-covered cluster, :mod:`._auto_arms`),
   ``margin`` and ``random`` (``density_margin``, margin weighted by cosine density as in
   Settles & Craven 2008, on request). Each arm's value is the mean reward of the loops
   it was played in, shrunk to a prior worth ``PRIOR_WEIGHT`` loops (``covered_margin``
   first: plain uncertainty piles a batch into one confused region, often one class),
   plus a UCB bonus.
   The arm with the highest value buys the active part of the batch.
3. **Random-control slice**: ``max(1, floor(slice_fraction * batch))`` records of every
   batch of 2 or more are drawn uniformly from the candidates the active arm did not
   pick, and put first in the batch (so the slice of any past loop is recognisable from
   the stored selection order alone, and a resumed run sees what an uninterrupted one saw).

**The reward** of the batch bought at loop ``j`` is the paired log-likelihood gain on
held-out random records: for every slice record ``r`` labelled at a loop ``t > j``,
``log p_{j+1}(y_r | x_r) - log p_j(y_r | x_r)``, where ``p_j`` is the pool
probability matrix loop ``j`` selected with (the model trained before loop ``j``);
averaged over those records and divided by their mean log-loss under ``p_j`` (floored
at 0.01; the share of the held-out loss the batch removed, clipped to [-1, 1]). No test labels are used. Because
slice records are drawn uniformly from the unlabelled pool and were in neither
model's training set, the average is an unbiased estimate of the change in expected
log-likelihood over the records still unlabelled at ``t`` (biased only by excluding the
``batch - slice`` active picks of loop ``t``, a share ``batch / n_unlabelled`` of the pool).
The ratio of means is consistent but not unbiased, and the reward of an arm also
carries the time it was played: gains shrink as labels grow, so arms played early
look better; the UCB bonus and the random arm's exploration only partly offset
this. With one slice record a loop the reward is noisy; it becomes informative
after a few loops, which is why the regime prior decides the first ones.

**Active losing to random**: once ``random`` has been played and rewarded, the run
reports ``active_losing = True`` in loops where the mean reward of the active arms is
below random's (``active_vs_random`` gives the difference with a 90% interval; the
verdict is significant where its ``high`` is below 0); with ``fallback=True`` such a loop plays ``random``. The slice also
gives, every loop, the accuracy of the model of the previous loop on its own slice
(``slice_accuracy``, an unbiased estimate of that model's accuracy on the pool) and a
pooled estimate over the last three slices.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from loopwise.core.records import Selection
from loopwise.strategies._auto_arms import CoveredMargin
from loopwise.strategies._capabilities import Capabilities
from loopwise.strategies._base import FEATURES, HISTORY, PROBA, History, Strategy, StrategyInputs
from loopwise.strategies._density import InformationDensity
from loopwise.strategies._learned import LearnedSelector
from loopwise.strategies._learned_features import confidence
from loopwise.strategies._random import RandomSampling
from loopwise.strategies._typiclust import TypiClust
from loopwise.strategies._uncertainty import MarginSampling

ARMS = ("typiclust", "covered_margin", "margin", "random")
KNOWN_ARMS = (*ARMS, "density_margin", "learned")
#: Prior value of each arm, as a multiple of the mean observed reward: coverage-spread margin first
#: (the learned selector, where it is an arm, before it).
PRIORS = {"typiclust": 0.9, "covered_margin": 1.1, "density_margin": 1.0, "margin": 1.0, "random": 0.8, "learned": 1.2}
#: Weight of the prior, in loops of observed reward.
PRIOR_WEIGHT = 2.0
_EPS = 1e-6
_CLUSTER_POINTS = 5000


def _arm(name: str, learned_model: str | None = None) -> Strategy:
    # Clustering runs on a seeded subsample of at most 5,000 rows (k-means++ seeding is the cost on large pools).
    if name == "typiclust":
        return TypiClust(max_points=_CLUSTER_POINTS)
    if name == "covered_margin":
        return CoveredMargin(max_points=_CLUSTER_POINTS)
    if name == "density_margin":
        return InformationDensity(base="margin")
    if name == "margin":
        return MarginSampling()
    if name == "learned":
        return LearnedSelector(model=learned_model)
    return RandomSampling()


def slice_size(batch_size: int, slice_fraction: float) -> int:
    """Records of a batch of ``batch_size`` that go to the random-control slice."""
    if slice_fraction <= 0 or batch_size < 2:
        return 0
    return min(batch_size - 1, max(1, int(math.floor(slice_fraction * batch_size))))


def _every_unlabelled(n: int, taken: np.ndarray, max_rows: int) -> np.ndarray:
    """Every ``ceil(m / max_rows)``-th of the ``m`` positions in ``range(n)`` not in ``taken`` (sorted, unique).

    The ``i``-th free position is ``i`` plus the number of taken ones at or below it,
    found by a search over ``taken - arange``: no pass over the ``n`` positions.
    """
    m = n - len(taken)
    wanted = np.arange(0, m, max(1, -(-m // max_rows)), dtype=np.int64)
    return wanted + np.searchsorted(taken - np.arange(len(taken)), wanted, side="right")


class _Evidence:
    """What the labels bought so far say: per-loop rewards (by the time each was measurable) and slice accuracy."""

    def __init__(self, history: History | None, name: str, slice_fraction: float) -> None:
        self.loops = [] if history is None else list(history.labels_by_loop)
        self.auto_loops = [i for i, loop in enumerate(self.loops) if loop.strategy == name and loop.loop_index > 0]
        # Slice records: (loop index, pool positions, labels).
        self.slices: list[tuple[int, np.ndarray, np.ndarray]] = []
        for i in self.auto_loops:
            loop = self.loops[i]
            s = slice_size(len(loop.positions), slice_fraction)
            if s:
                self.slices.append((loop.loop_index, loop.positions[:s], loop.labels[:s]))
        self.history = history
        self._logp: dict[int, np.ndarray] = {}
        if self.slices:
            self.slice_loop = np.concatenate([np.full(len(p), t) for t, p, _ in self.slices])
            self.slice_pos = np.concatenate([p for _, p, _ in self.slices])
            self.slice_y = np.concatenate([y for _, _, y in self.slices])
        else:
            self.slice_loop = self.slice_pos = self.slice_y = np.empty(0, dtype=np.int64)

    def logp(self, loop_index: int) -> np.ndarray | None:
        """``log p(y_r)`` of every slice record under the probabilities loop ``loop_index`` selected with."""
        if loop_index not in self._logp:
            proba = None if self.history is None else self.history.proba_at(loop_index)
            if proba is None:
                return None
            p = np.asarray(proba[self.slice_pos, self.slice_y], dtype=np.float64)
            self._logp[loop_index] = np.log(np.clip(p, _EPS, 1.0))
        return self._logp[loop_index]

    def reward(self, loop_index: int, now: int) -> float | None:
        """Share of held-out log-loss removed by loop ``loop_index``'s batch, from slices labelled before ``now``."""
        held = (self.slice_loop > loop_index) & (self.slice_loop < now)
        if not held.any():
            return None
        before, after = self.logp(loop_index), self.logp(loop_index + 1)
        if before is None or after is None:
            return None
        loss = float(-before[held].mean())
        # A share of the loss: at most 1 removed; clipped at -1 too, so one confident miss cannot swamp the bandit.
        return float(np.clip(float((after[held] - before[held]).mean()) / max(loss, 0.01), -1.0, 1.0))

    def confidence(self, loop_index: int) -> float:
        """:func:`confidence` of the probabilities loop ``loop_index`` selected with, over the records unlabelled then."""
        proba = None if self.history is None else self.history.proba_at(loop_index)
        if proba is None:
            return 1.0
        bought = [loop.positions for loop in self.loops if loop.loop_index < loop_index]
        taken = np.unique(np.concatenate(bought)) if bought else np.empty(0, dtype=np.int64)
        return confidence(proba[_every_unlabelled(proba.shape[0], taken, 20000)])

    def slice_accuracy(self, now: int, last: int = 1) -> tuple[float | None, int]:
        """Accuracy on the slices of the ``last`` loops before ``now``, each under the model that chose it."""
        loops = sorted({int(t) for t in self.slice_loop if t < now})[-last:]
        hits, n = 0, 0
        for t in loops:
            proba = None if self.history is None else self.history.proba_at(t)
            if proba is None:
                continue
            rows = self.slice_loop == t
            hits += int((np.asarray(proba[self.slice_pos[rows]]).argmax(axis=1) == self.slice_y[rows]).sum())
            n += int(rows.sum())
        return (hits / n if n else None), n


class AutoStrategy(Strategy):
    """``auto``: coverage first, then a bandit over typiclust, coverage-spread margin, margin and random.

    See the module docstring for the reward, its bias and the random-control
    slice. ``coverage_per_class``: labels per class below which the arm is
    always ``typiclust``; ``slice_fraction``: share of each batch drawn at
    random as a control (0 turns it off, and with it the bandit's rewards);
    ``bandit=False`` keeps the regime prior alone; ``fallback=True`` plays
    ``random`` in loops where the active arms are estimated to lose to it.
    """

    name = "auto"
    capabilities = Capabilities()  # batch-aware: selects the batch as a whole, after loop 0
    requires = frozenset({PROBA, FEATURES, HISTORY})

    def __init__(
        self,
        slice_fraction: float = 0.05,
        coverage_per_class: float = 3.0,
        min_confidence: float = 0.3,
        arms: tuple[str, ...] = ARMS,
        bandit: bool = True,
        ucb: float = 0.5,
        fallback: bool = False,
        learned_model: str | None = None,
    ) -> None:
        if not 0 <= slice_fraction < 1:
            raise ValueError(f"slice_fraction must be in [0, 1), got {slice_fraction!r}")
        if not 0 <= min_confidence <= 1:
            raise ValueError(f"min_confidence must be in [0, 1], got {min_confidence!r}")
        if coverage_per_class < 0:
            raise ValueError(f"coverage_per_class must be >= 0, got {coverage_per_class!r}")
        unknown = [a for a in arms if a not in KNOWN_ARMS]
        if unknown or not arms:
            raise ValueError(f"arms must be a non-empty subset of {list(KNOWN_ARMS)}, got {list(arms)!r}")
        if ucb < 0:
            raise ValueError(f"ucb must be >= 0, got {ucb!r}")
        self.slice_fraction = slice_fraction
        self.coverage_per_class = coverage_per_class
        self.min_confidence = min_confidence
        self.arms = tuple(arms)
        self.bandit = bandit
        self.ucb = ucb
        self.fallback = fallback
        self.learned_model = learned_model
        if "learned" in self.arms:
            LearnedSelector(model=learned_model)  # a missing or stale model file fails here, not at loop 1

    # -- the decision ------------------------------------------------------------
    def _choose(
        self, n_labelled: int, n_classes: int, played: list[tuple[str, float]], confidence: float = 1.0
    ) -> tuple[str, str, dict[str, float]]:
        """The arm for one loop from the labels so far, the model's confidence and the (arm, reward) pairs measured by then."""
        values: dict[str, float] = {}
        if "typiclust" in self.arms and n_labelled < self.coverage_per_class * n_classes:
            return "typiclust", f"coverage: {n_labelled} labels < {self.coverage_per_class:g} per class", values
        if "typiclust" in self.arms and confidence < self.min_confidence:
            return "typiclust", f"coverage: model confidence {confidence:.3f} < {self.min_confidence:g}", values
        arms = list(self.arms) if self.bandit else [a for a in self.arms if a != "typiclust"] or list(self.arms)
        scale = float(np.mean([abs(r) for _, r in played])) if played else 1.0
        total = len(played)
        for arm in arms:
            rewards = [r for a, r in played if a == arm]
            prior = PRIORS[arm] * scale
            mean = (PRIOR_WEIGHT * prior + sum(rewards)) / (PRIOR_WEIGHT + len(rewards))
            bonus = self.ucb * scale * math.sqrt(math.log(1 + total) / (1 + len(rewards))) if self.bandit else 0.0
            values[arm] = mean + bonus
        if not self.bandit:
            best = max(arms, key=lambda a: (PRIORS[a], -arms.index(a)))
            return best, "prior: uncertainty phase", values
        if self.fallback and "random" in arms and self._losing(played):
            return "random", "fallback: active arms estimated to lose to random", values
        best = max(arms, key=lambda a: (values[a], -arms.index(a)))
        return best, f"bandit: highest value {values[best]:.4g}", values

    @staticmethod
    def _losing(played: list[tuple[str, float]]) -> bool | None:
        random_r = [r for a, r in played if a == "random"]
        active_r = [r for a, r in played if a != "random"]
        if not random_r or not active_r:
            return None
        return bool(np.mean(active_r) < np.mean(random_r))

    @staticmethod
    def _active_vs_random(played: list[tuple[str, float]]) -> dict[str, float | int | None] | None:
        """Mean reward of the active arms minus random's, with a 90% Welch interval (normal quantile).

        ``None`` until each side has a reward; the interval needs two of each (``low``/``high`` ``None`` before).
        Rewards of one run are not independent (later ones share slice records), so the interval is
        a guide, narrower than an exact one.
        """
        random_r = np.array([r for a, r in played if a == "random"], dtype=np.float64)
        active_r = np.array([r for a, r in played if a != "random"], dtype=np.float64)
        if not len(random_r) or not len(active_r):
            return None
        diff = float(active_r.mean() - random_r.mean())
        low = high = None
        if len(random_r) > 1 and len(active_r) > 1:
            half = 1.645 * math.sqrt(active_r.var(ddof=1) / len(active_r) + random_r.var(ddof=1) / len(random_r))
            low, high = round(diff - half, 6), round(diff + half, 6)
        return {"diff": round(diff, 6), "low": low, "high": high, "n_active": len(active_r), "n_random": len(random_r)}

    def _replay(self, evidence: _Evidence, n_classes: int, now: int) -> tuple[list[tuple[str, float]], list[str]]:
        """Rewards measurable at ``now``, with the arm each past auto loop played (re-derived, so nothing is stored)."""
        arms_by_loop: dict[int, str] = {}
        n_labelled = 0
        labelled_at: dict[int, int] = {}
        for loop in evidence.loops:
            labelled_at[loop.loop_index] = n_labelled
            n_labelled += len(loop.positions)
        for i in evidence.auto_loops:
            j = evidence.loops[i].loop_index
            played = [(arms_by_loop[t], r) for t in sorted(arms_by_loop) if (r := evidence.reward(t, j)) is not None]
            arms_by_loop[j] = self._choose(labelled_at[j], n_classes, played, evidence.confidence(j))[0]
        played = [(arms_by_loop[t], r) for t in sorted(arms_by_loop) if (r := evidence.reward(t, now)) is not None]
        return played, [arms_by_loop[t] for t in sorted(arms_by_loop)]

    # -- the selection -----------------------------------------------------------
    def select(self, inputs: StrategyInputs, batch_size: int, rng: np.random.Generator) -> Selection:
        proba = inputs.require("proba")
        history: History | None = inputs.history
        n = len(inputs.candidates)
        k = min(int(batch_size), n)
        n_classes = int(proba.shape[1])
        now = (history.labels_by_loop[-1].loop_index + 1) if history is not None and history.labels_by_loop else 1
        labelled = inputs.labelled_features
        n_labelled = int(labelled.shape[0]) if labelled is not None else sum(
            len(loop.positions) for loop in (history.labels_by_loop if history is not None else [])
        )
        evidence = _Evidence(history, self.name, self.slice_fraction)
        played, past_arms = self._replay(evidence, n_classes, now) if self.bandit else ([], [])
        conf = confidence(proba)
        arm, reason, values = self._choose(n_labelled, n_classes, played, conf)
        n_slice = slice_size(k, self.slice_fraction)
        active = _arm(arm, self.learned_model).select(inputs, k, rng)
        keep = np.asarray(active.positions[: k - n_slice], dtype=np.int64)
        free = np.ones(n, dtype=bool)
        free[keep] = False
        rest = np.flatnonzero(free)
        slice_ = np.sort(rng.choice(rest, size=n_slice, replace=False)) if n_slice else np.empty(0, dtype=np.int64)
        positions = np.concatenate([slice_, keep]).astype(np.int64)
        scores = np.concatenate([np.zeros(n_slice), np.asarray(active.scores[: k - n_slice], dtype=np.float64)])
        acc, acc_n = evidence.slice_accuracy(now)
        pooled, pooled_n = evidence.slice_accuracy(now, last=3)
        info: dict[str, Any] = {
            "arm": arm,
            "reason": reason,
            "values": {a: round(v, 6) for a, v in values.items()},
            "confidence": round(conf, 6),
            "n_slice": n_slice,
            "slice_accuracy": acc,
            "slice_n": acc_n,
            "slice_accuracy_last3": pooled,
            "slice_n_last3": pooled_n,
            "rewards_measured": len(played),
            "past_arms": past_arms,
            "active_losing": self._losing(played),
            "active_vs_random": self._active_vs_random(played),
        }
        if "model_version" in active.info:
            info["model_version"] = active.info["model_version"]
        return Selection(positions=positions, scores=scores, info=info)


class AutoLearned(AutoStrategy):
    """``auto`` with the learned selector (:class:`LearnedSelector`) as a fifth arm, played first after coverage."""

    name = "auto_learned"

    def __init__(self, slice_fraction: float = 0.05, learned_model: str | None = None, fallback: bool = False) -> None:
        super().__init__(slice_fraction, arms=(*ARMS, "learned"), fallback=fallback, learned_model=learned_model)


class AutoNoBandit(AutoStrategy):
    """Ablation of ``auto``: the regime prior alone (coverage, then ``covered_margin``), random slice kept."""

    name = "auto_no_bandit"

    def __init__(self, slice_fraction: float = 0.05, coverage_per_class: float = 3.0, min_confidence: float = 0.3) -> None:
        super().__init__(slice_fraction, coverage_per_class, min_confidence, bandit=False)


class AutoNoSlice(AutoStrategy):
    """Ablation of ``auto``: no random-control slice, hence no rewards: the bandit plays its priors."""

    name = "auto_no_slice"

    def __init__(self, coverage_per_class: float = 3.0, min_confidence: float = 0.3) -> None:
        super().__init__(0.0, coverage_per_class, min_confidence)
