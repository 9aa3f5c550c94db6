"""The strategy contract: what a strategy needs, what it receives, what it returns."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from loopwise.core.records import Selection
from loopwise.core.tokens import TokenMarginals
from loopwise.core.topk import top_k
from loopwise.strategies._capabilities import CLASSIFICATION, Capabilities
from loopwise.strategies._metadata import RecordMetadata

# What a strategy may ask the loop to compute; the loop computes exactly these.
PROBA = "proba"
FEATURES = "features"
EMBEDDINGS = "embeddings"
COMMITTEE = "committee"
HISTORY = "history"
MC_SAMPLES = "mc_samples"
TOKEN_MARGINALS = "token_marginals"  # per-token tag probabilities of each sentence (token classification)
LABELS = "labels"  # the labelled records' labels and model outputs (label-set and target-space strategies)
KNOWN_REQUIREMENTS = frozenset({PROBA, FEATURES, EMBEDDINGS, COMMITTEE, HISTORY, MC_SAMPLES, TOKEN_MARGINALS, LABELS})


class History:
    """Per-record time series of past loops: their probabilities, the labels they bought, running metadata.

    ``proba_by_loop[i]`` is the ``n_pool x k`` matrix (float32) that loop
    ``loop_indices[i]`` saw when it selected. Multi-generation and learned
    strategies read it through :meth:`for_positions`. ``keep_loops`` bounds
    how many of those matrices are kept (``None``: all, the default); the
    running per-record features in :attr:`metadata` (margin, entropy, their
    trend, prediction flips, forgetting events) cover every loop whatever is
    kept. :meth:`add_labels` logs what each loop bought (positions in
    selection order, labels, the strategy's name), so a strategy can score
    its own past picks; the loop calls it on record and on restore, so a
    resumed run holds exactly what an uninterrupted one did.
    """

    def __init__(self, keep_loops: int | None = None, task: str = CLASSIFICATION) -> None:
        if keep_loops is not None and keep_loops < 1:
            raise ValueError(f"keep_loops must be a positive integer or None, got {keep_loops!r}")
        self.keep_loops = keep_loops
        # The running metadata (margins, flips, forgetting) is about one class a record: other tasks keep none.
        self.task = task
        self.loop_indices: list[int] = []
        self.proba_by_loop: list[np.ndarray] = []
        self.labels_by_loop: list[LabelledLoop] = []
        self.metadata = RecordMetadata()
        self._n_appended = 0

    def __len__(self) -> int:
        return len(self.loop_indices)

    @property
    def n_loops_seen(self) -> int:
        """Loops appended in all, kept or not."""
        return self._n_appended

    def append(self, loop_index: int, pool_proba: np.ndarray) -> None:
        if self.task == CLASSIFICATION:
            self.metadata.update(pool_proba)  # first: it checks the shape, so a bad matrix leaves the history unchanged
        self.loop_indices.append(loop_index)
        self.proba_by_loop.append(pool_proba)
        self._n_appended += 1
        if self.keep_loops is not None and len(self.proba_by_loop) > self.keep_loops:
            del self.loop_indices[0], self.proba_by_loop[0]

    def add_labels(self, loop_index: int, positions: np.ndarray, labels: np.ndarray, strategy: str = "") -> None:
        """Log the labels one loop bought (pool positions in selection order)."""
        positions = np.asarray(positions, dtype=np.int64)
        if self.task != CLASSIFICATION:
            self.labels_by_loop.append(LabelledLoop(loop_index, strategy, positions, np.asarray(labels)))
            return
        labels = np.asarray(labels, dtype=np.int64)
        self.labels_by_loop.append(LabelledLoop(loop_index, strategy, positions, labels))
        self.metadata.add_labels(positions, labels, loop_index)

    def proba_at(self, loop_index: int) -> np.ndarray | None:
        """The pool probabilities loop ``loop_index`` selected with, if kept."""
        for index, proba in zip(reversed(self.loop_indices), reversed(self.proba_by_loop), strict=True):
            if index == loop_index:
                return proba
        return None

    def for_positions(self, positions: np.ndarray) -> np.ndarray:
        """Return an ``n_loops x len(positions) x k`` array of past probabilities."""
        if not self.proba_by_loop:
            return np.empty((0, len(positions), 0), dtype=np.float32)
        return np.stack([p[positions] for p in self.proba_by_loop])


@dataclass(frozen=True)
class LabelledLoop:
    """What one loop bought: pool positions in selection order, their labels, the strategy that chose them."""

    loop_index: int
    strategy: str
    positions: np.ndarray
    labels: np.ndarray


@dataclass(frozen=True)
class StrategyInputs:
    """What the loop computed for one selection; fields a strategy did not ask for are ``None``.

    Arrays are aligned with ``candidates`` (positions of unlabelled records in
    the pool). ``committee`` is ``n_members x n_candidates x k``;
    ``mc_samples`` is ``n_samples x n_candidates x k`` (Monte-Carlo draws of
    the predictive distribution). ``token_marginals`` holds, for sentence
    pools, the per-token tag probabilities of each candidate sentence
    (:class:`loopwise.core.tokens.TokenMarginals`). ``labelled_features`` and
    ``labelled_embeddings`` are the rows of the labelled records, given with
    ``features`` and ``embeddings`` respectively; ``labelled_labels`` and
    ``labelled_proba`` (the labelled records' labels and the current model's
    output for them) come with the ``labels`` requirement.

    ``proba`` is the model's output in the form of the pool's task: class
    probabilities (``n x k``, classification), label marginals ``P(label j)``
    (``n x L``, multilabel), or the predictive mean and standard deviation
    (``n x 2``, regression).
    """

    candidates: np.ndarray
    proba: np.ndarray | None = None
    features: Any = None
    embeddings: np.ndarray | None = None
    committee: np.ndarray | None = None
    history: History | None = None
    labelled_embeddings: np.ndarray | None = None
    mc_samples: np.ndarray | None = None
    labelled_features: Any = None
    token_marginals: TokenMarginals | None = None
    labelled_labels: np.ndarray | None = None
    labelled_proba: np.ndarray | None = None

    def require(self, name: str) -> Any:
        value = getattr(self, name)
        if value is None:
            raise ValueError(f"strategy input {name!r} was not computed; declare it in `requires`")
        return value


class Strategy(abc.ABC):
    """A querying strategy: turns model outputs into the next batch of positions.

    Subclasses declare ``requires`` (what the loop computes for them) and
    ``capabilities`` (what they can do: row-local scores, partitions, loop 0,
    tasks; see :class:`Capabilities`), and implement :meth:`score` (higher
    means more worth labelling) or override :meth:`select` for batch-aware
    methods. Strategies never call the model and never mutate their inputs.
    """

    name: ClassVar[str]
    requires: ClassVar[frozenset[str]] = frozenset({PROBA})
    # Claims nothing: a strategy that does not declare is scored whole, in process, after loop 0.
    capabilities: ClassVar[Capabilities] = Capabilities()

    def score(self, inputs: StrategyInputs) -> np.ndarray:
        raise NotImplementedError

    def select(self, inputs: StrategyInputs, batch_size: int, rng: np.random.Generator) -> Selection:
        scores = np.asarray(self.score(inputs), dtype=np.float64)
        positions = top_k(scores, batch_size, rng)
        return Selection(positions=positions, scores=scores[positions])

    def get_params(self) -> dict[str, Any]:
        """Constructor arguments, stored unchanged (as in scikit-learn) so runs can be replayed."""
        return {k: v for k, v in vars(self).items() if not k.endswith("_")}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"


def score_in_chunks(fn: Any, array: np.ndarray, chunk_size: int | None) -> np.ndarray:
    """Apply a row-wise scoring function chunk by chunk; equals ``fn(array)``."""
    n = array.shape[0]
    if chunk_size is None or chunk_size >= n:
        return np.asarray(fn(array))
    return np.concatenate([fn(array[i : i + chunk_size]) for i in range(0, n, chunk_size)])
