"""A real `loopwise serve` in a subprocess on a free loopback port, for browser, load and crash tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from loopwise.bench import server_load
from loopwise.bench.server_load import free_port, wait_until_serving

ADMIN_PASSWORD = "admin-password-for-tests"
__all__ = ["ADMIN_PASSWORD", "LiveServer", "admin_client", "free_port", "make_annotators"]


class LiveServer:
    """``loopwise serve --db URL`` on 127.0.0.1; ``kill9()`` ends it the hard way."""

    def __init__(
        self, db_url: str, workdir: Path, *, artifacts: Path | None = None, port: int | None = None,
        secret_key: str | None = "a-fixed-secret-key-for-the-tests",
    ) -> None:
        self.db_url = db_url
        self.secret_key = secret_key
        self.workdir = workdir
        self.artifacts = artifacts
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / f"server-{self.port}.log"

    def start(self, timeout: float = 60.0) -> LiveServer:
        env = {
            **os.environ,
            "LOOPWISE_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "PYTHONUNBUFFERED": "1",
        }
        # None: the server keeps its own secret with the store, as it does by default.
        env.pop("LOOPWISE_SECRET_KEY", None)
        if self.secret_key is not None:
            env["LOOPWISE_SECRET_KEY"] = self.secret_key
        command = [
            sys.executable, "-m", "loopwise.cli.main", "serve", "--db", self.db_url, "--host", "127.0.0.1",
            "--port", str(self.port), "--import-dir", str(self.workdir / "imports"),
        ]
        if self.artifacts is not None:
            command += ["--artifacts", str(self.artifacts)]
        (self.workdir / "imports").mkdir(exist_ok=True)
        log = self.log_path.open("ab")
        # Its own process group, so the retraining child goes too when the test cleans up.
        self.process = subprocess.Popen(
            command, cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        if wait_until_serving(self.process, self.url, self.log_path, timeout):
            return self
        self.stop()
        raise RuntimeError(f"the server did not answer within {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill9(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._kill_group()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            self._kill_group()
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self._kill_group()

    def _kill_group(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def admin_client(server: LiveServer) -> httpx.Client:
    """A client signed in as the admin with an API token (no cookie, so no CSRF token needed)."""
    return server_load.admin_client(server.url, ADMIN_PASSWORD)


def make_annotators(admin: httpx.Client, project_id: int, n: int, prefix: str = "annotator") -> list[str]:
    """``n`` annotators in the project, each with an API token; returns the tokens."""
    tokens = []
    for i in range(n):
        user = admin.post("/api/users", json={"name": f"{prefix}{i}", "role": "annotator", "password": f"password-{i}"})
        user.raise_for_status()
        admin.post(f"/api/projects/{project_id}/members", json={"user_id": user.json()["id"]}).raise_for_status()
        token = admin.post(f"/api/users/{user.json()['id']}/token")
        token.raise_for_status()
        tokens.append(token.json()["token"])
    return tokens
