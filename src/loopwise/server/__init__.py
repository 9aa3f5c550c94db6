"""The annotation server: a FastAPI JSON API and a Jinja/JavaScript UI over the store, driven by the learner.

``create_app`` and ``ServerSettings`` are loaded on first use (PEP 562), so the retraining child, which
imports only ``loopwise.server._learning`` and what it needs, starts without the web stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loopwise.server._app import create_app
    from loopwise.server._settings import ServerSettings

_EXPORTS: dict[str, str] = {"create_app": "loopwise.server._app", "ServerSettings": "loopwise.server._settings"}

__all__ = ["ServerSettings", "create_app"]


def __getattr__(name: str) -> Any:
    """Load a public name on first use."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'loopwise.server' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value
