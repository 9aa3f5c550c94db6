"""Optional distributed backend: INFER and SELECT on partitions of the pool (Ray), with the local selection as result."""

from loopwise.distributed._executor import EXECUTORS, Executor, FileRows, LocalExecutor, RayExecutor, make_executor, select
from loopwise.distributed._partition import Partition

__all__ = ["EXECUTORS", "Executor", "FileRows", "LocalExecutor", "Partition", "RayExecutor", "make_executor", "select"]
