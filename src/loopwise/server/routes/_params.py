"""Path parameters with bounds, and the error responses every API route declares in the OpenAPI document."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path

from loopwise.server import _schemas as s

# Ids are database keys: INTEGER on PostgreSQL (32 bits) and SQLite (64). An id past the smaller one
# names nothing, and handing it to the driver overflows, so the route refuses it before it gets there.
MAX_ID = s.MAX_ID

ProjectId = Annotated[int, Path(ge=1, le=MAX_ID, description="A project's id.")]
RecordId = Annotated[int, Path(ge=1, le=MAX_ID, description="A record's id within the project.")]
UserId = Annotated[int, Path(ge=1, le=MAX_ID, description="A user's id.")]

_DESCRIPTIONS = {
    400: "The body could not be parsed (not JSON, not UTF-8, or a broken form).",
    401: "Not signed in: no session cookie, or a missing or invalid API token.",
    403: "Signed in but not allowed: an annotator on an admin route, or a missing CSRF token on a cookie request.",
    404: "No such project, record or user (or one you may not see).",
    409: "The request conflicts with the stored state (a name taken, a record already labelled).",
    413: "The request body is over the server's limit.",
    422: "Invalid input: a list of validation issues, or one message naming what is wrong and where.",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these error codes, each with the error body it sends."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        model = s.ValidationErrorPublic if code == 422 else s.ErrorPublic
        out[code] = {"model": model, "description": _DESCRIPTIONS[code]}
    return out

