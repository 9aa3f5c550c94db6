"""Turn metrics, timings and configs into plain JSON values, the same on every database."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from loopwise.errors import DataError


def to_json(value: Any, where: str) -> Any:
    """A copy of ``value`` made of dict/list/str/int/float/bool/None.

    NumPy scalars and arrays become Python numbers and lists. NaN and infinities become ``None``:
    JSON has no spelling for them and PostgreSQL rejects the ``NaN`` that Python would write.
    ``where`` names the value in error messages (``"metrics['f1']"``).
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, (np.generic, np.ndarray)):
        return to_json(value.tolist(), where)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise DataError(
                    f"{where}: keys must be strings to round-trip through JSON, "
                    f"got {key!r} ({type(key).__name__})"
                )
            out[str(key)] = to_json(item, f"{where}[{key!r}]")
        return out
    if isinstance(value, (list, tuple)):
        return [to_json(item, f"{where}[{index}]") for index, item in enumerate(value)]
    raise DataError(f"{where}: cannot store a {type(value).__name__} as JSON: {value!r:.80}")
