"""The queue's two hot routes (next record, label) for API-token requests, without FastAPI's per-request machinery.

Nearly every request of a labelling team is one of these two, and FastAPI's generic work around them
(its middleware layers, dependency solving, validating the returned model again and serialising it
twice) cost more CPU than the queue's own database work. This ASGI layer answers exactly the plain
case, an ``Authorization`` header, ids in range and a body that validates, by calling the very same
route functions (routes/queue.py), with the dependencies they declare resolved by hand, and
rendering errors with the app's own exception handlers. Anything else (a cookie, an override of a
dependency in a test, a body that does not validate) goes on to FastAPI unchanged, which answers it
as it always did, so the two paths cannot drift apart in what they accept or say.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from loopwise.server import _schemas as s
from loopwise.server._deps import get_current_user
from loopwise.server.routes import queue
from loopwise.server.routes._params import MAX_ID

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_NEXT = re.compile(r"/api/projects/([0-9]+)/queue/next")
_LABEL = re.compile(r"/api/projects/([0-9]+)/records/([0-9]+)/label")


class HotRoutes:
    """ASGI middleware: ``POST .../queue/next`` and ``POST .../records/{id}/label`` with a token, answered directly."""

    def __init__(self, app: Any, api: FastAPI) -> None:
        self.app = app
        self.api = api
        api.state.hot_answered = 0  # how many requests this layer answered itself (the rest went on to FastAPI)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = _match(scope)
        if route is None or self.api.dependency_overrides or not _has_authorization(scope):
            await self.app(scope, receive, send)
            return
        kind, ids = route
        body = b""
        if kind == "label":
            if not _is_json(scope):
                await self.app(scope, receive, send)
                return
            body = await _read_body(receive)
            try:
                value = s.LabelCreate.model_validate_json(body)
            except ValidationError:
                # FastAPI says what is wrong, in its own words: replay the body to it.
                await self.app(scope, _replay(body, receive), send)
                return
        request = Request(scope, _replay(body, receive))
        services = self.api.state.services
        self.api.state.hot_answered += 1
        try:
            user = await get_current_user(request, services)
            item: BaseModel
            if kind == "next":
                item, status = await queue.next_record(ids[0], services, user), 200
            else:
                item, status = await queue.label(ids[0], ids[1], value, services, user), 201
        except Exception as exc:
            handler = self._handler(exc)
            if handler is None:
                raise
            response = await handler(request, exc)
        else:
            response = Response(item.model_dump_json(), status_code=status, media_type="application/json")
        await response(scope, receive, send)

    def _handler(self, exc: Exception) -> Any:
        """The app's handler for this error (as Starlette's ExceptionMiddleware looks it up), or None."""
        handlers = self.api.exception_handlers
        for cls in type(exc).__mro__:
            if cls in handlers and cls is not Exception:
                return handlers[cls]
        return None


def _match(scope: Scope) -> tuple[str, tuple[int, ...]] | None:
    """Which hot route the request is for, with its ids, or None (any other request, or an id out of range)."""
    if scope["type"] != "http" or scope["method"] != "POST" or scope.get("root_path"):
        return None
    path: str = scope["path"]
    found = _NEXT.fullmatch(path)
    kind = "next"
    if found is None:
        found = _LABEL.fullmatch(path)
        kind = "label"
    if found is None:
        return None
    ids = tuple(int(group) for group in found.groups())
    if not all(1 <= i <= MAX_ID for i in ids):
        return None  # FastAPI's validation says why
    return kind, ids


def _has_authorization(scope: Scope) -> bool:
    return any(name == b"authorization" for name, _ in scope["headers"])


def _is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return bool(value.split(b";", 1)[0].strip().lower() == b"application/json")
    return False


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands over the body already read, then listens for the disconnect."""
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
