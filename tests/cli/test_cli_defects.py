"""Command-line defects of issue 8 (item 14): --init ids, bench --doc, runs list ids and --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loopwise.cli.main import app
from loopwise.data import load_dataset, split_pool_test
from loopwise.storage import Store


def _invoke(*args: str, columns: int = 200):
    return CliRunner(env={"COLUMNS": str(columns)}).invoke(app, list(args), catch_exceptions=False)


@pytest.fixture()
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'lw.db'}"


def _counts(db: str) -> dict[str, int]:
    store = Store.open(db)
    try:
        return store.counts()
    finally:
        store.close()


def _wine_pool_ids(n: int) -> list[str]:
    dataset = load_dataset("wine")
    pool, _ = split_pool_test(dataset)
    return [str(i) for i in dataset.ids[pool][:n]]


WINE = ("simulate", "--data", "wine", "--strategy", "margin", "--seeds", "1", "--batch", "5", "--budget", "15")


def test_init_ids_without_ids_is_one_clear_error(db: str) -> None:
    # It ended in "TypeError: GivenIds.__init__() missing 1 required positional argument".
    result = _invoke(*WINE, "--initial", "5", "--init", "ids", "--db", db)
    assert result.exit_code == 2, result.output
    assert "--init ids needs the record ids" in result.output and "--init-ids" in result.output
    assert "Traceback" not in result.output


def test_init_ids_starts_loop_zero_with_the_given_ids(db: str, tmp_path: Path) -> None:
    ids = _wine_pool_ids(5)[::-1]
    listed = tmp_path / "ids.txt"
    listed.write_text("\n".join(ids) + "\n", encoding="utf-8")
    for given in (",".join(ids), f"@{listed}"):
        result = _invoke(*WINE, "--initial", "5", "--init", "ids", "--init-ids", given, "--db", db)
        assert result.exit_code == 0, result.output
    store = Store.open(db)
    try:
        runs = store.list_runs()
        assert len(runs) == 2
        for run in runs:
            assert [str(i) for i in store.loops(run.id)[0].selected_ids] == ids
            assert run.config["initializer"] == {"kind": "GivenIds", "record_ids": ids}
    finally:
        store.close()


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--init", "ids", "--init-ids", "1,2"], "gives 2 record ids but --initial is 5"),
        (["--init", "ids", "--init-ids", " , "], "holds no record ids"),
        (["--init", "ids", "--init-ids", "@/nonexistent/ids.txt"], "no such file /nonexistent/ids.txt"),
        (["--init", "random", "--init-ids", "1,2,4,5,7"], "--init-ids is only used with --init ids"),
        (["--init", "kmeans"], "--init must be one of random, diverse"),
        (["--init", "ids", "--init-ids", "1,2,4,5,nope"], "not in the pool: ['nope']"),
    ],
    ids=["count-mismatch", "empty-list", "missing-file", "ids-without-init-ids", "unknown-init", "id-not-in-pool"],
)
def test_bad_init_options_are_named(db: str, extra: list[str], says: str) -> None:
    result = _invoke(*WINE, "--initial", "5", *extra, "--db", db)
    assert result.exit_code == 2, result.output
    assert says in result.output and "Traceback" not in result.output
    assert _counts(db).get("runs", 0) == 0


def test_bench_doc_missing_file_is_refused_before_any_cell_runs(tmp_path: Path) -> None:
    # It ran the whole plan and then ended in a FileNotFoundError traceback.
    results, out = tmp_path / "results", tmp_path / "out"
    missing = tmp_path / "nope.md"
    result = _invoke("bench", "quality", "--results", str(results), "--out", str(out), "--doc", str(missing))
    assert result.exit_code == 2, result.output
    assert f"--doc {missing}: no such file" in result.output and "Traceback" not in result.output
    assert not results.exists() and not out.exists()


def test_bench_doc_without_markers_is_refused_before_any_cell_runs(tmp_path: Path) -> None:
    doc = tmp_path / "plain.md"
    doc.write_text("# results\n", encoding="utf-8")
    result = _invoke("bench", "quality", "--results", str(tmp_path / "r"), "--out", str(tmp_path / "o"), "--doc", str(doc))
    assert result.exit_code == 2 and "has no generated-tables markers" in result.output
    assert doc.read_text(encoding="utf-8") == "# results\n"


def test_runs_list_gives_full_ids_in_a_narrow_terminal_and_as_json(db: str) -> None:
    assert _invoke(*WINE, "--seeds", "2", "--db", db).exit_code == 0
    store = Store.open(db)
    try:
        stored = [r.id for r in store.list_runs()]
    finally:
        store.close()
    for columns in (80, 40):
        listed = _invoke("runs", "list", "--db", db, columns=columns)
        assert listed.exit_code == 0
        for run_id in stored:
            assert run_id in listed.output, (columns, run_id, listed.output)
        assert "…" not in listed.output
    as_json = _invoke("runs", "list", "--json", "--db", db, columns=40)
    assert as_json.exit_code == 0
    rows = json.loads(as_json.output)
    assert [r["id"] for r in rows] == stored
    assert {r["name"] for r in rows} == {"margin seed 0", "margin seed 1"}
    assert all(r["labels"] == 15 and r["status"] == "finished" and 0.0 <= r["accuracy"] <= 1.0 for r in rows)
    # The id read off the list is the one resume and report take.
    assert _invoke("report", rows[0]["id"], "--out", str(Path(db[len("sqlite:///"):]).parent / "r.html"), "--db", db).exit_code == 0


def test_runs_list_json_of_an_empty_store(db: str) -> None:
    result = _invoke("runs", "list", "--json", "--db", db)
    assert result.exit_code == 0 and json.loads(result.output) == []
