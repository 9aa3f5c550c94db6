"""Domain errors and their HTTP status codes, mapped in this one place; JSON under /api, HTML pages elsewhere."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from loopwise.errors import ConfigError, DataError, LearnerError, LoopwiseError, NotFoundError, StoreError
from loopwise.storage import ConflictError

log = logging.getLogger("loopwise.server")
_templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")


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
TITLES = {
    400: "Bad request", 401: "Sign in first", 403: "Not allowed", 404: "Not found", 405: "Method not allowed",
    409: "Conflict", 413: "Too large", 422: "Invalid input",
}


def status_for(exc: BaseException) -> int:
    """The HTTP status of a domain error."""
    for cls, code in STATUS:
        if isinstance(exc, cls):
            return code
    return 400


def is_api(request: Request) -> bool:
    """Whether the request is for the JSON API (errors as JSON) rather than a page (errors as HTML)."""
    path = request.url.path
    return path == "/api" or path.startswith(("/api/", "/static/"))


def error_page(request: Request, code: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """An HTML page saying what went wrong, for the browser routes."""
    context = {"user": None, "code": code, "title": TITLES.get(code, "Error"), "message": message}
    return _templates.TemplateResponse(request, "error.html", context, status_code=code, headers=headers)


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (Starlette's 405 names only the first route's)."""
    allowed = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        probe = {**request.scope, "method": method}
        if any(route.matches(probe)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return ", ".join(allowed)


def install_error_handlers(app: FastAPI) -> None:
    """Domain errors, validation errors and routing errors, as JSON for /api and as HTML pages elsewhere."""

    async def domain(request: Request, exc: Exception) -> Response:
        code = status_for(exc)
        headers = {"WWW-Authenticate": "Bearer"} if code == 401 and is_api(request) else None
        if not is_api(request):
            return error_page(request, code, str(exc), headers)
        return JSONResponse({"detail": str(exc)}, status_code=code, headers=headers)

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if not is_api(request):
            # Pages take only ids in their paths: one that fails validation names no page.
            return error_page(request, 404, f"there is no page at {request.url.path}")
        return JSONResponse({"detail": jsonable_encoder(exc.errors())}, status_code=422)

    async def http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request)
        if not is_api(request):
            message = f"there is no page at {request.url.path}" if exc.status_code == 404 else str(exc.detail)
            return error_page(request, exc.status_code, message, headers or None)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers or None)

    app.add_exception_handler(LoopwiseError, domain)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http)
