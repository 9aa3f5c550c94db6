"""Load on the annotation server: simulated annotators against a real ``loopwise serve`` on loopback.

Each annotator asks for the next record, thinks, labels it, repeats, on its own keep-alive
connection. The annotators run in a fresh interpreter (``python -m loopwise.bench.server_load
SPEC``), so the latencies measure the server, not the garbage collector of the caller. After a run,
:func:`check_store` compares the store with what the server acknowledged: no label lost or doubled,
no record served to two annotators. Used by the suite's load test and by ``loopwise bench server``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import json
import os
import random
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from loopwise.errors import ConfigError

ADMIN_PASSWORD = "admin-password-for-the-load-benchmark"
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


def _server_time(response: httpx.Response) -> float:
    for part in response.headers.get("server-timing", "").split(";"):
        if part.startswith("dur="):
            return float(part[4:]) / 1000.0
    return float("nan")


async def _annotator(
    name: str, client: httpx.AsyncClient, project_id: int, truth: dict[str, str], deadline: float,
    think: tuple[float, float], result: LoadResult, seed: int,
) -> None:
    rng = random.Random(seed)
    async with client:
        # Annotators arrive over the first think interval, not all in the same millisecond.
        await asyncio.sleep(rng.uniform(0, think[1]))
        while time.monotonic() < deadline:
            start = time.perf_counter()
            try:
                response = await client.post(f"/api/projects/{project_id}/queue/next")
            except httpx.HTTPError as exc:
                result.errors.append(f"next: {type(exc).__name__}: {exc}")
                continue
            result.next_latencies.append(time.perf_counter() - start)
            result.next_server.append(_server_time(response))
            if response.status_code != 200:
                result.errors.append(f"next {response.status_code}: {response.text[:200]}")
                continue
            record = response.json()["record"]
            if record is None:
                result.empty += 1
                await asyncio.sleep(0.1)
                continue
            result.served[record["id"]].add(name)
            await asyncio.sleep(rng.uniform(*think))
            value = truth[record["external_id"]]
            start = time.perf_counter()
            try:
                response = await client.post(
                    f"/api/projects/{project_id}/records/{record['id']}/label", json={"value": value}
                )
            except httpx.HTTPError as exc:
                result.errors.append(f"label: {type(exc).__name__}: {exc}")
                continue
            result.submit_latencies.append(time.perf_counter() - start)
            result.submit_server.append(_server_time(response))
            if response.status_code != 201:
                result.errors.append(f"label {response.status_code}: {response.text[:200]}")
                continue
            ack = response.json()
            result.acked[ack["id"]] = (record["id"], value, name)


async def _run(
    base_url: str, project_id: int, tokens: list[str], truth: dict[str, str], seconds: float, think: tuple[float, float]
) -> LoadResult:
    result = LoadResult(duration=seconds)
    # The clients exist before the clock starts, and share one TLS context (unused over http, but
    # httpx builds one per client otherwise: 200 of them took seconds of the run on a busy machine).
    context = ssl.create_default_context()
    clients = [
        httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30, verify=context)
        for token in tokens
    ]
    start = time.monotonic()
    deadline = start + seconds
    await asyncio.gather(
        *(
            _annotator(f"annotator{i}", client, project_id, truth, deadline, think, result, seed=i)
            for i, client in enumerate(clients)
        )
    )
    result.duration = time.monotonic() - start
    return result


def run_load(
    base_url: str, project_id: int, tokens: list[str], truth: dict[str, str], seconds: float,
    think: tuple[float, float] = (0.5, 1.5),
) -> LoadResult:
    """Run one annotator per token against the project for ``seconds``, in this process."""
    return asyncio.run(_run(base_url, project_id, tokens, truth, seconds, think))


def run_load_in_subprocess(
    base_url: str, project_id: int, tokens: list[str], truth: dict[str, str], seconds: float,
    think: tuple[float, float], workdir: Path,
) -> LoadResult:
    """:func:`run_load` in a fresh ``python`` process (it inherits the caller's priority)."""
    spec = workdir / "load-spec.json"
    out = workdir / "load-result.json"
    spec.write_text(json.dumps({
        "base_url": base_url, "project_id": project_id, "tokens": tokens, "truth": truth,
        "seconds": seconds, "think": list(think), "out": str(out),
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
        errors=raw["errors"], empty=raw["empty"],
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


# -- a server to load -----------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """``loopwise serve --db URL --workers N`` on a free 127.0.0.1 port, in its own process group."""

    def __init__(self, db_url: str, workdir: Path, *, workers: int = 1, artifacts: Path | None = None) -> None:
        self.db_url, self.workdir, self.workers, self.artifacts = db_url, workdir, workers, artifacts
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"server-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ServerProcess:
        env = {**os.environ, "LOOPWISE_ADMIN_PASSWORD": ADMIN_PASSWORD, "PYTHONUNBUFFERED": "1"}
        command = [
            sys.executable, "-m", "loopwise.cli.main", "serve", "--db", self.db_url, "--host", "127.0.0.1",
            "--port", str(self.port), "--import-dir", str(self.workdir), "--log-level", "info",
        ]
        if self.workers != 1:
            command += ["--workers", str(self.workers)]
        if self.artifacts is not None:
            command += ["--artifacts", str(self.artifacts)]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}:\n{self.log_path.read_text()[-4000:]}")
            try:
                # Every worker has started (each logs it), so none is still importing during the run.
                ready = self.log_path.read_text(errors="replace").count("Application startup complete")
                if ready >= self.workers and httpx.get(f"{self.url}/login", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.__exit__()
        raise RuntimeError(f"the server did not answer within 90 s:\n{self.log_path.read_text()[-4000:]}")

    def __exit__(self, *exc: object) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # the retraining child and workers, if any are left
        except (ProcessLookupError, PermissionError):
            pass


    def cpu_seconds(self) -> dict[str, float]:
        """CPU time so far of the server's processes: ``serving`` (requests) and ``learning`` (the
        retraining child, which runs at a lower priority): the cost of a request next to its
        latency (it too grows on a crowded machine, through cache misses and contention)."""
        assert self.process is not None
        ticks = os.sysconf("SC_CLK_TCK")
        own_nice = None
        found: list[tuple[int, float]] = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            # After the command: state, ppid, pgrp, ... utime (index 11), stime (12), ..., nice (16).
            if int(fields[2]) != self.process.pid:
                continue
            nice, cpu = int(fields[16]), (int(fields[11]) + int(fields[12])) / ticks
            if stat.parent.name == str(self.process.pid):
                own_nice = nice
            found.append((nice, cpu))
        base = own_nice if own_nice is not None else min((n for n, _ in found), default=0)
        return {
            "serving": sum(cpu for nice, cpu in found if nice <= base),
            "learning": sum(cpu for nice, cpu in found if nice > base),
        }


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
    think: tuple[float, float] = (0.5, 1.5), data: tuple[bytes, dict[str, str]] | None = None,
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
            result = run_load_in_subprocess(server.url, project["id"], tokens, truth, seconds, think, workdir)
            after = server.cpu_seconds()
            loops = len(admin.get(f"/api/projects/{project['id']}/stats").raise_for_status().json()["loops"])
        stored = check_store(url, project["id"], result, artifacts)
    figures = result.figures()
    requests = len(result.next_latencies) + len(result.submit_latencies)
    serving = after["serving"] - before["serving"]
    return {
        "store": store, "workers": workers, "annotators": annotators, **figures, **stored, "loops": loops,
        "serving_cpu_s": round(serving, 2), "learning_cpu_s": round(after["learning"] - before["learning"], 2),
        "serving_cpu_ms_per_request": round(1000 * serving / max(1, requests), 3),
        "error_samples": result.errors[:5],
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
    result = run_load(
        spec["base_url"], spec["project_id"], spec["tokens"], spec["truth"], spec["seconds"], tuple(spec["think"])
    )
    raw = {
        "duration": result.duration, "next_latencies": result.next_latencies, "next_server": result.next_server,
        "submit_server": result.submit_server, "submit_latencies": result.submit_latencies,
        "acked": {str(k): list(v) for k, v in result.acked.items()},
        "served": {str(k): sorted(v) for k, v in result.served.items()},
        "errors": result.errors, "empty": result.empty,
    }
    Path(spec["out"]).write_text(json.dumps(raw))


if __name__ == "__main__":
    _main(sys.argv[1])
