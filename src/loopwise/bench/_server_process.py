"""A real ``loopwise serve`` in a subprocess on a free loopback port: start it, wait for it, measure its CPU.

Used by the load benchmark (:class:`ServerProcess`) and by the suite's live-server fixtures
(tests/server/live.py), which share :func:`free_port` and :func:`wait_until_serving`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ADMIN_PASSWORD = "admin-password-for-the-load-benchmark"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_serving(
    process: subprocess.Popen[bytes], url: str, log_path: Path, timeout: float, *, workers: int = 1
) -> bool:
    """Wait until the server at ``url`` answers ``/login`` and every worker has logged its start-up.

    Raises RuntimeError (with the log's tail) if the process exits first; False if ``timeout`` passed.
    Counting the workers' start-up lines means none is still importing when a measurement begins.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{_tail(log_path)}")
        try:
            started = workers <= 1 or _tail(log_path, None).count("Application startup complete") >= workers
            if started and httpx.get(f"{url}/login", timeout=1.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return False


def _tail(log_path: Path, size: int | None = 4000) -> str:
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    return text if size is None else text[-size:]


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
        if not wait_until_serving(self.process, self.url, self.log_path, 90.0, workers=self.workers):
            self.__exit__()
            raise RuntimeError(f"the server did not answer within 90 s:\n{_tail(self.log_path)}")
        return self

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
