"""Simulated annotators for the load test: each asks for the next record, thinks, labels it, repeats.

`run_load_in_subprocess` runs them in a fresh interpreter (``python -m tests.server.loadgen``), so
the latencies measure the server, not the garbage collector of a test process that holds the
heap of a whole suite.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import random
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np


@dataclass
class LoadResult:
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
        p50, p95, p99 = np.percentile(np.asarray(values) * 1000.0, [50, 95, 99])
        return float(p50), float(p95), float(p99)

    def summary(self) -> str:
        n50, n95, n99 = self.percentiles(self.next_latencies)
        s50, s95, s99 = self.percentiles(self.submit_latencies)
        requests = len(self.next_latencies) + len(self.submit_latencies)
        return (
            f"{len(self.acked)} labels in {self.duration:.1f} s: {len(self.acked) / self.duration:.1f} labels/s, "
            f"{requests / self.duration:.1f} requests/s\n"
            f"next record (ms): p50 {n50:.1f}  p95 {n95:.1f}  p99 {n99:.1f}  (n={len(self.next_latencies)})\n"
            f"submit label (ms): p50 {s50:.1f}  p95 {s95:.1f}  p99 {s99:.1f}  (n={len(self.submit_latencies)})\n"
            f"time inside the server app (ms, Server-Timing): next p50 {self.percentiles(self.next_server)[0]:.1f} "
            f"p95 {self.percentiles(self.next_server)[1]:.1f}; submit p50 {self.percentiles(self.submit_server)[0]:.1f} "
            f"p95 {self.percentiles(self.submit_server)[1]:.1f}\n"
            f"errors: {len(self.errors)}, empty queue answers: {self.empty}"
        )


def _server_time(response: httpx.Response) -> float:
    header = response.headers.get("server-timing", "")
    for part in header.split(";"):
        if part.startswith("dur="):
            return float(part[4:]) / 1000.0
    return float("nan")


async def _annotator(
    name: str, token: str, base_url: str, project_id: int, truth: dict[str, str], deadline: float,
    think: tuple[float, float], result: LoadResult, seed: int,
) -> None:
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as client:
        # Annotators arrive over the first think interval, not all in the same millisecond.
        await asyncio.sleep(rng.uniform(0, think[1]))
        while time.monotonic() < deadline:
            start = time.perf_counter()
            response = await client.post(f"/api/projects/{project_id}/queue/next")
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
            response = await client.post(
                f"/api/projects/{project_id}/records/{record['id']}/label", json={"value": value}
            )
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
    start = time.monotonic()
    deadline = start + seconds
    await asyncio.gather(
        *(
            _annotator(f"annotator{i}", token, base_url, project_id, truth, deadline, think, result, seed=i)
            for i, token in enumerate(tokens)
        )
    )
    result.duration = time.monotonic() - start
    return result


def run_load(
    base_url: str, project_id: int, tokens: list[str], truth: dict[str, str], seconds: float,
    think: tuple[float, float] = (0.2, 0.6),
) -> LoadResult:
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
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH", "")]))}
    process = subprocess.run(
        [sys.executable, "-m", "tests.server.loadgen", str(spec)], cwd=root, env=env,
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
