"""Small helpers every part of the store shares: UTC timestamps and chunked IN lists."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TypeVar

_T = TypeVar("_T")


def chunks(values: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    """``values`` in slices of at most ``size``, so an ``IN (...)`` list stays under parameter limits."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def utc_now() -> datetime:
    """The current time, timezone-aware UTC: everything the store writes is UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """``moment`` as aware UTC: SQLite hands back naive datetimes, which the store wrote as UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
