"""Label prices in simulated runs: per label, per class, per record; bad prices store nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from loopwise.errors import ConfigError
from loopwise.experiments import load_results, simulate
from loopwise.experiments._config import DataSpec
from loopwise.experiments._costs import LabelPrice, parse_class_costs
from loopwise.loop import FixedSchedule
from loopwise.reports import ledger_totals
from loopwise.storage import Store


@pytest.fixture()
def store(tmp_path: Path):
    s = Store.open(f"sqlite:///{tmp_path / 'costs.db'}")
    yield s
    s.close()


def test_per_class_prices_are_charged_per_label_and_for_the_whole_pool(store: Store) -> None:
    (run_id,) = simulate(store, DataSpec("wine"), ["margin"], 1, FixedSchedule(6, 6, 18),
                         cost_per_label=1.0, cost_per_class={"class_1": 5.0}, compute_rate=36.0)
    (result,) = load_results(store, [run_id])
    names = ["class_0", "class_1", "class_2"]
    for info, point in zip(store.loops(run_id), result.loops, strict=True):
        n_class_1 = sum(1 for label in store.load_arrays(info.artifact_hash)["labels"] if names[int(label)] == "class_1")
        assert point.label_cost == pytest.approx(5.0 * n_class_1 + 1.0 * (6 - n_class_1))
    totals = ledger_totals(result)
    assert totals["labels"] == 18
    assert totals["label_cost"] == pytest.approx(sum(p.label_cost for p in result.loops))
    # 36 per CPU hour is a hundredth per CPU second: the compute cost is the measured CPU priced.
    assert totals["compute_cost"] == pytest.approx(totals["cpu_seconds"] / 100.0)
    assert totals["cpu_seconds"] > 0
    assert totals["gpu_seconds"] is None
    assert result.full_label_cost is not None and result.full_label_cost > 133  # 133 pool records, class_1 dearer


def test_a_record_cost_function_prices_each_record(store: Store) -> None:
    seen: list[str] = []

    def by_record(record_id: str, name: str) -> float:
        seen.append(record_id)
        return 0.25 if name == "class_0" else 2.0

    (run_id,) = simulate(store, DataSpec("wine"), ["random"], 1, FixedSchedule(10, 5, 20), label_price=LabelPrice(record_cost=by_record))
    (result,) = load_results(store, [run_id])
    for info, point in zip(store.loops(run_id), result.loops, strict=True):
        labels = store.load_arrays(info.artifact_hash)["labels"]
        assert point.label_cost == pytest.approx(sum(0.25 if int(v) == 0 else 2.0 for v in labels))
        assert set(info.selected_ids) <= set(seen)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cost_per_class": {"class_9": 2.0}}, r"cost per class names \['class_9'\], which are not classes"),
        ({"cost_per_class": {"class_1": -1.0}}, r"cost of class 'class_1' must be a finite number >= 0"),
        ({"cost_per_label": float("nan")}, r"cost per label must be a finite number >= 0"),
        ({"compute_rate": -3.0}, r"compute rate .* must be a finite number >= 0"),
    ],
)
def test_bad_prices_are_refused_before_anything_is_stored(store: Store, kwargs, message: str) -> None:
    before = store.counts()
    with pytest.raises(ConfigError, match=message):
        simulate(store, DataSpec("wine"), ["margin"], 1, FixedSchedule(6, 6, 18), **kwargs)
    assert store.counts() == before


def test_parse_class_costs_names_the_bad_item() -> None:
    assert parse_class_costs(["cat=2", "a=b=0.5"]) == {"cat": 2.0, "a=b": 0.5}
    with pytest.raises(ConfigError, match=r"--cost-per-class takes CLASS=COST, got 'cat'"):
        parse_class_costs(["cat"])
    with pytest.raises(ConfigError, match=r"--cost-per-class 'cat=lots': 'lots' is not a number"):
        parse_class_costs(["cat=lots"])
