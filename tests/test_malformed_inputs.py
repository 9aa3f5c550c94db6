"""The catalogue of malformed inputs: each one is refused with one clear message, exit 2 or a 4xx, and nothing stored.

Three tables, one parametrised case each: the command line (``simulate``,
``resume``, ``report``, ``runs show`` against a store that already holds a
run), the Python API (loaders, schedules, pools, strategies, the store),
and the annotation server's import endpoints. Every case names what must be
in the message (the file, row, column or record id), and checks the store's
row counts (``Store.counts()``; for the server, its records and progress)
are the same afterwards.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from loopwise.cli.main import app
from loopwise.errors import LoopwiseError
from loopwise.storage import Store
from tests.dbfixtures import postgres_admin, store_url  # noqa: F401  (pytest fixtures)
from tests.server.conftest import admin, app_factory, client  # noqa: F401  (pytest fixtures)

runner = CliRunner(env={"COLUMNS": "200"})

# --- files -------------------------------------------------------------------------------------


def _frame(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {"id": [f"row{i}" for i in range(n)], "a": rng.normal(size=n).round(3), "b": rng.normal(size=n).round(3), "label": ["x", "y"] * (n // 2)}
    )


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode("utf-8")


def _with(frame: pd.DataFrame, row: int, column: str, value: Any) -> pd.DataFrame:
    frame = frame.copy()
    frame[column] = frame[column].astype(object)
    frame.loc[row, column] = value
    return frame


def _text_frame(n: int = 40) -> pd.DataFrame:
    return pd.DataFrame({"id": [f"t{i}" for i in range(n)], "text": [("good fine nice " if i % 2 else "bad poor awful ") + str(i) for i in range(n)], "label": ["pos", "neg"] * (n // 2)})


def _truncated_gzip() -> bytes:
    whole = gzip.compress(_csv(_frame(400)))
    return whole[: len(whole) // 2]


def _ragged() -> bytes:
    lines = _csv(_frame()).decode().splitlines()
    lines[9] += ",surplus,fields"
    return ("\n".join(lines) + "\n").encode()


def _latin1() -> bytes:
    frame = _text_frame()
    frame.loc[4, "text"] = "café crème brûlée"
    return frame.to_csv(index=False).encode("latin-1")


def _utf16() -> bytes:
    return _text_frame().to_csv(index=False).encode("utf-16")  # Python writes the BOM first


def _npz(**arrays: Any) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


FILES: dict[str, Callable[[], bytes]] = {
    "empty.csv": lambda: b"",
    "header_only.csv": lambda: b"id,a,b,label\n",
    "binary.csv": lambda: bytes(range(256)) * 8,
    "latin1.csv": _latin1,
    "utf16.csv": _utf16,
    "truncated.csv.gz": _truncated_gzip,
    "dup_ids.csv": lambda: _csv(_with(_frame(), 5, "id", "row2")),
    "no_label.csv": lambda: _csv(_frame().drop(columns="label")),
    "ragged.csv": _ragged,
    "nan.csv": lambda: _csv(_with(_frame(), 7, "b", np.nan)),
    "inf.csv": lambda: _csv(_with(_frame(), 3, "a", np.inf)),
    "one_class.csv": lambda: _csv(_frame().assign(label="x")),
    "missing_label.csv": lambda: _csv(_with(_frame(), 11, "label", np.nan)),
    "missing_id.csv": lambda: _csv(_with(_frame(), 6, "id", np.nan)),
    "odd_id.csv": lambda: _csv(_with(_frame(), 8, "id", "row\x008")),
    "bad_split.csv": lambda: _csv(_frame().assign(split=["train", "test", "holdout", "train"] * 10)),
    "bad_line.jsonl": lambda: b'{"id": "j0", "a": 1, "label": "x"}\n{"id": "j1", "a": 2, "label": "y"\n',
    "not_objects.jsonl": lambda: b'{"id": "j0", "a": 1, "label": "x"}\n[1, 2, 3]\n',
    "corrupt.parquet": lambda: b"PAR1" + bytes(100) + b"PAR1",
    "corrupt.npz": lambda: b"PK\x03\x04" + bytes(64),
    "ragged.npz": lambda: _npz(X=np.zeros((5, 3)), y=np.array([0, 1, 0])),
    "table.xlsx": lambda: b"not a spreadsheet",
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("malformed")
    for name, make in FILES.items():
        (folder / name).write_bytes(make())
    (folder / "empty_folder").mkdir()
    # A dataset folder in the shared layout whose meta.json declares the label set; row 13 is outside it.
    shared = folder / "labelset"
    shared.mkdir()
    (shared / "data.csv.gz").write_bytes(gzip.compress(_csv(_with(_frame(), 12, "label", "z"))))
    (shared / "meta.json").write_text(json.dumps({"name": "labelset", "task": "tabular", "label_names": ["x", "y"]}), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def used_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store that already holds one finished run, so 'unchanged' is checked against real content."""
    db = f"sqlite:///{tmp_path_factory.mktemp('db') / 'used.db'}"
    result = runner.invoke(app, ["simulate", "--data", "wine", "--strategy", "margin", "--seeds", "1", "--budget", "20", "--db", db])
    assert result.exit_code == 0, result.output
    return db


def _counts(db: str) -> dict[str, int]:
    store = Store.open(db)
    try:
        return store.counts()
    finally:
        store.close()


# --- the command line --------------------------------------------------------------------------

SIM = ["simulate", "--seeds", "1", "--initial", "6", "--batch", "6", "--budget", "18"]

# (id, arguments with {files}/{db} filled in, what the message must mention)
CLI_CASES: list[tuple[str, list[str], list[str]]] = [
    ("file-missing", [*SIM, "--data", "{files}/nope.csv"], ["nope.csv", "no such file"]),
    ("file-empty", [*SIM, "--data", "{files}/empty.csv"], ["empty.csv", "empty"]),
    ("file-header-only", [*SIM, "--data", "{files}/header_only.csv"], ["header_only.csv", "no data rows"]),
    ("file-binary", [*SIM, "--data", "{files}/binary.csv"], ["binary.csv"]),
    ("file-latin1", [*SIM, "--data", "{files}/latin1.csv"], ["latin1.csv", "UTF-8"]),
    ("file-utf16-bom", [*SIM, "--data", "{files}/utf16.csv"], ["utf16.csv", "UTF-16", "byte-order mark"]),
    ("file-truncated-gzip", [*SIM, "--data", "{files}/truncated.csv.gz"], ["truncated.csv.gz", "gzip"]),
    ("file-duplicate-ids", [*SIM, "--data", "{files}/dup_ids.csv"], ["dup_ids.csv", "row2"]),
    ("file-missing-label-column", [*SIM, "--data", "{files}/no_label.csv"], ["no_label.csv", "label"]),
    ("file-unknown-label-column", [*SIM, "--data", "{files}/nan.csv", "--label-column", "klass"], ["nan.csv", "klass"]),
    ("file-unknown-text-column", [*SIM, "--data", "{files}/dup_ids.csv", "--text-column", "body"], ["dup_ids.csv", "body"]),
    ("file-ragged-rows", [*SIM, "--data", "{files}/ragged.csv"], ["ragged.csv", "line 10", "Expected 4 fields"]),
    ("file-nan-feature", [*SIM, "--data", "{files}/nan.csv"], ["nan.csv", "b", "row7"]),
    ("file-inf-feature", [*SIM, "--data", "{files}/inf.csv"], ["inf.csv", "a", "row3"]),
    ("file-single-class", [*SIM, "--data", "{files}/one_class.csv"], ["one_class.csv", "x"]),
    ("file-missing-label-value", [*SIM, "--data", "{files}/missing_label.csv"], ["missing_label.csv", "row11", "label"]),
    ("file-missing-id-value", [*SIM, "--data", "{files}/missing_id.csv"], ["missing_id.csv", "row 7", "id"]),
    ("file-id-with-control-character", [*SIM, "--data", "{files}/odd_id.csv"], ["odd_id.csv", "row 9", "control character", "row\\x008"]),
    ("file-label-not-in-label-set", [*SIM, "--data", "{files}/labelset"], ["labelset", "row 13", "row12", "'z'", "label_names"]),
    ("file-bad-split-value", [*SIM, "--data", "{files}/bad_split.csv"], ["bad_split.csv", "holdout", "row 3"]),
    ("file-jsonl-broken-line", [*SIM, "--data", "{files}/bad_line.jsonl"], ["bad_line.jsonl", "line 2"]),
    ("file-jsonl-not-an-object", [*SIM, "--data", "{files}/not_objects.jsonl"], ["not_objects.jsonl", "line 2"]),
    ("file-corrupt-parquet", [*SIM, "--data", "{files}/corrupt.parquet"], ["corrupt.parquet"]),
    ("file-corrupt-npz", [*SIM, "--data", "{files}/corrupt.npz"], ["corrupt.npz"]),
    ("file-npz-ragged-arrays", [*SIM, "--data", "{files}/ragged.npz"], ["ragged.npz", "5", "3"]),
    ("file-unknown-format", [*SIM, "--data", "{files}/table.xlsx"], ["table.xlsx"]),
    ("file-empty-folder", [*SIM, "--data", "{files}/empty_folder"], ["empty_folder"]),
    ("setting-zero-batch", [*SIM, "--data", "wine", "--batch", "0"], ["--batch", "greater than or equal to 1"]),
    ("setting-negative-batch", [*SIM, "--data", "wine", "--batch", "-5"], ["--batch", "greater than or equal to 1"]),
    ("setting-zero-seeds", [*SIM, "--data", "wine", "--seeds", "0"], ["--seeds", "greater than or equal to 1"]),
    ("setting-zero-initial", [*SIM, "--data", "wine", "--initial", "0"], ["--initial", "greater than or equal to 1"]),
    ("setting-budget-below-initial", [*SIM, "--data", "wine", "--initial", "30", "--budget", "10"], ["budget", "10", "30"]),
    ("setting-budget-over-pool", [*SIM, "--data", "wine", "--budget", "100000"], ["budget", "100000", "pool"]),
    ("setting-unknown-strategy", [*SIM, "--data", "wine", "--strategy", "clairvoyant"], ["clairvoyant", "margin"]),
    ("setting-unknown-learner", [*SIM, "--data", "wine", "--learner", "oracle_net"], ["oracle_net", "logreg"]),
    ("setting-unknown-init", [*SIM, "--data", "wine", "--init", "kmeans"], ["--init", "kmeans"]),
    ("setting-init-ids-without-ids", [*SIM, "--data", "wine", "--init", "ids"], ["--init-ids"]),
    ("setting-unknown-retrain", [*SIM, "--data", "wine", "--retrain", "sometimes"], ["--retrain", "sometimes"]),
    ("setting-test-size-above-one", [*SIM, "--data", "wine", "--test-size", "1.5"], ["test_size", "1.5"]),
    ("setting-growth-below-one", [*SIM, "--data", "wine", "--growth", "0.5"], ["--growth", "greater than or equal to 1"]),
    ("setting-zero-max-pool", [*SIM, "--data", "wine", "--max-pool", "0"], ["max_pool", "0"]),
    ("setting-db-unknown-scheme", [*SIM, "--data", "wine", "--db", "nosuchdb://x/y"], ["nosuchdb://x/y"]),
    ("setting-db-folder-missing", [*SIM, "--data", "wine", "--db", "sqlite:////nonexistent/dir/x.db"], ["/nonexistent/dir/x.db"]),
    ("setting-db-not-a-url", [*SIM, "--data", "wine", "--db", "runs.db"], ["runs.db", "sqlite:///"]),
    ("id-resume-unknown-run", ["resume", "deadbeef0000", "--db", "{db}"], ["deadbeef0000"]),
    ("id-report-unknown-run", ["report", "deadbeef0000", "--out", "{files}/r.html", "--db", "{db}"], ["deadbeef0000"]),
    ("id-runs-show-unknown-run", ["runs", "show", "deadbeef0000", "--db", "{db}"], ["deadbeef0000"]),
    ("id-run-id-with-odd-characters", ["runs", "show", "../../etc/passwd\x1b[2J", "--db", "{db}"], ["etc/passwd"]),
]


@pytest.mark.parametrize(("args", "must_mention"), [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES])
def test_cli_refuses_with_one_clear_message(files: Path, used_db: str, args: list[str], must_mention: list[str]) -> None:
    filled = [a.replace("{files}", str(files)).replace("{db}", used_db) for a in args]
    if filled[0] == "simulate" and "--db" not in filled:
        filled += ["--db", used_db]
    before = _counts(used_db)
    result = runner.invoke(app, filled)
    message = result.output
    assert result.exit_code == 2, (filled, message, result.exception)
    assert "Traceback" not in message, message
    lines = [line for line in message.splitlines() if line.strip()]
    assert any(line.startswith(("error:", "Error", "Usage:", "Try", "╭", "│")) for line in lines), message
    for word in must_mention:
        assert word.replace("{files}", str(files)) in message, (word, message)
    assert _counts(used_db) == before
    assert not (files / "r.html").exists()


# --- the Python API ----------------------------------------------------------------------------


def _X(n: int = 50) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(n, 3)).astype(np.float32)


def _loop(X: Any = None, ids: Any = None, **kwargs: Any) -> Any:
    from sklearn.linear_model import LogisticRegression

    from loopwise.core import Pool
    from loopwise.learners import as_learner
    from loopwise.loop import FixedSchedule, Loop
    from loopwise.strategies import make_strategy

    X = _X() if X is None else X
    pool = Pool.new(np.arange(len(X)) if ids is None else ids, X)
    return Loop(pool, as_learner(LogisticRegression(), n_classes=2), make_strategy("margin"), FixedSchedule(10, 10, 30), seed=0, **kwargs)


def _record(labels: Callable[[int], np.ndarray]) -> None:
    loop = _loop()
    query = loop.propose()
    loop.record(labels(len(query.ids)))


def _with_nan(X: np.ndarray, row: int, col: int, value: float) -> np.ndarray:
    X = X.copy()
    X[row, col] = value
    return X


def _simulate(db: str, source: str, strategies: tuple[str, ...] = ("margin",), **kwargs: Any) -> None:
    from loopwise.experiments import simulate
    from loopwise.experiments._config import DataSpec
    from loopwise.loop import FixedSchedule

    store = Store.open(db)
    try:
        simulate(store, DataSpec(source=source), list(strategies), 1, FixedSchedule(6, 6, 18), **kwargs)
    finally:
        store.close()


def _with_store(db: str, action: Callable[[Any], Any]) -> None:
    store = Store.open(db)
    try:
        action(store)
    finally:
        store.close()


def _api_cases(files: Path, db: str) -> list[tuple[str, Callable[[], Any], str]]:
    from loopwise.data import load_dataset, split_pool_test
    from loopwise.distributed import LocalExecutor, make_executor
    from loopwise.experiments import load_results, resume_run
    from loopwise.loop import FixedSchedule, GeometricSchedule
    from loopwise.strategies import make_strategy

    return [
        ("load-empty-file", lambda: load_dataset(files / "empty.csv"), r"empty\.csv: the file is empty"),
        ("load-truncated-gzip", lambda: load_dataset(files / "truncated.csv.gz"), r"truncated\.csv\.gz: truncated or corrupt gzip"),
        ("load-utf16", lambda: load_dataset(files / "utf16.csv"), r"utf16\.csv: UTF-16"),
        ("load-jsonl-broken-line", lambda: load_dataset(files / "bad_line.jsonl"), r"bad_line\.jsonl, line 2: malformed JSON"),
        ("load-npz-ragged", lambda: load_dataset(files / "ragged.npz"), r"ragged\.npz"),
        ("load-odd-id", lambda: load_dataset(files / "odd_id.csv"), r"odd_id\.csv, row 9: record id .* control character"),
        ("split-test-size-zero", lambda: split_pool_test(load_dataset("wine"), test_size=0.0), r"test_size must be a fraction"),
        ("split-max-test-negative", lambda: split_pool_test(load_dataset("wine"), max_test=-1), r"max_test must be a positive integer"),
        ("schedule-zero-initial", lambda: FixedSchedule(0, 10, 100), r"initial size must be at least 1, got 0"),
        ("schedule-negative-batch", lambda: FixedSchedule(10, -1, 100), r"batch size must be at least 1, got -1"),
        ("schedule-budget-below-initial", lambda: FixedSchedule(30, 10, 10), r"budget \(10\) must be at least the initial size \(30\)"),
        ("schedule-shrinking-growth", lambda: GeometricSchedule(10, 10, 0.5, 100), r"growth >= 1.0, got 10 and 0.5"),
        ("pool-duplicate-ids", lambda: _loop(ids=np.array(["a", *map(str, range(48)), "a"])), r"duplicate record ids in pool: \['a'\]"),
        ("pool-ids-and-rows-differ", lambda: _loop(ids=np.arange(49)), r"49 record ids but 50 feature rows"),
        ("pool-nan-feature", lambda: _loop(X=_with_nan(_X(), 7, 1, np.nan)), r"NaN in record id '7', feature column 1"),
        ("pool-inf-feature", lambda: _loop(X=_with_nan(_X(), 3, 0, np.inf)), r"infinite value in record id '3', feature column 0"),
        ("loop-initial-over-pool", lambda: _loop(X=_X(8)), r"initial sample \(10\) is larger than the pool \(8 records\)"),
        ("loop-test-label-not-in-label-set", lambda: _loop(X_test=_X(), y_test=np.full(50, 5)), r"y_test row 0: label 5 is not in the label set"),
        ("loop-test-labels-and-rows-differ", lambda: _loop(X_test=_X(), y_test=np.zeros(40, dtype=int)), r"40 labels for 50 X_test rows"),
        ("record-wrong-count", lambda: _record(lambda n: np.zeros(3, dtype=int)), r"got 3 labels for a query of 10 records"),
        ("record-label-not-in-label-set", lambda: _record(lambda n: np.full(n, 7)), r"label out of range for record id '\d+': classes are 0..1"),
        ("record-negative-label", lambda: _record(lambda n: np.full(n, -3)), r"label out of range for record id"),
        ("strategy-unknown", lambda: make_strategy("clairvoyant"), r"unknown strategy 'clairvoyant'; known strategies: .*margin"),
        ("strategy-bad-parameter-value", lambda: make_strategy("kcenter", use="pixels"), r"use must be 'features' or 'embeddings', got 'pixels'"),
        ("strategy-unknown-parameter", lambda: make_strategy("margin", bogus=1), r"strategy 'margin': .*'bogus'"),
        ("executor-zero-partitions", lambda: LocalExecutor(0), r"n_partitions must be a positive integer, got 0"),
        ("executor-unknown", lambda: make_executor("spark"), r"executor must be one of local, ray"),
        ("store-unknown-scheme", lambda: Store.open("nosuchdb://x/y"), r"nosuchdb://x/y"),
        ("simulate-bad-file", lambda: _simulate(db, str(files / "nan.csv")), r"nan\.csv.*'b'.*row7|nan\.csv.*row7.*'b'"),
        ("simulate-unknown-strategy", lambda: _simulate(db, "wine", ("margin", "clairvoyant")), r"clairvoyant"),
        ("simulate-unknown-learner", lambda: _simulate(db, "wine", learner="oracle_net"), r"oracle_net"),
        ("resume-unknown-run", lambda: _with_store(db, lambda s: resume_run(s, "deadbeef0000")), r"deadbeef0000"),
        ("results-unknown-run", lambda: _with_store(db, lambda s: load_results(s, ["deadbeef0000"])), r"deadbeef0000"),
    ]


API_IDS = [c[0] for c in _api_cases(Path("."), "sqlite://")]


@pytest.mark.parametrize("case", API_IDS)
def test_python_api_refuses_with_one_clear_error(files: Path, used_db: str, case: str) -> None:
    action, pattern = {c[0]: c[1:] for c in _api_cases(files, used_db)}[case]
    before = _counts(used_db)
    with pytest.raises(LoopwiseError, match=pattern):
        action()
    assert _counts(used_db) == before


# --- the annotation server's import endpoints ---------------------------------------------------

_GOOD_HEADER = "id,text,label,split"


def _rows(*rows: str) -> bytes:
    return ("\n".join([_GOOD_HEADER, *rows]) + "\n").encode()


# (id, filename, content, form fields, what the 4xx's detail must mention)
SERVER_UPLOADS: list[tuple[str, str, Callable[[], bytes], dict[str, str], list[str]]] = [
    ("upload-empty-file", "empty.csv", lambda: b"", {}, ["empty.csv"]),
    ("upload-header-only", "header.csv", lambda: b"id,text\n", {}, ["header.csv"]),
    ("upload-binary", "binary.csv", lambda: bytes(range(256)) * 8, {}, ["binary.csv"]),
    ("upload-latin1", "latin1.csv", lambda: "id,text\nn1,café crème\n".encode("latin-1"), {}, ["latin1.csv", "utf-8"]),
    ("upload-utf16-bom", "utf16.csv", lambda: "id,text\nn1,hello\n".encode("utf-16"), {}, ["utf16.csv", "utf-8"]),
    ("upload-truncated-gzip", "part.csv.gz", lambda: gzip.compress(_rows(*(f"n{i},fine {i},," for i in range(300))))[:200], {}, ["part.csv.gz"]),
    ("upload-duplicate-ids", "dup.csv", lambda: _rows("n1,good,,", "n2,bad,,", "n1,again,,"), {}, ["dup.csv", "record 3", "'n1'", "repeats record 1"]),
    ("upload-missing-text-column", "body.csv", lambda: b"id,body\nn1,hello\nn2,there\n", {}, ["body.csv", "text"]),
    ("upload-unknown-id-column", "ids.csv", lambda: _rows("n1,good,,"), {"id_column": "key"}, ["ids.csv", "key"]),
    ("upload-ragged-rows", "ragged.csv", lambda: _rows("n1,good,,", "n2,bad,,,surplus,fields"), {}, ["ragged.csv"]),
    ("upload-test-label-not-in-label-set", "gold.csv", lambda: _rows("n1,good,,", "t1,fine,maybe,test"), {}, ["gold.csv", "t1", "maybe"]),
    ("upload-test-row-without-label", "nogold.csv", lambda: _rows("n1,good,,", "t1,fine,,test"), {}, ["nogold.csv", "t1"]),
    ("upload-id-with-control-character", "odd.csv", lambda: _rows("n1,good,,", "n\x002,bad,,"), {}, ["odd.csv", "record 2", "control character"]),
    ("upload-missing-id", "noid.csv", lambda: _rows("n1,good,,", ",bad,,"), {}, ["noid.csv"]),
    ("upload-jsonl-broken-line", "bad.jsonl", lambda: b'{"id": "j1", "text": "a"}\n{"id": "j2", "text": \n', {}, ["bad.jsonl", "line 2"]),
    ("upload-jsonl-not-an-object", "list.jsonl", lambda: b'{"id": "j1", "text": "a"}\n[1, 2]\n', {}, ["list.jsonl", "line 2"]),
    ("upload-corrupt-parquet", "broken.parquet", lambda: b"PAR1" + bytes(100) + b"PAR1", {}, ["broken.parquet"]),
    ("upload-corrupt-zip", "images.zip", lambda: b"PK\x03\x04" + bytes(64), {}, ["zip", "image project"]),
    ("upload-unknown-format", "table.xlsx", lambda: b"not a spreadsheet", {}, ["table.xlsx"]),
]


def _server_state(admin: Any, pid: int) -> tuple[Any, ...]:
    records = admin.get(f"/api/projects/{pid}/records?limit=200").json()
    progress = admin.get(f"/api/projects/{pid}/progress").json()
    projects = admin.get("/api/projects").json()
    return records["count"], json.dumps(records["data"], sort_keys=True), json.dumps(progress, sort_keys=True), projects["count"]


@pytest.fixture
def text_project(admin: Any) -> int:
    from tests.server.conftest import make_project

    return int(make_project(admin, "malformed", rows=6, test_rows=2)["id"])


@pytest.mark.parametrize(("filename", "content", "form", "must_mention"), [c[1:] for c in SERVER_UPLOADS], ids=[c[0] for c in SERVER_UPLOADS])
def test_server_import_upload_refuses_with_a_4xx(
    admin: Any, text_project: int, filename: str, content: Callable[[], bytes], form: dict[str, str], must_mention: list[str]
) -> None:
    before = _server_state(admin, text_project)
    response = admin.post(f"/api/projects/{text_project}/import/upload", files={"file": (filename, content())}, data=form)
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    detail = json.dumps(response.json().get("detail"))
    for word in must_mention:
        assert word in detail, (word, detail)
    assert _server_state(admin, text_project) == before


SERVER_OTHER: list[tuple[str, str, str, Any, int, list[str]]] = [
    ("path-missing-file", "POST", "/import/path", {"path": "nope.csv"}, 422, ["nope.csv", "no such file"]),
    ("path-outside-import-folder", "POST", "/import/path", {"path": "../../etc/passwd"}, 403, ["../../etc/passwd"]),
    ("path-absolute", "POST", "/import/path", {"path": "/etc/passwd"}, 403, ["/etc/passwd"]),
    ("path-unknown-field", "POST", "/import/path", {"path": "a.csv", "sheet": 2}, 422, ["sheet"]),
    ("upload-without-file", "POST", "/import/upload", None, 422, ["file"]),
    ("upload-to-unknown-project", "POST", "!/api/projects/424242/import/upload", ("r.csv", b"id,text\nn1,a\n"), 404, ["424242"]),
    ("upload-to-project-id-beyond-integer", "POST", "!/api/projects/99999999999999999999/import/upload", ("r.csv", b"id,text\nn1,a\n"), 422, ["2147483647"]),
]


@pytest.mark.parametrize(("method", "url", "body", "status", "must_mention"), [c[1:] for c in SERVER_OTHER], ids=[c[0] for c in SERVER_OTHER])
def test_server_import_endpoints_refuse_bad_requests(
    admin: Any, text_project: int, method: str, url: str, body: Any, status: int, must_mention: list[str]
) -> None:
    before = _server_state(admin, text_project)
    full = url[1:] if url.startswith("!") else f"/api/projects/{text_project}{url}"
    if url.endswith("/upload"):
        response = admin.request(method, full, files=None if body is None else {"file": body})
    else:
        response = admin.request(method, full, json=body)
    assert response.status_code == status, (response.status_code, response.text)
    detail = json.dumps(response.json().get("detail"))
    for word in must_mention:
        assert word in detail, (word, detail)
    assert _server_state(admin, text_project) == before


@pytest.mark.parametrize("held_out", ["dev", "validation", "val"])
def test_server_import_holds_out_dev_rows_as_test_rows(admin: Any, text_project: int, held_out: str) -> None:
    # The same reading of a split column as loopwise.data's: dev/val/validation rows are evaluation data.
    response = admin.post(
        f"/api/projects/{text_project}/import/upload",
        files={"file": ("glue.csv", _rows("g1,good fine,,train", f"g2,great,pos,{held_out}", f"g3,awful,neg,{held_out}"))},
    )
    assert response.status_code == 201 and response.json() == {"n_read": 3, "n_added": 3, "n_test": 2, "n_labels": 0, "n_predictions": 0}, response.text
    unlabelled = admin.post(
        f"/api/projects/{text_project}/import/upload", files={"file": ("nogold.csv", _rows(f"g4,fine,,{held_out}"))}
    )
    assert unlabelled.status_code == 422 and "'g4'" in unlabelled.text and "needs a label" in unlabelled.text
