"""Benchmarks: loopwise's strategies against random sampling and the peer libraries, on real data.

``loopwise bench quality`` runs every (dataset, strategy, seed) cell of a
:class:`QualityPlan` under one :class:`Protocol` per dataset, saves each cell
as JSON in a results folder (resumable), and :func:`report_quality` turns the
folder into statistics, figures and Markdown tables.
"""

from loopwise.bench._cells import LOOPWISE, Cell, library_of, run_cell
from loopwise.bench._plan import DEFAULT_DATASETS, DEFAULT_STRATEGIES, Cap, QualityPlan, load_plan
from loopwise.bench._protocol import BenchData, Protocol, prepare
from loopwise.bench._report import render_markdown, report_quality, update_between_markers
from loopwise.bench._runner import CellEvent, RunOutcome, pending, run_quality
from loopwise.bench._stats import paired, summarise_dataset, summarise_quality
from loopwise.bench._store import ResultStore

__all__ = [
    "DEFAULT_DATASETS",
    "DEFAULT_STRATEGIES",
    "LOOPWISE",
    "BenchData",
    "Cap",
    "Cell",
    "CellEvent",
    "Protocol",
    "QualityPlan",
    "ResultStore",
    "RunOutcome",
    "library_of",
    "load_plan",
    "paired",
    "pending",
    "prepare",
    "render_markdown",
    "report_quality",
    "run_cell",
    "run_quality",
    "summarise_dataset",
    "summarise_quality",
    "update_between_markers",
]
