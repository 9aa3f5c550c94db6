"""`loopwise teach` in a real pseudo-terminal (label, Ctrl-C, resume) and its bad inputs; `loopwise export`."""

from __future__ import annotations

import csv
import os
import signal
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from loopwise.cli.main import app
from loopwise.storage import AnnotationRepository, Store

pexpect = pytest.importorskip("pexpect")

SMS = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "sms_spam" / "data.csv.gz"
SMS = SMS if SMS.exists() else Path("/work/shared/datasets/sms_spam/data.csv.gz")
LOOPWISE = str(Path(sys.executable).with_name("loopwise"))
KEYS_LINE = r"\[q\]uit"
ANSI = r"(?:\x1b\[[\d;]*m)*"  # rich's styles around a word


@pytest.fixture()
def sms(tmp_path: Path) -> Path:
    """30 real SMS messages, unlabelled: an id and a text column."""
    if not SMS.exists():
        pytest.skip("the shared sms_spam dataset is not here")
    frame = pd.read_csv(SMS).head(30)
    path = tmp_path / "sms.csv"
    frame[["id", "text"]].to_csv(path, index=False)
    return path


def _labels_in_store(db: str) -> dict[str, str]:
    store = Store.open(db)
    try:
        repo = AnnotationRepository(store)
        (project,) = [p for p in repo.list_projects() if p.name == "teach:sms"]
        return {label.external_id: label.value for label in repo.current_labels(project.id)}
    finally:
        store.close()


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _teach(path: Path, db: str, *, sigint_ignored: bool = False):
    """The command in a pseudo-terminal; ``sigint_ignored`` starts it as a shell's background job would (`nohup ... &`)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "COLUMNS": "100", "TERM": "xterm"}
    return pexpect.spawn(
        LOOPWISE, ["teach", str(path), "--text-column", "text", "--labels", "ham,spam", "--db", db],
        env=env, encoding="utf-8", timeout=120, dimensions=(40, 100),
        preexec_fn=_ignore_sigint if sigint_ignored else None,
    )


def _label(child, key: str) -> tuple[str, str]:
    """Wait for the keys line, press ``key``, return the (record id, label) the command acknowledged."""
    child.expect(KEYS_LINE)
    child.send(key)
    child.expect(r"labelled (\S+): (ham|spam)")
    return child.match.group(1), child.match.group(2)


def test_teach_labels_five_is_interrupted_resumes_and_labels_five_more(sms: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'teach.db'}"
    given: dict[str, str] = {}
    child = _teach(sms, db, sigint_ignored=True)  # Ctrl-C must stop it even so
    for key in "12121":
        record_id, value = _label(child, key)
        given[record_id] = value
    child.expect(KEYS_LINE)  # the sixth record is on screen (after the retrain of the first batch)
    child.sendintr()
    child.expect("interrupted: 5 of 30 records labelled")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert _labels_in_store(db) == given

    child = _teach(sms, db)
    child.expect(rf"suggestion: {ANSI}(ham|spam){ANSI} \((0\.\d\d|1\.00)\)")  # a model exists now: its prediction is shown
    suggested = child.match.group(1)
    record_id, value = _label(child, "\r")  # Enter accepts the suggestion
    assert value == suggested
    given[record_id] = value
    for key in "2u1":  # u takes back the 2: the record comes back and is labelled 1
        if key == "u":
            child.expect(KEYS_LINE)
            child.send("u")
            child.expect(r"undone \(label\): (\S+) is back")
            assert child.match.group(1) == record_id
            continue
        undone = record_id
        record_id, value = _label(child, key)
        assert key == "2" or record_id == undone
        given[record_id] = value
    child.expect(KEYS_LINE)  # s skips the record on screen; u then takes back the skip, not a label
    child.send("s")
    child.expect(r"skipped (\S+)")
    skipped: str | None = child.match.group(1)
    child.expect(KEYS_LINE)
    child.send("u")
    child.expect(r"undone \(skip\): (\S+) is back")
    assert child.match.group(1) == skipped
    for key in "212":
        record_id, value = _label(child, key)
        given[record_id] = value
        if skipped is not None:  # the record whose skip was undone is the one labelled next
            assert record_id == skipped
            skipped = None
    child.expect(KEYS_LINE)
    child.send("q")
    child.expect("stopped: 10 of 30 records labelled")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert len(given) == 10
    assert _labels_in_store(db) == given

    out = tmp_path / "labels.csv"
    result = CliRunner().invoke(app, ["export", "--project", "teach:sms", "--out", str(out), "--db", db])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["label"]]
    assert {row["id"]: row["label"] for row in rows} == given


def _bad(tmp_path: Path, *args: str) -> tuple[int, str, Path]:
    db_file = tmp_path / "bad.db"
    result = CliRunner().invoke(app, ["teach", *args, "--db", f"sqlite:///{db_file}"])
    return result.exit_code, result.output, db_file


def test_teach_refuses_a_missing_file(tmp_path: Path) -> None:
    code, output, db_file = _bad(tmp_path, str(tmp_path / "nope.csv"), "--labels", "a,b")
    assert code == 2 and "nope.csv: no such file" in output
    assert not db_file.exists()


def test_teach_refuses_a_missing_text_column(sms: Path, tmp_path: Path) -> None:
    code, output, db_file = _bad(tmp_path, str(sms), "--text-column", "body", "--labels", "ham,spam")
    assert code == 2 and "no text column 'body'" in output
    assert not db_file.exists()


@pytest.mark.parametrize("labels", ["", " , ", "ham", "ham,ham"])
def test_teach_refuses_empty_or_repeated_labels(sms: Path, tmp_path: Path, labels: str) -> None:
    code, output, db_file = _bad(tmp_path, str(sms), "--text-column", "text", "--labels", labels)
    assert code == 2 and "--labels" in output
    assert not db_file.exists()


def test_teach_refuses_a_label_column_that_conflicts(tmp_path: Path) -> None:
    if not SMS.exists():
        pytest.skip("the shared sms_spam dataset is not here")
    path = tmp_path / "labelled.csv"
    pd.read_csv(SMS).head(10).to_csv(path, index=False)  # its label column holds ham and spam
    code, output, db_file = _bad(tmp_path, str(path), "--text-column", "text", "--labels", "pos,neg")
    assert code == 2
    assert "labelled.csv, record '0', column 'label': label 'ham' is not one of --labels" in output
    assert not db_file.exists()


def test_teach_refuses_other_classes_for_an_existing_project(sms: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'teach.db'}"
    first = CliRunner().invoke(app, ["teach", str(sms), "--text-column", "text", "--labels", "ham,spam", "--db", db], input="1q")
    assert first.exit_code == 0 and "stopped: 1 of 30 records labelled" in first.output
    before = _labels_in_store(db)
    result = CliRunner().invoke(app, ["teach", str(sms), "--text-column", "text", "--labels", "a,b,c", "--db", db])
    assert result.exit_code == 2 and "has classes ['ham', 'spam']" in result.output
    assert _labels_in_store(db) == before and len(before) == 1


def test_a_failing_retrain_is_shown_and_labelling_goes_on(tmp_path: Path) -> None:
    # Texts without a word: fitting TF-IDF fails for real ("empty vocabulary") at the first retrain.
    path = tmp_path / "marks.jsonl"
    path.write_text("".join(f'{{"id": "m{i}", "text": "{"!?."[i % 3] * (i + 1)}"}}\n' for i in range(6)), encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'teach.db'}"
    args = ["teach", str(path), "--text-column", "text", "--labels", "a,b", "--batch", "2", "--db", db]
    result = CliRunner().invoke(app, args, input="12" + "1q")
    assert result.exit_code == 0, result.output
    assert "retrain failed" in result.output and "empty vocabulary" in result.output
    assert "stopped: 3 of 6 records labelled" in result.output
    store = Store.open(db)
    try:
        repo = AnnotationRepository(store)
        (project,) = repo.list_projects()
        assert len(repo.current_labels(project.id)) == 3
        failure = repo.retrain_failure(project.id)
        assert failure is not None and "empty vocabulary" in failure.message
    finally:
        store.close()
