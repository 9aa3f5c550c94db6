"""Process clocks for the cost ledger: CPU seconds of this process and its children, GPU seconds under CUDA."""

from __future__ import annotations

import resource
import sys
import time


def process_cpu_seconds() -> float:
    """User + system CPU seconds of this process (all its threads) and of its reaped children.

    Measured by the kernel (``getrusage``), so a step that waits costs nothing and a step
    that keeps four BLAS or torch threads busy costs four seconds per wall second.
    """
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def cuda_seconds() -> float | None:
    """A CUDA-synchronised timestamp when this process has started CUDA through torch; ``None`` otherwise.

    The difference of two readings is the time the step kept the GPU (queued kernels
    included, since both ends wait for the device); with no CUDA in use the ledger's GPU
    seconds stay ``None`` rather than a made-up zero.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    cuda = getattr(torch, "cuda", None)
    if cuda is None or not cuda.is_available() or not cuda.is_initialized():
        return None
    cuda.synchronize()
    return time.perf_counter()
