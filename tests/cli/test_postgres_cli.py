"""The command line on a real PostgreSQL: --artifacts, $LOOPWISE_ARTIFACTS and the default folder.

Each PostgreSQL case gets a fresh schema of its own (tests/dbfixtures.py ``store_url``), skipped when
LOOPWISE_TEST_POSTGRES_URL is unset (start one with ``eval "$(bash .ci/postgres.sh)"``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loopwise.cli.main import app
from loopwise.storage import Store

runner = CliRunner(env={"COLUMNS": "200"})
postgres_only = pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)


def _invoke(*args: str):  # noqa: ANN202 - typer's Result
    return runner.invoke(app, list(args), catch_exceptions=False)


def _simulate(db: str, *extra: str):  # noqa: ANN202 - typer's Result
    return _invoke(
        "simulate", "--data", "digits", "--strategy", "margin", "--seeds", "1", "--max-pool", "300",
        "--initial", "10", "--batch", "10", "--budget", "30", "--db", db, *extra,
    )


@pytest.fixture(autouse=True)
def _no_artifacts_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOOPWISE_ARTIFACTS", raising=False)


@postgres_only
def test_simulate_list_show_report_resume_on_postgres(store_url: str, tmp_path: Path) -> None:
    artifacts = tmp_path / "pg-artifacts"
    result = _simulate(store_url, "--artifacts", str(artifacts))
    assert result.exit_code == 0, result.output
    assert "artifacts_dir is required" not in result.output
    assert any(artifacts.rglob("*")), "simulate wrote no arrays into --artifacts"

    listed = _invoke("runs", "list", "--json", "--db", store_url, "--artifacts", str(artifacts))
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert len(rows) == 1 and rows[0]["status"] == "finished" and rows[0]["labels"] == 30
    run_id = rows[0]["id"]

    shown = _invoke("runs", "show", run_id, "--db", store_url, "--artifacts", str(artifacts))
    assert shown.exit_code == 0, shown.output
    assert run_id in shown.output and "macro F1" in shown.output

    out, out_json = tmp_path / "report.html", tmp_path / "report.json"
    reported = _invoke("report", run_id, "--out", str(out), "--json", str(out_json),
                       "--db", store_url, "--artifacts", str(artifacts))
    assert reported.exit_code == 0, reported.output
    assert out.stat().st_size > 10_000
    assert "margin" in out_json.read_text()

    # resume opens the store and reads the run: a finished one is refused by name, not the URL.
    resumed = _invoke("resume", run_id, "--db", store_url, "--artifacts", str(artifacts))
    assert resumed.exit_code == 2, resumed.output
    assert "already finished" in resumed.output and "artifacts_dir" not in resumed.output


@postgres_only
def test_artifacts_env_var_and_default_folder_on_postgres(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_env = tmp_path / "from-env"
    monkeypatch.setenv("LOOPWISE_ARTIFACTS", str(from_env))
    assert _simulate(store_url).exit_code == 0
    assert any(from_env.rglob("*")), "$LOOPWISE_ARTIFACTS was not used"

    monkeypatch.delenv("LOOPWISE_ARTIFACTS")
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    listed = _invoke("runs", "list", "--json", "--db", store_url)
    assert listed.exit_code == 0, listed.output
    assert len(json.loads(listed.output)) == 1
    assert (workdir / "loopwise-artifacts").is_dir(), "no ./loopwise-artifacts default for PostgreSQL"


def test_sqlite_keeps_its_artifacts_beside_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    db = f"sqlite:///{tmp_path / 'lw.db'}"
    result = _simulate(db)
    assert result.exit_code == 0, result.output
    assert any((tmp_path / "lw.artifacts").rglob("*"))
    assert not (tmp_path / "loopwise-artifacts").exists()
    store = Store.open(db)
    try:
        assert store.artifacts_dir == (tmp_path / "lw.artifacts").resolve()
    finally:
        store.close()


def test_help_names_the_artifacts_default() -> None:
    for command in (["simulate"], ["resume"], ["report"], ["runs", "list"], ["runs", "show"]):
        shown = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "400"})
        assert shown.exit_code == 0, shown.output
        assert "--artifacts" in shown.output and "loopwise-artifacts" in shown.output, command
