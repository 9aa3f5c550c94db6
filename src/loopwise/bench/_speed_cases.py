"""The configurations and results of ``loopwise bench speed``: the grid's defaults, one case, one measurement."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SIZES = (10_000, 100_000, 1_000_000)
DIMS = (64, 384)
BATCHES = (100, 1000)
N_CLASSES = 10
N_LABELLED = 1000
LIBRARIES = ("loopwise", "modal", "small_text", "skactiveml")
LIBRARY_NAMES = {"loopwise": "loopwise", "modal": "modAL", "small_text": "small-text", "skactiveml": "scikit-activeml"}
COMMITTEE = 5
SEED = 0


@dataclass(frozen=True)
class SpeedCase:
    """One configuration: a library's version of a method on one pool and batch size."""

    library: str
    method: str
    n: int
    d: int
    batch: int

    @property
    def name(self) -> str:
        return f"{self.library}:{self.method}"

    def key(self) -> tuple[str, str, int, int, int]:
        return (self.library, self.method, self.n, self.d, self.batch)


@dataclass
class SpeedResult:
    """What one configuration measured (``status`` is ``ok``, ``timeout``, ``oom``, ``error`` or ``skipped``)."""

    library: str
    method: str
    n: int
    d: int
    batch: int
    status: str
    best_s: float | None = None
    median_s: float | None = None
    repeats: int = 0
    peak_extra_mib: float | None = None
    wall_s: float | None = None
    detail: str = ""
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def key(self) -> tuple[str, str, int, int, int]:
        return (self.library, self.method, self.n, self.d, self.batch)
