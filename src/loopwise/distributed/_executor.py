"""Executors: run INFER and SELECT on partitions of the pool (in process, or on Ray) and merge exactly."""

from __future__ import annotations

import abc
import os
from dataclasses import dataclass
from collections.abc import Sequence
from typing import Any

import numpy as np

from loopwise.core.records import Selection
from loopwise.core.topk import merge_top_k
from loopwise.errors import ConfigError
from loopwise.strategies import K_CENTER, PROBA, TOP_K, Strategy, capabilities, registered_classes
from loopwise.distributed._partition import Partition

EXECUTORS = ("local", "ray")


def _kind(strategy: Strategy) -> str:
    """How a strategy runs on partitions, as its class declares; refuses the ones whose result would not equal the local one."""
    kind = capabilities(strategy).partition
    # A merged top-k needs only what a partition computes from the model where it lives: probabilities.
    if kind == TOP_K and set(strategy.requires) <= {PROBA}:
        return kind
    if kind == K_CENTER:
        return kind
    runs = sorted(cls.name for cls in registered_classes() if cls.capabilities.partition is not None)
    raise ConfigError(
        f"strategy {strategy.name!r} cannot run on partitions (its class declares no partitioning); "
        f"distributed executors run {', '.join(runs)}"
    )


def _bounds(n: int, n_partitions: int) -> list[tuple[int, int]]:
    """Contiguous, nearly equal row ranges (never an empty one unless the pool is smaller)."""
    n_partitions = max(1, min(int(n_partitions), max(1, n)))
    edges = np.linspace(0, n, n_partitions + 1).round().astype(np.int64)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]


class Executor(abc.ABC):
    """Runs one loop's INFER and SELECT over partitions of the pool; the result equals the local selection.

    What runs is what the strategy's class declares (``capabilities.partition``).
    ``"top_k"`` strategies (least confidence, margin, entropy) score each
    partition where it lives and send back only the rows that can reach the
    global top k (ties at the partition's k-th score included); the driver
    merges them with the same tie-breaking keys as ``top_k``. ``"k_center"``
    strategies run an exact distributed greedy: every round each partition
    reports its farthest row, the driver picks the global farthest and
    broadcasts it. Any other strategy is refused with the list of those that run.
    """

    n_partitions: int

    @abc.abstractmethod
    def _partitions(self, X: Any) -> list[tuple[int, int]]:
        """Place the pool's rows (once per pool) and return each partition's row range."""

    @abc.abstractmethod
    def _map(self, method: str, args: Sequence[tuple[Any, ...]]) -> list[Any]:
        """Call ``Partition.method(*args[i])`` on partition ``i`` for every partition, in parallel where possible."""

    def _share(self, value: Any) -> Any:
        """Make a large argument available to every partition once (Ray: one object in the store)."""
        return value

    def propose(
        self,
        strategy: Strategy,
        model: Any,
        X: Any,
        candidates: np.ndarray,
        labelled: np.ndarray,
        batch_size: int,
        rng: np.random.Generator,
        *,
        with_proba: bool = True,
    ) -> tuple[Selection, np.ndarray | None]:
        """The loop's INFER + SELECT: positions into ``candidates`` (as ``Strategy.select``) and the pool's probabilities.

        ``candidates`` are the unlabelled pool positions (increasing) and
        ``labelled`` the labelled ones in the order they were labelled, as
        :class:`~loopwise.core.Pool` gives them. The probabilities (for the
        loop's history) are gathered only when ``with_proba``.
        """
        kind = _kind(strategy)
        candidates = np.asarray(candidates, dtype=np.int64)
        labelled = np.asarray(labelled, dtype=np.int64)
        bounds = self._partitions(X)
        local = [candidates[(candidates >= a) & (candidates < b)] - a for a, b in bounds]
        offsets = np.searchsorted(candidates, [a for a, _ in bounds]).tolist()
        shared = self._share(model)
        if kind == TOP_K:
            k = min(int(batch_size), candidates.size)
            parts = self._map("score_top_k", [(strategy, shared, loc, off, k, with_proba) for loc, off in zip(local, offsets)])
            positions, scores = merge_top_k([(s, i) for s, i, _ in parts], candidates.size, k, rng)
            proba = np.concatenate([p for _, _, p in parts]) if with_proba else None
            return Selection(positions=positions, scores=np.asarray(scores, dtype=np.float64)), proba
        selection = self._kcenter(strategy, shared, bounds, local, offsets, labelled, candidates.size, batch_size, rng)
        proba = np.concatenate(self._map("proba", [(shared,)] * len(bounds))) if with_proba else None
        return selection, proba

    def _kcenter(
        self,
        strategy: Strategy,
        model: Any,
        bounds: list[tuple[int, int]],
        local: list[np.ndarray],
        offsets: list[int],
        labelled: np.ndarray,
        n: int,
        batch_size: int,
        rng: np.random.Generator,
    ) -> Selection:
        # A k_center strategy names its space (use), its geometry (unit_length: kcenter_normalized) and chunk size.
        use = str(getattr(strategy, "use", "features"))
        unit = bool(getattr(strategy, "unit_length", False))
        chunk_size = getattr(strategy, "chunk_size", None)
        self._map("kcenter_start", [(model, use, loc, chunk_size, unit) for loc in local])
        # The labelled rows, gathered where they live and put back in labelling order (their order picks the probes).
        holder = np.searchsorted([b for _, b in bounds], labelled, side="right")
        pieces = self._map("kcenter_rows", [(model, use, labelled[holder == p] - a, unit) for p, (a, _) in enumerate(bounds)])
        rows = np.empty((labelled.size, pieces[0].shape[1] if pieces else 0), dtype=np.float32)
        for p, piece in enumerate(pieces):
            rows[holder == p] = piece
        self._map("kcenter_labelled", [(self._share(rows),)] * len(bounds))
        k = max(0, min(int(batch_size), n))
        positions = np.empty(k, dtype=np.int64)
        radii = np.empty(k, dtype=np.float64)
        starts = np.asarray(offsets, dtype=np.int64)
        everyone = list(range(len(bounds)))

        def step(centre: np.ndarray | None, owner: int, row: int) -> list[Any]:
            """Every partition learns the last centre (its owner takes the row) and reports its farthest row."""
            return self._map("kcenter_step", [(centre, row if p == owner else -1) for p in everyone])

        replies: list[Any] | None = None
        for t in range(k):
            if t == 0 and labelled.size == 0:
                # A cold start: the first centre is drawn, as in the local greedy.
                c = int(rng.integers(n))
                owner = int(np.searchsorted(starts, c, side="right")) - 1
                row = c - int(starts[owner])
                replies = step(self._map_one(owner, "kcenter_row", (row,)), owner, row)
                positions[0] = c
                radii[0] = np.sqrt(max(max(v for v, _, _ in replies), 0.0))
                continue
            if replies is None:
                replies = step(None, -1, -1)
            values = np.array([v for v, _, _ in replies], dtype=np.float64)
            best = float(values.max())
            # The global farthest; equal distances go to the lowest candidate index, as np.argmax does.
            owner = int(np.flatnonzero(values == best)[0])
            _, row, centre = replies[owner]
            positions[t] = int(starts[owner]) + row
            radii[t] = np.sqrt(max(best, 0.0))
            if t + 1 < k:
                replies = step(centre, owner, row)
        return Selection(positions=positions, scores=radii)

    def _map_one(self, partition: int, method: str, args: tuple[Any, ...]) -> Any:
        return self._map_subset([partition], method, [args])[0]

    def _map_subset(self, partitions: list[int], method: str, args: Sequence[tuple[Any, ...]]) -> list[Any]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the partitions (a later call places the pool again)."""


class LocalExecutor(Executor):
    """Partitions in this process, one after the other: the reference for the Ray executor, and a test bed."""

    def __init__(self, n_partitions: int = 2) -> None:
        if n_partitions < 1:
            raise ConfigError(f"n_partitions must be a positive integer, got {n_partitions!r}")
        self.n_partitions = int(n_partitions)
        self._key: tuple[int, tuple[int, ...]] | None = None
        self._parts: list[Partition] = []
        self._ranges: list[tuple[int, int]] = []

    def _partitions(self, X: Any) -> list[tuple[int, int]]:
        key = (id(X), tuple(X.shape))
        if key != self._key:
            self._ranges = _bounds(int(X.shape[0]), self.n_partitions)
            self._parts = [Partition(X[a:b], a) for a, b in self._ranges]
            self._key = key
        return self._ranges

    def _map(self, method: str, args: Sequence[tuple[Any, ...]]) -> list[Any]:
        return [getattr(part, method)(*a) for part, a in zip(self._parts, args)]

    def _map_subset(self, partitions: list[int], method: str, args: Sequence[tuple[Any, ...]]) -> list[Any]:
        return [getattr(self._parts[p], method)(*a) for p, a in zip(partitions, args)]

    def close(self) -> None:
        self._key, self._parts, self._ranges = None, [], []


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError("executor='ray' needs Ray, which is not installed: pip install loopwise[ray]") from None
    return ray


class RayExecutor(Executor):
    """Partitions held by Ray actors, one per partition, spread over the cluster's nodes.

    ``address`` is passed to ``ray.init`` when Ray is not initialised yet
    (``None``: start or join the local instance; ``"auto"`` or
    ``"ray://head:10001"``: a running cluster). ``n_partitions`` defaults to
    the cluster's CPUs. The pool's rows are put in Ray's object store once
    and stay with their actor for every later loop; each loop ships only the
    model, the candidate positions and, back, the partial results.
    A pool that is a ``np.memmap`` (``np.load(path, mmap_mode="r")``) is
    not read by the driver at all: each actor maps its own rows of the file
    (see :class:`FileRows`), which is how a pool larger than the driver's
    memory is placed. ``num_cpus`` is the CPUs each actor reserves (default: the cluster's
    CPUs shared among the partitions, at most one each), so any number of
    partitions can be placed.
    """

    def __init__(
        self,
        n_partitions: int | None = None,
        *,
        address: str | None = None,
        num_cpus: float | None = None,
        init_kwargs: dict[str, Any] | None = None,
    ) -> None:
        if n_partitions is not None and n_partitions < 1:
            raise ConfigError(f"n_partitions must be a positive integer, got {n_partitions!r}")
        self._ray = _import_ray()
        self.address = address
        self.num_cpus = num_cpus
        self.init_kwargs = dict(init_kwargs or {})
        self._requested = n_partitions
        self.n_partitions = n_partitions or 0
        self._key: tuple[int, tuple[int, ...]] | None = None
        self._actors: list[Any] = []
        self._ranges: list[tuple[int, int]] = []
        self._actor_cls: Any = None

    def _init(self) -> None:
        ray = self._ray
        if not ray.is_initialized():
            kwargs = {"include_dashboard": False, "log_to_driver": False, **self.init_kwargs}
            ray.init(address=self.address, **kwargs)
        cpus = float(ray.cluster_resources().get("CPU", os.cpu_count() or 1))
        if not self.n_partitions:
            self.n_partitions = max(1, int(cpus // (self.num_cpus or 1)))
        if self._actor_cls is None:
            per_actor = self.num_cpus if self.num_cpus is not None else min(1.0, cpus / self.n_partitions)
            self._actor_cls = ray.remote(num_cpus=per_actor)(_PartitionActor)

    def _partitions(self, X: Any) -> list[tuple[int, int]]:
        key = (id(X), tuple(X.shape))
        if key != self._key:
            self._init()
            self.close()
            self._ranges = _bounds(int(X.shape[0]), self.n_partitions)
            ray = self._ray
            self._actors = [self._actor_cls.remote(_placed(X, a, b, ray), a) for a, b in self._ranges]
            self._key = key
        return self._ranges

    def _share(self, value: Any) -> Any:
        return self._ray.put(value)

    def _map(self, method: str, args: Sequence[tuple[Any, ...]]) -> list[Any]:
        return self._map_subset(list(range(len(self._actors))), method, args)

    def _map_subset(self, partitions: list[int], method: str, args: Sequence[tuple[Any, ...]]) -> list[Any]:
        calls = [self._actors[p].call.remote(method, *a) for p, a in zip(partitions, args)]
        return list(self._ray.get(calls))

    def close(self) -> None:
        for actor in self._actors:
            self._ray.kill(actor)
        self._key, self._actors, self._ranges = None, [], []


@dataclass(frozen=True)
class FileRows:
    """Rows ``start:stop`` of a NumPy memory-mapped file, opened by the actor on its own node.

    The driver never reads them: on a cluster the file must sit on storage
    every node mounts at the same path (NFS, a parallel file system, a
    cloud disk); each actor maps only its own rows.
    """

    filename: str
    dtype: str
    shape: tuple[int, ...]
    offset: int
    order: str
    start: int
    stop: int

    def open(self) -> np.ndarray:
        whole = np.memmap(self.filename, dtype=np.dtype(self.dtype), mode="r", offset=self.offset, shape=self.shape, order=self.order)  # type: ignore[call-overload]
        return np.asarray(whole[self.start : self.stop])


def _placed(X: Any, start: int, stop: int, ray: Any) -> Any:
    """What an actor receives for rows ``start:stop``: a file reference for a memory-mapped pool, else the rows in Ray's store."""
    if isinstance(X, np.memmap) and getattr(X, "filename", None) and X.ndim == 2:
        base = X
        while isinstance(base.base, np.memmap):
            base = base.base
        if base is X or (base.shape == X.shape and base.offset == X.offset):
            order = "F" if X.flags.f_contiguous and not X.flags.c_contiguous else "C"
            return FileRows(str(X.filename), X.dtype.str, tuple(X.shape), int(X.offset), order, start, stop)
    return ray.put(X[start:stop])


class _PartitionActor:
    """The Ray actor around a :class:`Partition`; arguments that are object refs are fetched on arrival."""

    def __init__(self, X: Any, start: int) -> None:
        self.part = Partition(X.open() if isinstance(X, FileRows) else X, start)

    def call(self, method: str, *args: Any) -> Any:
        return getattr(self.part, method)(*args)


def make_executor(executor: str | Executor, **kwargs: Any) -> Executor:
    """``"local"``, ``"ray"`` or an :class:`Executor` (returned as is); keyword arguments go to the constructor."""
    if isinstance(executor, Executor):
        return executor
    if executor == "local":
        return LocalExecutor(**kwargs)
    if executor == "ray":
        return RayExecutor(**kwargs)
    raise ConfigError(f"executor must be one of {', '.join(EXECUTORS)} or an Executor, got {executor!r}")


def select(
    strategy: Strategy | str,
    X: Any,
    model: Any,
    batch_size: int,
    rng: np.random.Generator,
    *,
    candidates: np.ndarray | None = None,
    labelled: np.ndarray | None = None,
    executor: str | Executor = "ray",
    **executor_kwargs: Any,
) -> Selection:
    """One selection from pool ``X`` with a fitted ``model``, INFER and scoring on partitions.

    ``candidates`` default to every row and ``labelled`` to none. The
    result (positions into ``candidates``) equals ``strategy.select`` on the
    whole pool with the same ``rng``.
    """
    if isinstance(strategy, str):
        from loopwise.strategies import make_strategy

        strategy = make_strategy(strategy)
    n = int(X.shape[0])
    cands = np.arange(n) if candidates is None else np.asarray(candidates, dtype=np.int64)
    lab = np.empty(0, dtype=np.int64) if labelled is None else np.asarray(labelled, dtype=np.int64)
    runner = make_executor(executor, **executor_kwargs)
    return runner.propose(strategy, model, X, cands, lab, batch_size, rng, with_proba=False)[0]

