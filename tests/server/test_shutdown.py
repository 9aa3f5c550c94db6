"""SIGTERM stops `loopwise serve` by itself, mid-retrain: exit 0, no process left, every acknowledged label kept."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from loopwise.storage import AnnotationRepository, Store
from tests.processes import live_processes, wait_until_gone
from tests.server.live import LiveServer, admin_client, make_annotators

pytestmark = pytest.mark.slow


def test_sigterm_during_a_retrain_ends_the_server_and_its_child_and_keeps_every_label(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'stop.db'}"
    server = LiveServer(url, tmp_path).start()
    assert server.process is not None
    pid = server.process.pid
    try:
        with admin_client(server) as admin:
            project = admin.post(
                "/api/projects",
                json={"name": "stop", "task": "text", "label_names": ["yes", "no"], "learner": "logreg", "retrain_every": 4, "batch_size": 4},
            ).json()
            rows = "id,text\n" + "\n".join(f"r{i},record {i} {'good fine' if i % 3 else 'bad poor'}" for i in range(60))
            admin.post(f"/api/projects/{project['id']}/import/upload", files={"file": ("r.csv", rows.encode())}).raise_for_status()
            (token,) = make_annotators(admin, project["id"], 1)
        acked: dict[int, int] = {}
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
            for i in range(9):  # two retrains asked for; the last labels arrive while the child works
                record = client.post(f"/api/projects/{project['id']}/queue/next").json()["record"]
                response = client.post(
                    f"/api/projects/{project['id']}/records/{record['id']}/label", json={"value": "yes" if i % 2 else "no"}
                )
                assert response.status_code == 201, response.text
                acked[response.json()["id"]] = record["id"]
        assert any("multiprocessing" in cmd for p, cmd in live_processes(session=pid) if p != pid), "no retraining child"
        server.process.send_signal(signal.SIGTERM)
        try:
            # A bound for a hung server, not a latency floor: a prompt stop takes well under a second.
            code = server.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the server did not exit on SIGTERM:\n{server.log()}")
        # uvicorn shuts down, then re-raises the signal with its default action, so the exit says why.
        assert code == -signal.SIGTERM, server.log()
        # The store was closed, not abandoned: its last connection checkpointed the WAL and removed it.
        assert not (tmp_path / "stop.db-wal").exists(), sorted(p.name for p in tmp_path.iterdir())
        assert "Traceback" not in server.log(), server.log()
        left = wait_until_gone(session=pid)  # the kernel reaps the killed child just after the server's exit
        assert not left, f"processes left running after the server stopped: {left}"
    finally:
        server.stop()
    with Store.open(url) as store:
        stored = {label.label_id: label.record_id for label in AnnotationRepository(store).current_labels(project["id"])}
    assert stored == acked
