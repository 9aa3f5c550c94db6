"""Resume after SIGKILL gives exactly the loops of an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from loopwise.storage import Store

# 10 + 4 * 30 = 130 labels: 31 loops, long enough to be killed in the middle.
ARGS = ["--data", "breast_cancer", "--strategy", "margin", "--seeds", "1", "--initial", "10", "--batch", "4", "--budget", "130"]
N_LOOPS = 31


def _committed(db: str) -> int:
    """How many loops the run has committed so far (0 before the run exists); a store error fails."""
    with Store.open(db) as store:
        runs = store.list_runs()
        return runs[0].n_loops if runs else 0


def _loops(db: str) -> tuple[str, list[tuple]]:
    store = Store.open(db)
    try:
        (run,) = store.list_runs()
        loops = [(l.loop_index, l.selected_ids, l.n_labelled, l.metrics) for l in store.loops(run.id)]
        return run.id, loops
    finally:
        store.close()


def _cli(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "loopwise.cli.main", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)


def test_sigkill_in_the_middle_then_resume_matches_uninterrupted(tmp_path: Path) -> None:
    killed_db = f"sqlite:///{tmp_path / 'killed.db'}"
    proc = _cli("simulate", *ARGS, "--db", killed_db)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        # Reading the store while the run writes must never break the run (nor this reader).
        if (tmp_path / "killed.db").exists() and _committed(killed_db) >= 5:
            break
        time.sleep(0.05)
    if proc.poll() is not None:
        stderr = proc.stderr.read().decode() if proc.stderr else ""
        raise AssertionError(f"simulate ended (exit {proc.returncode}) before it could be killed: {stderr[-2000:]}")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    run_id, partial = _loops(killed_db)
    assert 5 <= len(partial) < N_LOOPS  # killed in the middle

    resumed = _cli("resume", run_id, "--db", killed_db)
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read().decode()

    clean_db = f"sqlite:///{tmp_path / 'clean.db'}"
    clean = _cli("simulate", *ARGS, "--db", clean_db)
    assert clean.wait(timeout=300) == 0, clean.stderr.read().decode()

    _, after = _loops(killed_db)
    _, reference = _loops(clean_db)
    assert len(after) == len(reference) == N_LOOPS
    assert after == reference
