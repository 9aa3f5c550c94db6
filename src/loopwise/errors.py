"""The errors loopwise raises: one base class, each also a matching built-in."""

from __future__ import annotations


class LoopwiseError(Exception):
    """Base of every error loopwise raises on purpose.

    A ``LoopwiseError`` is a *user* error: the command line prints its message
    without a traceback and exits non-zero.
    """


class DataError(LoopwiseError, ValueError):
    """Input data is unusable: a missing file, a bad column, bad values."""


class ConfigError(LoopwiseError, ValueError):
    """A parameter or option has a value loopwise cannot use."""


class LearnerError(LoopwiseError, ValueError):
    """A learner returned something that breaks its contract."""


class NotFoundError(LoopwiseError, LookupError):
    """A run, project or record that was asked for does not exist."""


class StoreError(LoopwiseError, RuntimeError):
    """The store is in a state the operation cannot work with."""
