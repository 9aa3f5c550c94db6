"""`loopwise bench server` and `serve --workers` refuse bad settings with one line and exit 2, before starting anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from loopwise.cli.main import app


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner(env=env).invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_bench_server_refuses_an_unknown_store(tmp_path: Path) -> None:
    out = tmp_path / "server_load.json"
    code, output = _run("bench", "server", "--store", "mysql", "--out", str(out))
    assert code == 2
    assert "--store must be sqlite or postgresql, got 'mysql'" in output
    assert not out.exists()


def test_bench_server_refuses_postgresql_without_a_url(tmp_path: Path) -> None:
    out = tmp_path / "server_load.json"
    code, output = _run(
        "bench", "server", "--store", "postgresql", "--out", str(out), env={"LOOPWISE_TEST_POSTGRES_URL": ""}
    )
    assert code == 2
    assert "--store postgresql needs --postgres URL or LOOPWISE_TEST_POSTGRES_URL" in output
    assert not out.exists()


@pytest.mark.parametrize("workers", ["0", "-1"])
def test_serve_refuses_fewer_than_one_worker(tmp_path: Path, workers: str) -> None:
    code, output = _run("serve", "--db", f"sqlite:///{tmp_path / 'x.db'}", "--workers", workers)
    assert code == 2
    assert "--workers" in output
    assert not (tmp_path / "x.db").exists()


def test_bench_server_refuses_an_unknown_client(tmp_path: Path) -> None:
    out = tmp_path / "server_load.json"
    code, output = _run("bench", "server", "--store", "sqlite", "--client", "curl", "--out", str(out))
    assert code == 2
    assert "--client must be one of raw, httpx, got 'curl'" in output
    assert not out.exists()
