"""The annotation server: a FastAPI JSON API and a Jinja/JavaScript UI over the store, driven by the learner."""

from __future__ import annotations

from loopwise.server._app import create_app
from loopwise.server._settings import ServerSettings

__all__ = ["ServerSettings", "create_app"]
