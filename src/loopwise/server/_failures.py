"""Failed retrains made visible: the learning worker stores each failure; the next retrain that works clears it."""

from __future__ import annotations

import logging

from loopwise.errors import LoopwiseError
from loopwise.storage import AnnotationRepository

log = logging.getLogger("loopwise.server.learning")


def failure_message(exc: BaseException) -> str:
    """Our own errors say what and where already; anything else also names its type (``ValueError: ...``)."""
    return str(exc) if isinstance(exc, LoopwiseError) else f"{type(exc).__name__}: {exc}"


def remember_failure(repo: AnnotationRepository, project_id: int, exc: BaseException) -> None:
    """Store why the project's retrain failed, for GET .../stats and the dashboard; never raises."""
    try:
        repo.record_retrain_failure(project_id, failure_message(exc), repo.n_labelled_records(project_id))
    except Exception:  # the store may be what failed: the log keeps both
        log.exception("storing the retrain failure of project %s failed", project_id)
