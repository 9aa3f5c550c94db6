"""ASGI middleware: refuse request bodies over a size limit (declared or streamed) and add safety headers."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from starlette.exceptions import HTTPException

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]

_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    # Scripts only from this origin and no inline scripts: an injected <script> cannot run.
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
]


class _TooLarge(HTTPException):
    # An HTTPException, so FastAPI passes it through while it parses a body instead of making it a 400.
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body is larger than the limit of {limit} bytes")


class BodyLimitMiddleware:
    """413 for bodies over ``max_body`` bytes, or ``max_upload`` on paths under ``upload_prefixes``."""

    def __init__(self, app: Any, max_body: int, max_upload: int, upload_suffixes: tuple[str, ...]) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload
        self.upload_suffixes = upload_suffixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        limit = self.max_upload if path.endswith(self.upload_suffixes) else self.max_body
        declared = None
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = None
        if declared is not None and declared > limit:
            await _reject(send, limit)
            return
        received = 0
        started = False

        async def limited_receive() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(limit)
            return message

        begun = time.perf_counter()

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message.setdefault("headers", [])
                # Server-Timing: how long the app took, so a client can tell it from network and queueing.
                elapsed = f"app;dur={(time.perf_counter() - begun) * 1000:.2f}".encode()
                message["headers"] = [*message["headers"], *_HEADERS, (b"server-timing", elapsed)]
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _reject(send, limit)


async def _reject(send: Send, limit: int) -> None:
    body = json.dumps({"detail": f"request body is larger than the limit of {limit} bytes"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *_HEADERS],
        }
    )
    await send({"type": "http.response.body", "body": body})
