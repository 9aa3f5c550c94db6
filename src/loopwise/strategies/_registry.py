"""Registry of strategies by name, so configs and ``--strategy NAME`` can refer to them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from loopwise.errors import ConfigError
from loopwise.strategies._base import Strategy

_REGISTRY: dict[str, type[Strategy]] = {}


def register(cls: type[Strategy]) -> type[Strategy]:
    """Add a strategy class under its ``name``; usable as a decorator."""
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ConfigError(f"strategy name {cls.name!r} is already registered by {_REGISTRY[cls.name].__name__}")
    _REGISTRY[cls.name] = cls
    return cls


@contextmanager
def registered(cls: type[Strategy]) -> Iterator[type[Strategy]]:
    """Register ``cls`` for the ``with`` block only, so a test's strategy never outlives the test."""
    was_there = _REGISTRY.get(cls.name) is cls
    register(cls)
    try:
        yield cls
    finally:
        if not was_there:
            _REGISTRY.pop(cls.name, None)


def available() -> list[str]:
    """The registered strategy names, sorted."""
    return sorted(_REGISTRY)


def make_strategy(name: str, **params: Any) -> Strategy:
    """Build a registered strategy; an unknown name lists the known ones."""
    try:
        cls = _REGISTRY[name]
    except KeyError:
        raise ConfigError(f"unknown strategy {name!r}; known strategies: {', '.join(available())}") from None
    try:
        return cls(**params)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"strategy {name!r}: {exc}") from None
