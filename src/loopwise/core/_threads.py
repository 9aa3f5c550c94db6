"""Small BLAS products on one thread: a team of BLAS threads costs more than it saves on them, and far more on shared cores."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

_controller: Any = None


@contextlib.contextmanager
def blas_single_thread() -> Iterator[None]:
    """Limit the BLAS libraries NumPy loaded to one thread inside the block (no-op without threadpoolctl).

    A product of a few thousand rows takes tens of microseconds; waking a
    second BLAS thread for it costs about as much, and when other processes
    hold the cores the BLAS threads spin waiting for each other (10-50x
    slower, measured on a loaded 2-core machine). Values do not change:
    BLAS splits work between threads, not the sums inside one element.
    threadpoolctl ships with scikit-learn; without it the block runs as is.
    """
    global _controller
    try:
        from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - scikit-learn depends on it
        yield
        return
    if _controller is None:
        _controller = ThreadpoolController()
    with _controller.limit(limits=1, user_api="blas"):
        yield
