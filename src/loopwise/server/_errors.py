"""Domain errors and their HTTP status codes, mapped in this one place."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from loopwise.errors import ConfigError, DataError, LearnerError, LoopwiseError, NotFoundError, StoreError
from loopwise.storage import ConflictError

log = logging.getLogger("loopwise.server")


class AuthError(LoopwiseError, PermissionError):
    """No valid session or token."""


class ForbiddenError(LoopwiseError, PermissionError):
    """Signed in, but not allowed (an annotator on an admin route, a missing CSRF token)."""


class TooLargeError(LoopwiseError, ValueError):
    """A request body or upload over its limit."""


# Order matters: the first class an error is an instance of decides.
STATUS: tuple[tuple[type[BaseException], int], ...] = (
    (AuthError, 401),
    (ForbiddenError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (TooLargeError, 413),
    (DataError, 422),
    (ConfigError, 422),
    (LearnerError, 422),
    (StoreError, 409),
)


def status_for(exc: BaseException) -> int:
    for cls, code in STATUS:
        if isinstance(exc, cls):
            return code
    return 400


def install_error_handlers(app: FastAPI) -> None:
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        code = status_for(exc)
        headers = {"WWW-Authenticate": "Bearer"} if code == 401 else None
        return JSONResponse({"detail": str(exc)}, status_code=code, headers=headers)

    app.add_exception_handler(LoopwiseError, handle)
