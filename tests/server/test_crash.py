"""kill -9 the live server at seeded moments while annotators label; after every kill, check the store.

Each trial restarts ``loopwise serve`` on the same SQLite store, lets simulated annotators label until a
seeded number of labels is acknowledged (plus a seeded delay, so kills land in requests, in commits, in
retrains and in the ranking writes that follow them), then SIGKILLs the server process alone. Then:
every acknowledged label (HTTP 201 received) is in the store exactly once, no record is held twice or
held while done, every committed loop is intact and unchanged, and no process the server started (the
retraining child, multiprocessing's resource tracker) outlives it.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from sqlalchemy import create_engine, text

from loopwise.storage import AnnotationRepository, Store
from tests.processes import live_processes, wait_until_gone
from tests.server.live import LiveServer, admin_client, make_annotators

pytestmark = pytest.mark.slow

N_TRIALS = int(os.environ.get("LOOPWISE_CRASH_TRIALS", "20"))
N_ANNOTATORS = 4
SEED = 8


def kill_server_only(server: LiveServer) -> list[tuple[int, str]]:
    """SIGKILL the server process (not its group, as a crash or the OOM killer would); returns survivors."""
    assert server.process is not None
    pid = server.process.pid
    os.kill(pid, signal.SIGKILL)
    server.process.wait(timeout=10)
    left = wait_until_gone(session=pid)
    server._kill_group()  # whatever survived must not leak into the rest of the suite
    return left


def _annotate(url: str, project_id: int, token: str, name: str, seed: int, stop: threading.Event, acked: dict[int, tuple[int, str]]) -> None:
    rng = np.random.default_rng(seed)
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
        while not stop.is_set():
            try:
                record = client.post(f"/api/projects/{project_id}/queue/next").json()["record"]
                if record is None:
                    return
                if rng.random() < 0.1:
                    client.post(f"/api/projects/{project_id}/records/{record['id']}/skip")
                    continue
                value = "yes" if rng.random() < 0.5 else "no"
                response = client.post(f"/api/projects/{project_id}/records/{record['id']}/label", json={"value": value})
                if response.status_code == 201:
                    body = response.json()
                    acked[body["id"]] = (record["id"], name)
            except (httpx.HTTPError, ValueError, KeyError):
                # The server died under us: what was not acknowledged may be lost, nothing else.
                return


def _wait_for_a_loop(url: str, project_id: int, token: str, n_before: int, deadline: float) -> int:
    """Wait (bounded) until the server has committed more than ``n_before`` loops; 1 if it did, else 0."""
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
        while time.monotonic() < deadline:
            try:
                if len(client.get(f"/api/projects/{project_id}/stats").json()["loops"]) > n_before:
                    return 1
            except (httpx.HTTPError, ValueError, KeyError):
                return 0
            time.sleep(0.05)
    return 0


def _check_store(url: str, db: Path, project_id: int, acked: dict[int, tuple[int, str]], loops_before: list[Any]) -> tuple[dict[int, Any], list[Any]]:
    """The invariants after a kill; returns the stored labels and loops."""
    with Store.open(url) as store:
        repo = AnnotationRepository(store)
        labels = repo.current_labels(project_id)
        stored = {label.label_id: (label.record_id, label.annotator) for label in labels}
        missing = {k: v for k, v in acked.items() if stored.get(k) != v}
        assert not missing, f"{len(missing)} acknowledged labels are not in the store: {list(missing.items())[:5]}"
        per_record: dict[int, list[str]] = {}
        for label in labels:
            per_record.setdefault(label.record_id, []).append(label.annotator)
        doubled = {r: names for r, names in per_record.items() if len(names) > 1}
        assert not doubled, f"records with more than their one label: {list(doubled.items())[:5]}"
        snapshot = {r.record_id: r for r in repo.snapshot(project_id)}
        wrong_count = [r.record_id for r in snapshot.values() if r.n_labels != len(per_record.get(r.record_id, []))]
        assert not wrong_count, f"records whose label count disagrees with their labels: {wrong_count[:5]}"
        run_id = repo.get_project(project_id).run_id
        loops = store.loops(run_id)
        assert [loop.loop_index for loop in loops] == list(range(len(loops))), "loop indices have a gap or a repeat"
        for loop in loops:
            arrays = store.load_arrays(loop.artifact_hash)
            assert len(arrays["ranking"]) + loop.n_labelled <= len(snapshot), f"loop {loop.loop_index} is damaged"
        kept = [(lp.loop_index, lp.n_labelled, lp.artifact_hash, lp.metrics) for lp in loops[: len(loops_before)]]
        assert kept == loops_before, "a committed loop changed after a restart"
    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            held = conn.execute(
                text("SELECT record_id, count(*) FROM assignments GROUP BY record_id HAVING count(*) > 1")
            ).all()
            held_done = conn.execute(
                text(
                    "SELECT a.record_id FROM assignments a JOIN annotation_records q ON q.record_id = a.record_id "
                    "WHERE q.state != 'open'"
                )
            ).all()
    finally:
        engine.dispose()
    assert not held, f"records leased to two annotators at once: {held[:5]}"
    assert not held_done, f"records held though done or flagged: {held_done[:5]}"
    return stored, [(lp.loop_index, lp.n_labelled, lp.artifact_hash, lp.metrics) for lp in loops]


def test_kill_9_takes_the_retraining_child_and_the_resource_tracker_with_it(tmp_path: Path) -> None:
    server = LiveServer(f"sqlite:///{tmp_path / 'orphans.db'}", tmp_path).start()
    assert server.process is not None
    children = [p for p in live_processes(session=server.process.pid) if p[0] != server.process.pid]
    # The child starts with the server (spawn, then the resource tracker its queues need).
    assert any("multiprocessing" in cmd for _, cmd in children), f"no retraining child started: {children}"
    left = kill_server_only(server)
    assert not left, f"processes left running after kill -9 of the server: {left}"


def test_acknowledged_labels_survive_kill_9_at_seeded_moments(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    url = f"sqlite:///{db}"
    server = LiveServer(url, tmp_path).start()
    try:
        with admin_client(server) as admin:
            project = admin.post(
                "/api/projects",
                json={"name": "crash", "task": "text", "label_names": ["yes", "no"], "learner": "logreg", "retrain_every": 6, "batch_size": 6},
            ).json()
            rows = "id,text\n" + "\n".join(f"r{i},record {i} {'good fine' if i % 3 else 'bad poor'}" for i in range(2000))
            admin.post(f"/api/projects/{project['id']}/import/upload", files={"file": ("r.csv", rows.encode())}).raise_for_status()
            tokens = make_annotators(admin, project["id"], N_ANNOTATORS)
        pid = project["id"]
        acked: dict[int, tuple[int, str]] = {}
        loops: list[Any] = []
        stored: dict[int, Any] = {}
        n_loops = 0
        for trial in range(N_TRIALS):
            if trial > 0:
                server = LiveServer(url, tmp_path).start()
            rng = np.random.default_rng([SEED, trial])
            target, delay = int(rng.integers(1, 30)), float(rng.uniform(0.0, 0.4))
            # Two trials in five kill just after a retrain commits its loop, while its ranking is written.
            after_loop = bool(rng.random() < 0.4)
            if after_loop:
                target = max(target, 8)  # enough new labels (retrain_every is 6) for a retrain to come
            stop = threading.Event()
            trial_acked: list[dict[int, tuple[int, str]]] = [{} for _ in tokens]
            threads = [
                threading.Thread(
                    target=_annotate,
                    args=(server.url, pid, token, f"annotator{i}", SEED * 1000 + trial * 10 + i, stop, trial_acked[i]),
                )
                for i, token in enumerate(tokens)
            ]
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + 60
            while sum(map(len, trial_acked)) < target and time.monotonic() < deadline:
                time.sleep(0.01)
            if after_loop:
                # The annotators pause (so the pool lasts) while the retrain runs; the kill lands in it.
                stop.set()
                n_loops += _wait_for_a_loop(server.url, pid, tokens[0], len(loops), deadline + 60)
            time.sleep(delay)
            left = kill_server_only(server)
            stop.set()
            for thread in threads:
                thread.join(timeout=20)
            assert not left, f"trial {trial}: processes left running after kill -9: {left}"
            for part in trial_acked:
                acked.update(part)
            stored, loops = _check_store(url, db, pid, acked, loops)
        print(
            f"\ncrash harness: {N_TRIALS} kill -9 trials, {len(acked)} labels acknowledged, all found once; "
            f"{len(stored) - len(acked)} more committed but not acknowledged; {len(loops)} loops intact; "
            f"{n_loops} kills just after a loop was committed"
        )
        assert acked, "no label was acknowledged in any trial"

        # Restarted once more, the server carries on where it stopped.
        server = LiveServer(url, tmp_path).start()
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {tokens[0]}"}) as client:
            record = client.post(f"/api/projects/{pid}/queue/next").json()["record"]
            assert record is not None and record["id"] not in {r for r, _ in stored.values()}
            assert client.post(f"/api/projects/{pid}/records/{record['id']}/label", json={"value": "no"}).status_code == 201
            assert client.get(f"/api/projects/{pid}/progress").json()["n_labels"] == len(stored) + 1
    finally:
        server.stop()


def test_kill_9_of_serve_with_workers_leaves_no_worker_behind(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.server.live import ADMIN_PASSWORD, free_port

    port = free_port()
    env = {**os.environ, "LOOPWISE_ADMIN_PASSWORD": ADMIN_PASSWORD, "LOOPWISE_SECRET_KEY": "k" * 32}
    command = [
        sys.executable, "-m", "loopwise.cli.main", "serve", "--db", f"sqlite:///{tmp_path / 'w.db'}",
        "--host", "127.0.0.1", "--port", str(port), "--workers", "2",
    ]
    with (tmp_path / "serve.log").open("ab") as log:
        process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/login", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        assert len(live_processes(session=process.pid)) >= 3, live_processes(session=process.pid)  # parent, 2 workers, ...
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        left = wait_until_gone(session=process.pid)
        assert not left, f"processes left running after kill -9 of serve --workers 2: {left}"
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
