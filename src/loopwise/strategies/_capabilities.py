"""What a strategy can do, declared on its class, so the loop, executors and server read data, never types or names."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Tasks a pool can be for are defined in loopwise.core.tasks; re-exported here for the strategies' declarations.
from loopwise.core.tasks import CLASSIFICATION as CLASSIFICATION
from loopwise.core.tasks import MULTILABEL as MULTILABEL
from loopwise.core.tasks import REGRESSION as REGRESSION
from loopwise.core.tasks import TASKS as TASKS
from loopwise.core.tasks import TOKEN_CLASSIFICATION as TOKEN_CLASSIFICATION
from loopwise.errors import ConfigError


# How an executor runs a strategy on partitions of the pool, with the local selection as result.
TOP_K = "top_k"  # score each partition where it lives, merge the partial top-k lists
K_CENTER = "k_center"  # the exact distributed greedy: each round, every partition reports its farthest row
PARTITIONINGS = frozenset({TOP_K, K_CENTER})

# Inputs that exist before any model does, so a strategy needing only these can choose loop 0.
MODEL_FREE_INPUTS = frozenset({"features"})


@dataclass(frozen=True)
class Capabilities:
    """A strategy's declaration of what it can do (``Strategy.capabilities``); the defaults claim nothing.

    ``row_local``: a record's score depends on that record's inputs alone, so
    the pool can be scored in chunks and the scores equal the whole's.
    ``ranks``: the selection is the top ``batch_size`` of :meth:`Strategy.score`,
    so a batch as large as the candidates is a ranking of all of them.
    ``partition``: how executors run it on partitions (``"top_k"`` or
    ``"k_center"``), ``None`` when they cannot. ``cold_start``: it selects
    with no labels and no model (loop 0) when its ``requires`` are model-free
    (features). ``tasks``: the pool tasks it serves. What it needs
    (probabilities, embeddings, a committee, Monte-Carlo samples, history)
    is its ``requires``.
    """

    row_local: bool = False
    ranks: bool = False
    partition: str | None = None
    cold_start: bool = False
    tasks: frozenset[str] = field(default_factory=lambda: frozenset({CLASSIFICATION}))

    def __post_init__(self) -> None:
        if self.partition is not None and self.partition not in PARTITIONINGS:
            raise ValueError(f"partition must be one of {sorted(PARTITIONINGS)} or None, got {self.partition!r}")
        unknown = set(self.tasks) - TASKS
        if unknown or not self.tasks:
            raise ValueError(f"tasks must be a non-empty subset of {sorted(TASKS)}, got {sorted(self.tasks)}")
        if self.partition == TOP_K and not (self.row_local and self.ranks):
            raise ValueError("partition='top_k' merges per-record scores: declare row_local=True and ranks=True too")


def capabilities(strategy: Any) -> Capabilities:
    """The declaration of a strategy instance or class."""
    caps = getattr(strategy, "capabilities", None)
    if not isinstance(caps, Capabilities):
        raise ConfigError(f"{strategy!r} declares no capabilities; give its class a `capabilities = Capabilities(...)`")
    return caps


def is_row_local(strategy: Any) -> bool:
    """True when ``strategy`` scores each record from that record's inputs alone (chunked scores equal the whole's)."""
    return capabilities(strategy).row_local


def ranks_candidates(strategy: Any) -> bool:
    """True when the strategy's selection is the top k of one score per candidate (a full batch ranks the pool)."""
    return capabilities(strategy).ranks


def serves_loop_zero(strategy: Any) -> bool:
    """True when the strategy can choose loop 0: it declares ``cold_start`` and needs nothing a model computes."""
    return capabilities(strategy).cold_start and set(strategy.requires) <= MODEL_FREE_INPUTS


def serves_task(strategy: Any, task: str) -> bool:
    """True when the strategy declares it serves pools of ``task``."""
    return task in capabilities(strategy).tasks


def describe(strategy: Any) -> dict[str, Any]:
    """The declaration and inputs of a strategy as plain data (for the CLI, the server's settings, the docs)."""
    caps = capabilities(strategy)
    return {
        "name": strategy.name,
        "requires": sorted(strategy.requires),
        "row_local": caps.row_local,
        "ranks": caps.ranks,
        "partition": caps.partition,
        "cold_start": caps.cold_start,
        "loop_zero": serves_loop_zero(strategy),
        "tasks": sorted(caps.tasks),
    }
