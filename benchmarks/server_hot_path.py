"""CPU of the annotation server's two hot routes, measured in-process: Python calls and CPU per request.

The ASGI app is called directly (no network, no uvicorn) over a fresh SQLite store: 10 annotators
with API tokens take the next record and label it, in turn. Python function calls are counted in
every thread (the event loop and the database threads) for 3 rounds: a deterministic figure that
does not move with the machine's load, unlike the CPU time, which is printed too (``rounds`` rounds).
Run it with ``PYTHONPATH`` pointing at the code to measure, to compare two commits:

    PYTHONPATH=src nice -n 10 python benchmarks/server_hot_path.py [ROUNDS]
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from loopwise.bench.server_load import CLASSES, dataset
from loopwise.server import ServerSettings, create_app

N_ANNOTATORS = 10
PASSWORD = "hot-path-benchmark-password"
_counting = [False]
_calls = [0]


def _count(frame: Any, event: str, arg: Any) -> None:
    if _counting[0] and event in ("call", "c_call"):
        _calls[0] += 1


async def _asgi(app: Any, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, Any]:
    """One POST straight into the app: its status and JSON answer."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    out: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        return messages.pop() if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
        else:
            out["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return out["status"], json.loads(out["body"])


async def _set_up(app: Any, csv: bytes) -> tuple[int, list[str]]:
    """A tabular project with the records imported and annotators with tokens: (project id, tokens)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        me = (await client.post("/api/login", json={"name": "admin", "password": PASSWORD})).json()
        token = (await client.post(f"/api/users/{me['user']['id']}/token", headers={"X-CSRF-Token": me["csrf_token"]})).json()["token"]
        client.cookies.clear()
        admin = {"Authorization": f"Bearer {token}"}
        project = (await client.post("/api/projects", headers=admin, json={
            "name": "hot", "task": "tabular", "label_names": CLASSES, "strategy": "margin", "batch_size": 50,
            "retrain_every": 100_000,
        })).json()
        imported = await client.post(f"/api/projects/{project['id']}/import/upload", headers=admin,
                                     files={"file": ("records.csv", csv, "text/csv")})
        imported.raise_for_status()
        tokens = []
        for i in range(N_ANNOTATORS):
            user = (await client.post("/api/users", headers=admin, json={"name": f"a{i}", "role": "annotator"})).json()
            tokens.append((await client.post(f"/api/users/{user['id']}/token", headers=admin)).json()["token"])
            await client.post(f"/api/projects/{project['id']}/members", headers=admin, json={"user_id": user["id"]})
    return int(project["id"]), tokens


async def _rounds(app: Any, project_id: int, tokens: list[str], truth: dict[str, str], n: int) -> dict[str, int]:
    """``n`` rounds of next + label by every annotator; the Python calls each kind of request made."""
    calls = {"next": 0, "label": 0}
    for _ in range(n):
        for token in tokens:
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Host": "t"}
            start = _calls[0]
            status, item = await _asgi(app, f"/api/projects/{project_id}/queue/next", headers)
            assert status == 200, item
            middle = _calls[0]
            record = item["record"]
            body = json.dumps({"value": truth[record["external_id"]]}).encode()
            status, ack = await _asgi(app, f"/api/projects/{project_id}/records/{record['id']}/label", headers, body)
            assert status == 201, ack
            calls["next"] += middle - start
            calls["label"] += _calls[0] - middle
    return calls


def main(rounds: int) -> None:
    threading.setprofile(_count)  # the database threads, started later, count too
    csv, truth = dataset(n_pool=1_000, n_test=200)
    with tempfile.TemporaryDirectory(prefix="loopwise-hot-path-") as tmp:
        folder = Path(tmp)
        app = create_app(ServerSettings(
            db=f"sqlite:///{folder / 'store.db'}", artifacts_dir=folder / "artifacts", import_dir=folder,
            admin_password=PASSWORD, learn=False,
        ))

        async def run() -> None:
            project_id, tokens = await _set_up(app, csv)
            await _rounds(app, project_id, tokens, truth, 2)  # warm: caches, pools, threads
            cpu = time.process_time()
            await _rounds(app, project_id, tokens, truth, rounds)
            cpu = time.process_time() - cpu
            _counting[0] = True
            sys.setprofile(_count)
            calls = await _rounds(app, project_id, tokens, truth, 3)
            sys.setprofile(None)
            _counting[0] = False
            n = 3 * N_ANNOTATORS
            print(f"Python calls per next record {calls['next'] / n:.0f}, per label {calls['label'] / n:.0f}; "
                  f"CPU {1000 * cpu / (2 * rounds * N_ANNOTATORS):.3f} ms per request ({2 * rounds * N_ANNOTATORS} requests); "
                  f"load average {os.getloadavg()[0]:.1f}")

        asyncio.run(run())


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
