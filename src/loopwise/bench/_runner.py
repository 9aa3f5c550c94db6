"""Run the cells of a plan in parallel worker processes, skipping finished ones, saving each as it ends."""

from __future__ import annotations

import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from loopwise.bench._cells import Cell, run_cell
from loopwise.bench._plan import QualityPlan
from loopwise.bench._store import ResultStore
from loopwise.bench.peers import peer_versions


@dataclass
class CellEvent:
    """What the caller hears about each cell as it ends: its result, or the error it raised."""

    cell: Cell
    result: dict[str, Any] | None
    error: str | None


@dataclass
class RunOutcome:
    """How many cells ran, how many were already finished, and the failures (cell, traceback)."""

    ran: int = 0
    already_done: int = 0
    failed: list[tuple[Cell, str]] = field(default_factory=list)
    merged: list[Path] = field(default_factory=list)


def versions() -> dict[str, str | None]:
    """Versions of loopwise, the numeric stack and the peers, recorded with the results."""
    out: dict[str, str | None] = {}
    for dist in ("loopwise", "numpy", "scipy", "scikit-learn"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = None
    return {**out, **peer_versions()}


def pending(plan: QualityPlan, store: ResultStore) -> tuple[list[Cell], int]:
    """Cells of ``plan`` not yet finished in ``store``, and how many are."""
    finished = {p.dataset: store.finished(p) for p in plan.protocols}
    todo = [c for c in plan.cells() if (c.strategy, c.seed) not in finished[c.dataset]]
    return todo, len(plan.cells()) - len(todo)


def _safe_run(cell: Cell) -> tuple[Cell, dict[str, Any] | None, dict[str, Any] | None, str | None]:
    # A failing cell must not end the run: report it, keep going, and retry it next time.
    try:
        result, data = run_cell(cell)
        return cell, result, data, None
    except Exception:  # noqa: BLE001 - any peer error is reported with its traceback
        return cell, None, None, traceback.format_exc()


def _results(todo: list[Cell], n_jobs: int) -> Iterator[tuple[Cell, dict[str, Any] | None, dict[str, Any] | None, str | None]]:
    if n_jobs == 1:
        return (_safe_run(cell) for cell in todo)
    from joblib import Parallel, delayed

    # Unordered: a slow cell does not hold back saving the ones finished after it.
    parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered", batch_size=1, pre_dispatch="2*n_jobs")
    return parallel(delayed(_safe_run)(cell) for cell in todo)  # type: ignore[no-any-return]


def run_quality(
    plan: QualityPlan,
    results: str | Path,
    *,
    n_jobs: int = 1,
    on_start: Callable[[int, int], None] | None = None,
    on_cell: Callable[[CellEvent], None] | None = None,
) -> RunOutcome:
    """Run every unfinished cell of ``plan``, saving each to ``results`` as soon as it ends.

    ``n_jobs`` worker processes (joblib/loky) run cells; only this process
    writes files. A dataset's cells are merged into ``<dataset>.json`` once
    all of them are done, and whatever is finished is merged when the run
    ends or is interrupted, so a killed run resumes where it stopped.
    ``on_start(n_to_run, n_already_done)`` and ``on_cell(event)`` feed a
    progress display.
    """
    store = ResultStore(results)
    todo, done = pending(plan, store)
    outcome = RunOutcome(already_done=done)
    if on_start is not None:
        on_start(len(todo), done)
    left = Counter(cell.dataset for cell in todo)
    by_name = {p.dataset: p for p in plan.protocols}
    recorded = versions()
    try:
        for cell, result, data, error in _results(todo, n_jobs):
            left[cell.dataset] -= 1
            if error is not None or result is None or data is None:
                outcome.failed.append((cell, error or "no result"))
                _log_failure(store.root, cell, error or "no result")
            else:
                store.write_cell(result, cell.protocol, data)
                outcome.ran += 1
            if on_cell is not None:
                on_cell(CellEvent(cell, result, error))
            if left[cell.dataset] == 0:
                path = store.merge(by_name[cell.dataset], recorded)
                if path is not None:
                    outcome.merged.append(path)
    finally:
        for protocol in plan.protocols:
            path = store.merge(protocol, recorded)
            if path is not None and path not in outcome.merged:
                outcome.merged.append(path)
    return outcome


def _log_failure(root: Path, cell: Cell, error: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "failures.log", "a", encoding="utf-8") as handle:
        handle.write(f"== {cell.dataset} {cell.strategy} seed {cell.seed}\n{error}\n")
