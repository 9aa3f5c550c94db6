"""auto's choices in the reports: the arm and its reason per loop, and the labels-only 'active losing' verdict."""

from __future__ import annotations

import json
from pathlib import Path

from loopwise.experiments import load_results, simulate
from loopwise.experiments._config import DataSpec
from loopwise.loop import FixedSchedule
from loopwise.reports import LoopPoint, RunResult, losing_lines, losing_summary, render_html, write_json_report
from loopwise.reports import load_json_report
from loopwise.storage import Store


def _run(verdicts: list[dict]) -> RunResult:
    loops = [
        LoopPoint(loop_index=i, n_labelled=20 * (i + 1), accuracy=0.5, macro_f1=0.5, log_loss=None,
                  per_class_f1=[0.5, 0.5], confusion_matrix=[[5, 5], [5, 5]], selection=sel)
        for i, sel in enumerate(verdicts)
    ]
    return RunResult("r1", "auto", 0, "toy", ["a", "b"], 0.9, loops)


LOSING = {"arm": "margin", "reason": "bandit: highest value 0.3", "values": {"margin": 0.3, "random": 0.2},
          "active_losing": True, "active_vs_random": {"diff": -0.2, "low": -0.3, "high": -0.1, "n_active": 3, "n_random": 2}}
BEHIND_NOT_SIGNIFICANT = {**LOSING, "active_vs_random": {"diff": -0.05, "low": -0.2, "high": 0.1, "n_active": 3, "n_random": 2}}
AHEAD = {**LOSING, "arm": "random", "reason": "bandit: highest value 0.4", "active_losing": False,
         "active_vs_random": {"diff": 0.1, "low": 0.05, "high": 0.15, "n_active": 3, "n_random": 2}}


def test_verdicts_are_read_per_loop_and_survive_the_json_report(tmp_path: Path) -> None:
    run = _run([{}, {"arm": "typiclust", "reason": "coverage", "active_losing": None}, LOSING, AHEAD, BEHIND_NOT_SIGNIFICANT])
    assert losing_summary([run]) == {"r1": {"losing": [2, 4], "significant": [2]}}
    assert losing_lines([run]) == ["run r1: the active part is losing to random, from labels alone, in loops 2, 4 (significantly in 2)"]
    assert losing_lines([_run([{}, AHEAD])]) == []
    path = tmp_path / "r.json"
    write_json_report([run], path)
    data = json.loads(path.read_text())
    assert data["active_losing"] == {"r1": {"losing": [2, 4], "significant": [2]}}
    (back,) = load_json_report(path)
    assert back.loops[2].selection["arm"] == "margin"


def test_html_shows_each_loops_arm_reason_and_the_losing_alert() -> None:
    html = render_html([_run([{}, {"arm": "typiclust", "reason": "coverage: 20 labels < 3 per class"}, LOSING, AHEAD])])
    section = html[html.index('<section id="choices">'):]
    section = section[: section.index("</section>")]
    assert "loops 2</li>" in section and "losing to random" in section
    rows = section.split("<tr")[2:]  # after the header row
    assert [r.split("<td>")[3].split("</td>")[0] for r in rows] == ["typiclust", "margin", "random"]
    assert "coverage: 20 labels &lt; 3 per class" in rows[0]
    assert 'class="losing"' in rows[1] and "(significant)" in rows[1] and 'class="losing"' not in rows[2]


def test_no_section_for_strategies_that_explain_nothing() -> None:
    assert 'id="choices"' not in render_html([_run([{}, {}])])


def test_a_stored_auto_run_reports_its_arm_per_loop(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'c.db'}")
    try:
        (run_id,) = simulate(store, DataSpec("wine"), ["auto"], 1, FixedSchedule(10, 10, 50))
        (result,) = load_results(store, [run_id])
    finally:
        store.close()
    arms = [p.selection.get("arm") for p in result.loops]
    assert arms[0] is None and all(a in ("typiclust", "covered_margin", "margin", "random") for a in arms[1:])
    assert all("reason" in p.selection and "active_vs_random" in p.selection for p in result.loops[1:])
    html = render_html([result])
    assert html.count("<tr") - html[: html.index('id="choices"')].count("<tr") >= len(result.loops) - 1


def test_active_vs_random_interval_needs_two_rewards_a_side() -> None:
    from loopwise.strategies._auto import AutoStrategy

    assert AutoStrategy._active_vs_random([("margin", 0.1)]) is None
    one = AutoStrategy._active_vs_random([("margin", 0.1), ("random", 0.3)])
    assert one == {"diff": -0.2, "low": None, "high": None, "n_active": 1, "n_random": 1}
    two = AutoStrategy._active_vs_random([("margin", 0.1), ("margin", 0.2), ("random", 0.3), ("random", 0.5)])
    assert two["diff"] == -0.25 and two["low"] < -0.25 < two["high"]
