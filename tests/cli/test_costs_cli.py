"""`simulate --label-cost/--cost-per-class/--compute-rate` and the ledger totals of `runs show`, end to end."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from loopwise.cli.main import app
from loopwise.storage import Store

runner = CliRunner(env={"COLUMNS": "200"})


def _invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_prices_reach_the_store_the_json_and_runs_show(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    out = tmp_path / "c.json"
    result = _invoke("simulate", "--data", "wine", "--strategy", "margin", "--seeds", "1", "--initial", "6",
                     "--batch", "6", "--budget", "18", "--label-cost", "2", "--cost-per-class", "class_1=10",
                     "--compute-rate", "7.5", "--db", db, "--json", str(out))
    assert result.exit_code == 0, result.output
    with Store.open(db) as store:
        (run,) = store.list_runs()
        assert run.config["compute_rate"] == 7.5 and run.config["cost_per_class"] == {"class_1": 10.0}
        label_cost = sum(loop.label_cost for loop in store.loops(run.id))
    data = json.loads(out.read_text())
    totals = data["costs"]["runs"][run.id]
    assert totals["label_cost"] == label_cost and totals["labels"] == 18
    assert label_cost >= 36.0  # at least 2 a label, 10 for class_1
    shown = _invoke("runs", "show", run.id, "--db", db)
    assert shown.exit_code == 0, shown.output
    line = next(line for line in shown.output.splitlines() if line.startswith("ledger:"))
    assert f"18 labels cost {label_cost:,.2f}" in line
    assert "at 7.5 per CPU hour" in line and "GPU none" in line
    cpu = float(re.search(r"CPU ([0-9.]+) s", line).group(1))
    assert cpu == round(totals["cpu_seconds"], 3) and cpu > 0


def test_a_price_for_an_unknown_class_exits_2_and_stores_nothing(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'bad.db'}"
    result = _invoke("simulate", "--data", "wine", "--strategy", "margin", "--seeds", "1", "--initial", "6",
                     "--batch", "6", "--budget", "18", "--cost-per-class", "class_7=3", "--db", db)
    assert result.exit_code == 2
    assert "cost per class names ['class_7'], which are not classes of this data" in result.output
    with Store.open(db) as store:
        assert store.list_runs() == []


def test_adaptive_batch_and_cost_aware_stopping_are_stored_in_the_run(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    result = _invoke("simulate", "--data", "wine", "--strategy", "margin", "--seeds", "1", "--initial", "6",
                     "--batch", "4", "--budget", "60", "--adaptive-batch", "20", "--stop-value-per-point", "0.5",
                     "--db", db)
    assert result.exit_code == 0, result.output
    with Store.open(db) as store:
        (run,) = store.list_runs()
        assert run.config["schedule"]["kind"] == "AdaptiveSchedule" and run.config["schedule"]["max_batch"] == 20
        (rule,) = run.config["stopping"]["criteria"]
        assert rule["kind"] == "CostAwareStop" and rule["value_per_point"] == 0.5
        sizes = [b.n_labelled - a.n_labelled for a, b in zip(store.loops(run.id), store.loops(run.id)[1:])]
    assert sizes and min(sizes) >= 1 and max(sizes) <= 20
