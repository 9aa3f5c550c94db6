"""Import optional heavy dependencies on first use, with an error that names the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from loopwise.errors import LoopwiseError


class MissingDependencyError(LoopwiseError, ImportError):
    """An optional dependency is not installed; the message names the ``pip install loopwise[...]`` extra."""


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """Import ``module``, or raise :class:`MissingDependencyError` naming ``loopwise[extra]``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{purpose} needs the optional package {module.split('.')[0]!r}, which is not installed "
            f"({exc}); install it with: pip install 'loopwise[{extra}]'"
        ) from exc
