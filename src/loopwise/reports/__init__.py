"""Reports over finished runs: learning-curve metrics, a terminal table, and HTML and JSON reports."""

from loopwise.reports._choices import losing_lines, losing_loops, losing_summary
from loopwise.reports._costs import break_even, break_even_sentence, cost_to_reach, ledger, ledger_totals
from loopwise.reports._html import render_html, write_html_report
from loopwise.reports._json import load_json_report, write_json_report
from loopwise.reports._results import LoopPoint, RunResult
from loopwise.reports._summary import aulc, labels_to_reach, summarise
from loopwise.reports._table import render_table

__all__ = [
    "break_even",
    "break_even_sentence",
    "cost_to_reach",
    "ledger",
    "ledger_totals",
    "LoopPoint",
    "RunResult",
    "aulc",
    "labels_to_reach",
    "load_json_report",
    "losing_lines",
    "losing_loops",
    "losing_summary",
    "render_html",
    "render_table",
    "summarise",
    "write_html_report",
    "write_json_report",
]
