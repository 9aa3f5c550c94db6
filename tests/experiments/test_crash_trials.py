"""Crash trials: SIGKILL `loopwise simulate` at seeded random moments, then `resume`, many times.

After every kill: each committed loop is intact (arrays, metrics and model load) and equal to the
same loop of an uninterrupted run; `resume` ends with the uninterrupted run's selections, metrics
and arrays; nothing is stored twice; no process of the killed command is left behind.

The commands run in children forked from a multiprocessing fork server that has imported the
command line once, so a trial costs the run itself, not seconds of imports; each child is a real
process running the real `simulate` / `resume` commands, killed for real.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from loopwise.storage import Store
from tests.processes import live_processes

SEED = 20261201
N_KILLS = 20
MAX_TRIALS = 40
# 10 + 4 * 5 = 30 labels: loops 0 to 5. Short, so 20 trials fit in about a minute.
ARGS = ["--data", "breast_cancer", "--strategy", "margin", "--seeds", "1",
        "--initial", "10", "--batch", "4", "--budget", "30"]  # fmt: skip
N_LOOPS = 6
N_LABELS = 30
# Imported once in the fork server; what the commands would otherwise import in every child. The command
# line imports the engine only inside its commands, so the engine's layers (and their scikit-learn,
# SQLAlchemy, Alembic, pandas) are named here: seconds of imports per child otherwise.
PRELOAD = [
    "loopwise.cli.main", "typer._adapters", "sqlite3", "logging.config",
    "loopwise.experiments", "loopwise.storage", "loopwise.reports", "loopwise.strategies", "alembic.runtime.migration",
]
# A hung command is a failure, not a slow machine.
COMMAND_TIMEOUT_S = 300


def _cli_child(args: list[str], log: str) -> None:
    """Run one `loopwise` command in this (forked) process, in a process group of its own."""
    os.setpgid(0, 0)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    from loopwise.cli.main import app

    app(args, prog_name="loopwise")


@pytest.fixture(scope="module")
def commands() -> Iterator[multiprocessing.context.ForkServerContext]:
    """A fork server with the command line imported: children start in milliseconds."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    yield context


def _start(context: Any, args: list[str], log: Path) -> Any:
    process = context.Process(target=_cli_child, args=(args, str(log)), daemon=False)
    process.start()
    return process


def _run(context: Any, args: list[str], log: Path) -> int:
    process = _start(context, args, log)
    process.join(COMMAND_TIMEOUT_S)
    assert process.exitcode is not None, f"`loopwise {args[0]}` hung; see {log}"
    _assert_no_process_left(process.pid)
    return int(process.exitcode)


def _assert_no_process_left(pid: int) -> None:
    left = [member for member, _ in live_processes(group=pid)]
    assert left == [], f"processes {left} of the command (group {pid}) are still running"


@dataclass(frozen=True)
class Stored:
    """What a store holds for its single run."""

    run_id: str | None
    status: str | None
    loops: list[tuple[Any, ...]]
    counts: dict[str, int]


def _stored(db: Path) -> Stored:
    """Read the store back, loading every loop's arrays, metrics and model: each must be intact."""
    if not db.exists():
        return Stored(None, None, [], {})
    with Store.open(f"sqlite:///{db}") as store:
        runs = store.list_runs()
        assert len(runs) <= 1, f"one simulate made {len(runs)} runs"
        if not runs:
            return Stored(None, None, [], store.counts())
        (run,) = runs
        loops = []
        for loop in store.loops(run.id):
            arrays = store.load_arrays(loop.artifact_hash)
            assert set(arrays) >= {"positions", "labels", "scores"}, sorted(arrays)
            assert "accuracy" in loop.metrics, loop.metrics
            model = store.load_model(run.id, loop.loop_index)
            if model is not None:
                pickle.loads(model)
            loops.append(
                (loop.loop_index, tuple(loop.selected_ids), loop.n_labelled, loop.metrics, loop.artifact_hash)
            )
        return Stored(run.id, run.status, loops, store.counts())


def _assert_complete(stored: Stored, reference: Stored, where: str) -> None:
    assert stored.status == "finished", f"{where}: the run is {stored.status}"
    assert stored.loops == reference.loops, f"{where}: loops differ from the uninterrupted run"
    # Nothing twice: one row per loop, one label per selected record, as in the uninterrupted run.
    assert stored.counts == reference.counts, f"{where}: {stored.counts} != {reference.counts}"


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume(commands: Any, tmp_path: Path) -> None:
    started = time.monotonic()
    # The first child starts the fork server (seconds of imports): not part of a run's length.
    assert _run(commands, ["--help"], tmp_path / "help.log") == 0
    reference_db = tmp_path / "reference.db"
    begun = time.monotonic()
    assert _run(commands, ["simulate", *ARGS, "--db", f"sqlite:///{reference_db}"], tmp_path / "ref.log") == 0
    length = time.monotonic() - begun
    reference = _stored(reference_db)
    assert len(reference.loops) == N_LOOPS and reference.counts["labels"] == N_LABELS

    rng = np.random.default_rng(SEED)
    kills: list[int] = []  # committed loops at each kill: -1 when no run existed yet
    for trial in range(MAX_TRIALS):
        if len(kills) == N_KILLS:
            break
        db = tmp_path / f"trial-{trial}.db"
        where = f"trial {trial} (see {tmp_path})"
        # Moments over the whole run as last measured: data loading, store creation, loops, commits.
        moment = float(rng.uniform(0.0, 0.95 * length))
        begun = time.monotonic()
        process = _start(commands, ["simulate", *ARGS, "--db", f"sqlite:///{db}"], tmp_path / f"sim-{trial}.log")
        process.join(moment)
        if process.exitcode is None:
            try:
                os.kill(process.pid, signal.SIGKILL)
            except ProcessLookupError:  # it ended between the look and the kill
                pass
            process.join(COMMAND_TIMEOUT_S)
        if process.exitcode == 0:
            # It finished first (the machine got faster): the run must be whole anyway, and later
            # moments are drawn over the run's new length.
            length = time.monotonic() - begun
            _assert_complete(_stored(db), reference, where)
            _assert_no_process_left(process.pid)
            continue
        assert process.exitcode == -signal.SIGKILL, f"{where}: exit code {process.exitcode}"
        _assert_no_process_left(process.pid)

        partial = _stored(db)
        # Every loop committed before the kill is the uninterrupted run's loop, bit for bit.
        assert partial.loops == reference.loops[: len(partial.loops)], f"{where}: a committed loop differs"
        kills.append(len(partial.loops) if partial.run_id is not None else -1)
        if partial.run_id is None:
            # Killed before the run existed: there is nothing to resume; the user runs it again.
            command = ["simulate", *ARGS, "--db", f"sqlite:///{db}"]
        elif partial.status == "finished":
            _assert_complete(partial, reference, where)
            continue
        else:
            command = ["resume", partial.run_id, "--db", f"sqlite:///{db}"]
        begun = time.monotonic()
        code = _run(commands, command, tmp_path / f"resume-{trial}.log")
        if command[0] == "simulate":
            # A whole run again: the latest measure of its length, as the machine's load changes.
            length = time.monotonic() - begun
        assert code == 0, f"{where}: `loopwise {command[0]}` exited {code}: {(tmp_path / f'resume-{trial}.log').read_text()[-2000:]}"
        after = _stored(db)
        if partial.run_id is not None:
            assert after.run_id == partial.run_id, f"{where}: resume made a new run"
        _assert_complete(after, reference, where)

    assert len(kills) == N_KILLS, f"only {len(kills)} of {MAX_TRIALS} runs could be killed before they ended"
    print(
        f"crash trials: {len(kills)} kills in {time.monotonic() - started:.1f} s (run length {length:.2f} s); "
        f"committed loops at each kill: {kills}"
    )
