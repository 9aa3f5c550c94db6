"""Load on the annotation server: simulated annotators against a real ``loopwise serve`` on loopback.

Each annotator asks for the next record, thinks, labels it, repeats, on its own keep-alive
connection (the light client of loopwise.bench._http by default, or httpx). The annotators run in a fresh interpreter (``python -m loopwise.bench.server_load
SPEC``), so the latencies measure the server, not the garbage collector of the caller. After a run,
:func:`check_store` compares the store with what the server acknowledged: no label lost or doubled,
no record served to two annotators. Used by the suite's load test and by ``loopwise bench server``;
the server process itself is started by loopwise.bench._server_process.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import json
import os
import random
import ssl
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from loopwise.bench._http import ClientError, KeepAliveClient
from loopwise.bench._server_process import ADMIN_PASSWORD, ServerProcess, free_port, wait_until_serving
from loopwise.errors import ConfigError

CLASSES = ["a", "b", "c", "d"]


# -- the data -------------------------------------------------------------------------------------


def dataset(n_pool: int = 15_000, n_test: int = 1_000, n_features: int = 16) -> tuple[bytes, dict[str, str]]:
    """A CSV of ``n_pool`` unlabelled and ``n_test`` test rows (4 classes) and every row's true class."""
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=n_pool + n_test, n_features=n_features, n_informative=8, n_classes=len(CLASSES), random_state=0
    )
    buffer = io.StringIO()
    buffer.write("id," + ",".join(f"x{j}" for j in range(n_features)) + ",label,split\n")
    truth = {}
    for i, (row, target) in enumerate(zip(X, y, strict=True)):
        test = i >= n_pool
        rid = f"r{i}"
        truth[rid] = CLASSES[target]
        values = ",".join(f"{v:.5f}" for v in row)
        buffer.write(f"{rid},{values},{CLASSES[target] if test else ''},{'test' if test else ''}\n")
    return buffer.getvalue().encode(), truth


# -- the annotators -------------------------------------------------------------------------------


@dataclass
class LoadResult:
    """What the annotators saw: latencies (seconds), acknowledged labels, who was served what, errors."""

    duration: float
    next_latencies: list[float] = field(default_factory=list)
    next_server: list[float] = field(default_factory=list)
    submit_server: list[float] = field(default_factory=list)
    submit_latencies: list[float] = field(default_factory=list)
    acked: dict[int, tuple[int, str, str]] = field(default_factory=dict)  # label id -> (record, value, annotator)
    served: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))  # record -> annotators
    errors: list[str] = field(default_factory=list)
    empty: int = 0
    client_cpu: float = float("nan")  # CPU seconds the load generator itself used

    def percentiles(self, values: list[float]) -> tuple[float, float, float]:
        """p50, p95, p99 in milliseconds (NaN when there is nothing to rank)."""
        finite = np.asarray(values, dtype=np.float64)
        finite = finite[np.isfinite(finite)]
        if not len(finite):
            return float("nan"), float("nan"), float("nan")
        p50, p95, p99 = np.percentile(finite * 1000.0, [50, 95, 99])
        return float(p50), float(p95), float(p99)

    def double_served(self) -> dict[int, set[str]]:
        """Records handed to more than one annotator (with one label per record, there must be none)."""
        return {record: who for record, who in self.served.items() if len(who) > 1}

    def figures(self) -> dict[str, Any]:
        """The run in numbers, for JSON and tables."""
        n = self.percentiles(self.next_latencies)
        s = self.percentiles(self.submit_latencies)
        requests = len(self.next_latencies) + len(self.submit_latencies)
        return {
            "seconds": round(self.duration, 2), "labels": len(self.acked),
            "labels_per_s": round(len(self.acked) / self.duration, 2), "requests_per_s": round(requests / self.duration, 2),
            "next_ms": dict(zip(("p50", "p95", "p99"), (round(v, 2) for v in n), strict=True)),
            "submit_ms": dict(zip(("p50", "p95", "p99"), (round(v, 2) for v in s), strict=True)),
            "next_in_app_p95_ms": round(self.percentiles(self.next_server)[1], 2),
            "submit_in_app_p95_ms": round(self.percentiles(self.submit_server)[1], 2),
            "errors": len(self.errors), "empty": self.empty, "double_served": len(self.double_served()),
            "client_cpu_ms_per_request": round(1000 * self.client_cpu / max(1, requests), 3),
        }

    def summary(self) -> str:
        """Three lines for a log: throughput, next and submit percentiles, errors."""
        f = self.figures()
        n, s = f["next_ms"], f["submit_ms"]
        return (
            f"{f['labels']} labels in {f['seconds']:.1f} s: {f['labels_per_s']:.1f} labels/s, {f['requests_per_s']:.1f} requests/s\n"
            f"next record (ms): p50 {n['p50']:.1f}  p95 {n['p95']:.1f}  p99 {n['p99']:.1f}  (n={len(self.next_latencies)}; "
            f"in the app p95 {f['next_in_app_p95_ms']:.1f})\n"
            f"submit label (ms): p50 {s['p50']:.1f}  p95 {s['p95']:.1f}  p99 {s['p99']:.1f}  (n={len(self.submit_latencies)}; "
            f"in the app p95 {f['submit_in_app_p95_ms']:.1f})\n"
            f"errors: {f['errors']}, empty queue answers: {f['empty']}, records served twice: {f['double_served']}"
        )


# Which HTTP client the simulated annotators use: "raw" (loopwise.bench._http, little CPU) or "httpx".
CLIENTS = ("raw", "httpx")
_CLIENT_ERRORS = (httpx.HTTPError, ClientError)


def _server_time(response: Any) -> float:
    for part in response.headers.get("server-timing", "").split(";"):
        if part.startswith("dur="):
            return float(part[4:]) / 1000.0
    return float("nan")


async def _timed(
    what: str, send: Callable[[], Awaitable[Any]], expect: int, latencies: list[float], in_app: list[float],
    errors: list[str],
) -> Any | None:
    """One request: its latency and in-app time recorded, its answer if the status is ``expect``, else None."""
    start = time.perf_counter()
    try:
        response = await send()
    except _CLIENT_ERRORS as exc:
        errors.append(f"{what}: {type(exc).__name__}: {exc}")
        await asyncio.sleep(0.1)  # a refused connection would otherwise spin until the deadline
        return None
    latencies.append(time.perf_counter() - start)
    in_app.append(_server_time(response))
    if response.status_code != expect:
        errors.append(f"{what} {response.status_code}: {response.text[:200]}")
        return None
    return response


async def _annotator(
    name: str, client: Any, project_id: int, truth: dict[str, str], deadline: float,
    think: tuple[float, float], result: LoadResult, seed: int,
) -> None:
    rng = random.Random(seed)
    r = result
    async with client:
        # Annotators arrive over the first think interval, not all in the same millisecond.
        await asyncio.sleep(rng.uniform(0, think[1]))
        while time.monotonic() < deadline:
            response = await _timed(
                "next", partial(client.post, f"/api/projects/{project_id}/queue/next"), 200,
                r.next_latencies, r.next_server, r.errors,
            )
            if response is None:
                continue
            record = response.json()["record"]
            if record is None:
                r.empty += 1
                await asyncio.sleep(0.1)
                continue
            r.served[record["id"]].add(name)
            await asyncio.sleep(rng.uniform(*think))
            value = truth[record["external_id"]]
            response = await _timed(
                "label",
                partial(client.post, f"/api/projects/{project_id}/records/{record['id']}/label", json={"value": value}),
                201, r.submit_latencies, r.submit_server, r.errors,
            )
            if response is not None:
                r.acked[response.json()["id"]] = (record["id"], value, name)


def _clients(base_url: str, tokens: list[str], kind: str) -> list[Any]:
    if kind == "raw":
        return [KeepAliveClient(base_url, {"Authorization": f"Bearer {token}"}) for token in tokens]
    if kind != "httpx":
        raise ConfigError(f"the load client must be one of {', '.join(CLIENTS)}; got {kind!r}")
    # One TLS context for all (unused over http, but httpx builds one per client otherwise: 200 of
    # them took seconds of the run on a busy machine).
    context = ssl.create_default_context()
    return [
        httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30, verify=context)
        for token in tokens
    ]


async def _run(
    base_url: str, project_id: int, tokens: list[str], truth: dict[str, str], seconds: float,
    think: tuple[float, float], client: str,
) -> LoadResult:
    result = LoadResult(duration=seconds)
    clients = _clients(base_url, tokens, client)  # built before the clock starts
    start = time.monotonic()
    deadline = start + seconds
    await asyncio.gather(
        *(
            _annotator(f"annotator{i}", each, project_id, truth, deadline, think, result, seed=i)
            for i, each in enumerate(clients)
        )
    )
    result.duration = time.monotonic() - start
    return result


def run_load(
    base_url: str, project_id: int, tokens: list[str], truth: dict[str, str], seconds: float,
    think: tuple[float, float] = (0.5, 1.5), client: str = "raw",
) -> LoadResult:
    """Run one annotator per token against the project for ``seconds``, in this process."""
    return asyncio.run(_run(base_url, project_id, tokens, truth, seconds, think, client))


def run_load_in_subprocess(
    base_url: str, project_id: int, tokens: list[str], truth: dict[str, str], seconds: float,
    think: tuple[float, float], workdir: Path, client: str = "raw",
) -> LoadResult:
    """:func:`run_load` in a fresh ``python`` process (it inherits the caller's priority)."""
    spec = workdir / "load-spec.json"
    out = workdir / "load-result.json"
    spec.write_text(json.dumps({
        "base_url": base_url, "project_id": project_id, "tokens": tokens, "truth": truth,
        "seconds": seconds, "think": list(think), "client": client, "out": str(out),
    }))
    process = subprocess.run(
        [sys.executable, "-m", "loopwise.bench.server_load", str(spec)],
        capture_output=True, text=True, timeout=seconds + 120,
    )
    if process.returncode != 0:
        raise RuntimeError(f"the load generator exited with {process.returncode}:\n{process.stderr[-4000:]}")
    raw = json.loads(out.read_text())
    result = LoadResult(
        duration=raw["duration"], next_latencies=raw["next_latencies"], next_server=raw["next_server"],
        submit_server=raw["submit_server"], submit_latencies=raw["submit_latencies"],
        acked={int(k): (v[0], v[1], v[2]) for k, v in raw["acked"].items()},
        errors=raw["errors"], empty=raw["empty"], client_cpu=raw["client_cpu"],
    )
    for record, names in raw["served"].items():
        result.served[int(record)] = set(names)
    return result


# -- what the store holds afterwards --------------------------------------------------------------


def check_store(db_url: str, project_id: int, result: LoadResult, artifacts: Path | None = None) -> dict[str, int]:
    """Compare the project's labels in the store with the acknowledged ones: counts of lost, doubled, unknown."""
    from loopwise.storage import AnnotationRepository, Store

    with Store.open(db_url, artifacts_dir=artifacts) as store:
        labels = AnnotationRepository(store).current_labels(project_id)
    stored = {label.label_id: (label.record_id, label.value, label.annotator) for label in labels}
    per_record: dict[int, int] = defaultdict(int)
    for record, _, _ in stored.values():
        per_record[record] += 1
    return {
        "stored": len(stored),
        "lost": sum(1 for key, value in result.acked.items() if stored.get(key) != value),
        "unacknowledged": sum(1 for key in stored if key not in result.acked),
        "doubled": sum(n - 1 for n in per_record.values() if n > 1),
    }


# -- a server to load: loopwise.bench._server_process ------------------------------------------


def admin_client(url: str, password: str = ADMIN_PASSWORD) -> httpx.Client:
    """A client signed in as the admin with an API token (no cookie, so no CSRF token needed)."""
    with httpx.Client(base_url=url, timeout=30) as cookie_client:
        session = cookie_client.post("/api/login", json={"name": "admin", "password": password})
        session.raise_for_status()
        me = session.json()["user"]
        token = cookie_client.post(f"/api/users/{me['id']}/token", headers={"X-CSRF-Token": session.json()["csrf_token"]})
        token.raise_for_status()
    return httpx.Client(base_url=url, timeout=120, headers={"Authorization": f"Bearer {token.json()['token']}"})


def make_project(admin: httpx.Client, name: str, csv_bytes: bytes, retrain_every: int = 200) -> dict[str, Any]:
    """A tabular project (margin, batch 200, one label per record) with the CSV imported."""
    project: dict[str, Any] = admin.post(
        "/api/projects",
        json={
            "name": name, "task": "tabular", "label_names": CLASSES, "strategy": "margin", "batch_size": 200,
            "retrain_every": retrain_every, "labels_per_record": 1, "lease_seconds": 600,
        },
    ).raise_for_status().json()
    imported = admin.post(f"/api/projects/{project['id']}/import/upload", files={"file": ("load.csv", csv_bytes, "text/csv")})
    if imported.status_code != 201:
        raise RuntimeError(f"import into project {name!r} failed: {imported.status_code} {imported.text[:500]}")
    return project


def make_annotators(admin: httpx.Client, n: int, prefix: str = "annotator") -> list[tuple[int, str]]:
    """``n`` annotators without passwords, each with an API token: (user id, token)."""
    made = []
    for i in range(n):
        user = admin.post("/api/users", json={"name": f"{prefix}{i}", "role": "annotator"}).raise_for_status().json()
        token = admin.post(f"/api/users/{user['id']}/token").raise_for_status().json()["token"]
        made.append((int(user["id"]), str(token)))
    return made


def add_members(admin: httpx.Client, project_id: int, users: list[tuple[int, str]]) -> list[str]:
    """Put the users in the project; returns their tokens."""
    for user_id, _ in users:
        admin.post(f"/api/projects/{project_id}/members", json={"user_id": user_id}).raise_for_status()
    return [token for _, token in users]


# -- the benchmark: annotators x store x processes -------------------------------------------------


@contextlib.contextmanager
def scratch_database(kind: str, workdir: Path, postgres_url: str | None) -> Iterator[str]:
    """A fresh, empty store URL: a SQLite file under ``workdir``, or a new PostgreSQL database (dropped after)."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'load.db'}"
        return
    if not postgres_url:
        raise ConfigError("PostgreSQL cells need --postgres URL (or LOOPWISE_TEST_POSTGRES_URL)")
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(postgres_url)
    name = f"loopwise_load_{os.getpid()}_{workdir.name[-8:].lower()}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_cell(
    store: str, workers: int, annotators: int, seconds: float, workdir: Path, *, postgres_url: str | None,
    think: tuple[float, float] = (0.5, 1.5), data: tuple[bytes, dict[str, str]] | None = None, client: str = "raw",
) -> dict[str, Any]:
    """One configuration on a fresh store and server: its figures and what the store holds afterwards."""
    csv_bytes, truth = data or dataset()
    workdir.mkdir(parents=True, exist_ok=True)
    artifacts = workdir / "artifacts"
    with scratch_database(store, workdir, postgres_url) as url:
        with ServerProcess(url, workdir, workers=workers, artifacts=artifacts) as server, admin_client(server.url) as admin:
            project = make_project(admin, "load", csv_bytes)
            tokens = add_members(admin, project["id"], make_annotators(admin, annotators))
            before = server.cpu_seconds()
            result = run_load_in_subprocess(server.url, project["id"], tokens, truth, seconds, think, workdir, client)
            after = server.cpu_seconds()
            # The machine's load as the run ends (its 1-minute average spans the run): the other side of
            # every latency figure, since the same code is slower on a machine that others keep busy.
            load = [round(v, 2) for v in os.getloadavg()]
            loops = len(admin.get(f"/api/projects/{project['id']}/stats").raise_for_status().json()["loops"])
        stored = check_store(url, project["id"], result, artifacts)
    figures = result.figures()
    requests = len(result.next_latencies) + len(result.submit_latencies)
    serving = after["serving"] - before["serving"]
    return {
        "store": store, "workers": workers, "annotators": annotators, "client": client, **figures, **stored, "loops": loops,
        "serving_cpu_s": round(serving, 2), "learning_cpu_s": round(after["learning"] - before["learning"], 2),
        "serving_cpu_ms_per_request": round(1000 * serving / max(1, requests), 3),
        "load_average": load, "error_samples": result.errors[:5],
    }


def add_ratios(cells: list[dict[str, Any]]) -> None:
    """Each cell's latencies divided by those of the 50-annotator, SQLite, one-process cell of the same run."""
    base = next((c for c in cells if (c["store"], c["workers"], c["annotators"]) == ("sqlite", 1, 50)), None)
    for cell in cells:
        if base is None:
            cell["ratio"] = None
            continue
        cell["ratio"] = {
            f"{kind}_{p}": round(cell[f"{kind}_ms"][p] / base[f"{kind}_ms"][p], 2) if base[f"{kind}_ms"][p] else None
            for kind in ("next", "submit") for p in ("p50", "p95", "p99")
        }


def machine() -> dict[str, Any]:
    """What the figures were measured on: CPUs, load average, time."""
    import platform

    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpus": os.cpu_count(),
        "load_average": [round(v, 2) for v in os.getloadavg()], "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    gc.collect()
    gc.freeze()  # what is loaded now is never scanned again: collections stay short during the run
    cpu = time.process_time()
    result = run_load(
        spec["base_url"], spec["project_id"], spec["tokens"], spec["truth"], spec["seconds"], tuple(spec["think"]),
        spec.get("client", "raw"),
    )
    raw = {
        "duration": result.duration, "next_latencies": result.next_latencies, "next_server": result.next_server,
        "submit_server": result.submit_server, "submit_latencies": result.submit_latencies,
        "acked": {str(k): list(v) for k, v in result.acked.items()},
        "served": {str(k): sorted(v) for k, v in result.served.items()},
        "errors": result.errors, "empty": result.empty, "client_cpu": time.process_time() - cpu,
    }
    Path(spec["out"]).write_text(json.dumps(raw))


__all__ = [
    "ADMIN_PASSWORD", "CLIENTS", "LoadResult", "ServerProcess", "add_members", "add_ratios", "admin_client", "check_store",
    "dataset", "free_port", "machine", "make_annotators", "make_project", "run_cell", "run_load", "run_load_in_subprocess",
    "scratch_database", "wait_until_serving",
]


if __name__ == "__main__":
    _main(sys.argv[1])
