"""The machine-readable report: strict JSON of the summary and every loop, and reading runs back."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from loopwise.errors import DataError
from loopwise.reports._choices import losing_summary
from loopwise.reports._costs import break_even, ledger, ledger_totals
from loopwise.reports._results import RunResult, check_results
from loopwise.reports._summary import summarise

#: Written into every JSON report so a reader can tell which layout it holds.
FORMAT = "loopwise.report/1"


def jsonable(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by ``None``.

    Strict JSON has no NaN; browsers' ``JSON.parse`` and most tools reject it.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def report_dict(results: Sequence[RunResult]) -> dict[str, Any]:
    """The JSON report as a dict: the summary, plus each run's full record under ``"results"``."""
    results = check_results(results)
    costs = {
        "runs": {r.run_id: {**ledger_totals(r), "loops": ledger(r)} for r in results},
        "break_even_95": break_even(results, 0.95),
    }
    data: dict[str, Any] = jsonable(
        {"format": FORMAT, **summarise(results), "costs": costs, "active_losing": losing_summary(results), "results": [r.to_dict() for r in results]}
    )
    return data


def write_json_report(results: Sequence[RunResult], path: str | Path) -> None:
    """Write the summary plus every loop's figures (metrics, matrices, timings, costs) as JSON."""
    data = report_dict(results)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Compact: the matrices of every loop dominate the size, and machines read this file.
    text = json.dumps(data, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")


def load_json_report(path: str | Path) -> list[RunResult]:
    """Read the runs back from a report written by ``write_json_report``, e.g. to re-render its HTML."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: cannot read a JSON report: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise DataError(f"{path}: expected a JSON report of format {FORMAT!r}, found {found!r}")
    try:
        return [RunResult.from_dict(run) for run in data["results"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"{path}: a run in 'results' is malformed: {exc!r}") from None
