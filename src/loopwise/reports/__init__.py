"""Reports over finished runs: learning-curve metrics, a terminal table, and HTML and JSON reports."""

from loopwise.reports._results import LoopPoint, RunResult
from loopwise.reports._summary import aulc, labels_to_reach, summarise
from loopwise.reports._table import render_table

__all__ = [
    "LoopPoint",
    "RunResult",
    "aulc",
    "labels_to_reach",
    "render_table",
    "summarise",
]
