"""`loopwise simulate --data conll2003` end to end: stored sentence runs priced in tokens, JSON curves, resume, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loopwise.cli.main import app
from loopwise.loop import FixedSchedule
from loopwise.sequence import sentence_file, simulate_sequences
from loopwise.storage import Store

pytestmark = pytest.mark.skipif(sentence_file("conll2003") is None, reason="the shared CoNLL-2003 folder is not here")
SMALL = ["--data", "conll2003", "--max-pool", "150", "--max-test", "60", "--initial", "10", "--batch", "10", "--budget", "20"]


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_simulate_stores_sentence_runs_with_their_tokens_and_writes_the_curves(tmp_path: Path) -> None:
    db, out, page = f"sqlite:///{tmp_path / 'n.db'}", tmp_path / "n.json", tmp_path / "n.html"
    result = invoke("simulate", *SMALL, "--strategy", "seq_margin", "--strategy", "random", "--seeds", "1", "--label-cost", "0.5",
                    "--db", db, "--json", str(out))
    assert result.exit_code == 0, result.output
    runs = json.loads(out.read_text())["runs"]
    assert [r["strategy"] for r in runs] == ["seq_margin", "random"]
    with Store.open(db) as store:
        for r in runs:
            info = store.get_run(r["run_id"])
            assert info.status == "finished" and info.task == "token_classification"
            loops = store.loops(r["run_id"])
            assert [p["sentences"] for p in r["curve"]] == [10, 20] == [loop.n_labelled for loop in loops]
            # Each label row is the sentence's tags; the cost is its tokens at 0.5 a token.
            for loop in loops:
                values = [store.label_history(info.project_id, i)[-1].value for i in loop.selected_ids]
                assert loop.label_cost == pytest.approx(0.5 * sum(len(v.split(" ")) for v in values))
                assert all(set(v.split(" ")) <= set(info.label_names) for v in values)
            assert r["curve"][-1]["tokens"] == sum(len(store.label_history(info.project_id, i)[-1].value.split(" "))
                                                   for loop in loops for i in loop.selected_ids)
            assert 0 < r["curve"][-1]["entity_f1"] <= 1
    again = tmp_path / "again.json"
    result = invoke("report", runs[0]["run_id"], runs[1]["run_id"], "--db", db, "--out", str(page), "--json", str(again))
    assert result.exit_code == 0, result.output
    assert json.loads(again.read_text())["runs"] == runs
    assert "data:image/png;base64," in page.read_text() and "labelled tokens" in page.read_text()
    result = invoke("runs", "show", runs[0]["run_id"], "--db", db)
    assert result.exit_code == 0 and f"{runs[0]['curve'][-1]['entity_f1']:.3f}" in result.output  # the last loop's entity F1


def test_a_resumed_run_selects_and_scores_as_an_uninterrupted_one(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'n.db'}"
    schedule = FixedSchedule(10, 10, 30)
    options = {"max_pool": 150, "max_test": 60, "learner_params": {"max_iterations": 15}}

    def stop_after_loop_1(run_id: str, record) -> None:  # noqa: ANN001
        if record.loop_index == 1:
            raise KeyboardInterrupt

    with Store.open(db) as store:
        (whole,) = simulate_sequences(store, "conll2003", ["token_entropy_sum"], [4], schedule, **options)
        with pytest.raises(KeyboardInterrupt):
            simulate_sequences(store, "conll2003", ["token_entropy_sum"], [4], schedule, on_loop=stop_after_loop_1, **options)
        cut = [r.id for r in store.list_runs() if r.id != whole][0]
        assert store.get_run(cut).status == "failed" and store.get_run(cut).n_loops == 2
    result = invoke("resume", cut, "--db", db)
    assert result.exit_code == 0, result.output
    with Store.open(db) as store:
        a, b = store.loops(whole), store.loops(cut)
        assert store.get_run(cut).status == "finished"
        assert [x.selected_ids for x in a] == [x.selected_ids for x in b]
        assert [x.metrics for x in a] == [x.metrics for x in b]


def test_classification_only_options_and_strategies_are_refused_naming_them(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'n.db'}"
    result = invoke("simulate", *SMALL, "--strategy", "margin", "--db", db)
    assert result.exit_code == 2 and "strategy 'margin' does not serve token classification" in result.output
    result = invoke("simulate", *SMALL, "--strategy", "random", "--noise", "0.1", "--plateau", "3", "--db", db)
    assert result.exit_code == 2 and "--plateau, --noise do not apply to token classification" in result.output
    result = invoke("simulate", "--data", "digits", "--budget-tokens", "100", "--db", db)
    assert result.exit_code == 2 and "--budget-tokens and --eval-split apply to token classification only" in result.output
    with Store.open(db) as store:
        assert store.list_runs() == []
