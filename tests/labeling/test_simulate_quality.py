"""`simulate --noise/--annotators/--audit` end to end: the run stores noisy labels, audits them, and refuses bad settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from loopwise.cli.main import app
from loopwise.core.records import Query
from loopwise.errors import ConfigError
from loopwise.labeling import AnnotatorPanel
from loopwise.labeling._simulate import PanelOracle, check_quality_spec
from loopwise.storage import Store

runner = CliRunner(env={"COLUMNS": "200"})
COMMON = ["--data", "digits", "--strategy", "margin", "--seeds", "1", "--initial", "30", "--batch", "30", "--budget", "90", "--max-pool", "400", "--max-test", "200"]


def _labels_and_config(db: str) -> tuple[dict, int]:
    store = Store.open(db)
    try:
        (run,) = store.list_runs()
        return run.config, sum(len(loop.selected_ids) for loop in store.loops(run.id))
    finally:
        store.close()


def test_simulate_with_noise_and_audit_records_the_settings(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'lw.db'}"
    result = runner.invoke(app, ["simulate", *COMMON, "--noise", "0.2", "--audit", "--db", db], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    config, n_labels = _labels_and_config(db)
    assert config["label_quality"] == {"noise": 0.2, "noise_kind": "uniform", "annotators": [], "consensus": "dawid_skene", "audit": True}
    assert n_labels == 90


def test_panel_oracle_trusts_the_good_annotator(digits_split: tuple) -> None:
    _, _, y, _ = digits_split
    oracle = PanelOracle(AnnotatorPanel(y, 10, (0.9, 0.75, 0.6), seed=3))
    positions = np.arange(len(y))
    labels = oracle.collect(Query(loop_index=0, positions=positions, ids=positions.astype(str), scores=np.zeros(len(y))))
    assert (labels == y).mean() > 0.9
    assert list(np.argsort(-oracle.annotator_quality)) == [0, 1, 2]
    second = oracle.answer(positions[:200], 0, attempt=1)
    assert (second >= 0).all() and abs((second == y[:200]).mean() - 0.9) < 0.07


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--noise", "1.5"], "--noise must be"), (["--annotators", "0.9,x"], "comma-separated"), (["--annotators", "0.9,0.7", "--noise", "0.1"], "not both")],
)
def test_bad_quality_options_fail_before_anything_is_stored(tmp_path: Path, args: list[str], message: str) -> None:
    db = f"sqlite:///{tmp_path / 'lw.db'}"
    result = runner.invoke(app, ["simulate", *COMMON, *args, "--db", db])
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "lw.db").exists() or not Store.open(db).list_runs()


def test_unknown_quality_setting_is_named() -> None:
    with pytest.raises(ConfigError, match="unknown label-quality settings"):
        check_quality_spec({"noize": 0.1})
