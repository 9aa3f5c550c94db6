"""kill -9 the server while annotators post labels; restart it; every acknowledged label is in the store."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from loopwise.storage import AnnotationRepository, Store
from tests.server.live import LiveServer, admin_client, make_annotators

pytestmark = pytest.mark.slow

N_ANNOTATORS = 8


def _annotate(url: str, project_id: int, token: str, name: str, stop: threading.Event, acked: dict[int, tuple[int, str]]) -> None:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=5) as client:
        while not stop.is_set():
            try:
                record = client.post(f"/api/projects/{project_id}/queue/next").json()["record"]
                if record is None:
                    return
                response = client.post(
                    f"/api/projects/{project_id}/records/{record['id']}/label", json={"value": "yes"}
                )
                if response.status_code == 201:
                    acked[response.json()["id"]] = (record["id"], name)
            except (httpx.HTTPError, ValueError, KeyError):
                # The server died under us: whatever was not acknowledged may be lost, nothing else.
                return


def test_every_acknowledged_label_survives_kill_9(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    url = f"sqlite:///{db}"
    server = LiveServer(url, tmp_path).start()
    try:
        with admin_client(server) as admin:
            project = admin.post(
                "/api/projects",
                json={"name": "crash", "task": "text", "label_names": ["yes", "no"], "retrain_every": 25, "batch_size": 25},
            ).json()
            rows = "id,text\n" + "\n".join(f"r{i},record {i} text" for i in range(3000))
            admin.post(f"/api/projects/{project['id']}/import/upload", files={"file": ("r.csv", rows.encode())}).raise_for_status()
            tokens = make_annotators(admin, project["id"], N_ANNOTATORS)
        acked: dict[int, tuple[int, str]] = {}
        stop = threading.Event()
        threads = [
            threading.Thread(target=_annotate, args=(server.url, project["id"], token, f"annotator{i}", stop, acked))
            for i, token in enumerate(tokens)
        ]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while len(acked) < 150 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.kill9()  # mid-flight: requests are being answered as it dies
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
        assert len(acked) >= 50, f"only {len(acked)} labels were acknowledged before the kill"

        # The store as the dead server left it, before anything else touches it.
        with Store.open(url) as store:
            stored = {
                label.label_id: (label.record_id, label.annotator)
                for label in AnnotationRepository(store).current_labels(project["id"])
            }
        missing = {k: v for k, v in acked.items() if stored.get(k) != v}
        assert not missing, f"{len(missing)} acknowledged labels are not in the store: {list(missing.items())[:5]}"
        print(f"\ncrash test: {len(acked)} labels acknowledged before kill -9, all {len(acked)} found after; "
              f"{len(stored) - len(acked)} more were committed but not yet acknowledged")

        # Restarted on the same store, the server carries on where it stopped.
        server = LiveServer(url, tmp_path).start()
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {tokens[0]}"}) as client:
            record = client.post(f"/api/projects/{project['id']}/queue/next").json()["record"]
            assert record is not None and record["id"] not in {r for r, _ in stored.values()}
            assert client.post(
                f"/api/projects/{project['id']}/records/{record['id']}/label", json={"value": "no"}
            ).status_code == 201
            progress = client.get(f"/api/projects/{project['id']}/progress").json()
            assert progress["n_labels"] == len(stored) + 1
    finally:
        server.stop()
