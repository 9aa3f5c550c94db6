"""A light HTTP/1.1 keep-alive client for the load benchmark: one asyncio stream per simulated annotator.

httpx costs the load generator about as much CPU per request as the server spends answering it; on
a 2-CPU machine that is CPU taken from the server being measured (the annotators' browsers run on
other machines in reality). This client measures the same thing (request written, whole answer
read, on one keep-alive connection) with little more than a socket write and read. It speaks only
what ``loopwise serve`` answers: a status line, headers, and a Content-Length or chunked body.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit


class ClientError(Exception):
    """The connection failed or the answer was not HTTP/1.1 as expected."""


class RawResponse:
    """What the annotator reads from an answer: ``status_code``, ``headers`` (lower-case names), body."""

    def __init__(self, status_code: int, headers: dict[str, str], content: bytes) -> None:
        self.status_code, self.headers, self.content = status_code, headers, content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


class KeepAliveClient:
    """POSTs to one server over one persistent connection, opened on first use and again if it closes."""

    def __init__(self, base_url: str, headers: dict[str, str], timeout: float = 30.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"the light client speaks plain http only, got {base_url!r}")
        self.host, self.port, self.timeout = parts.hostname, parts.port or 80, timeout
        fixed = {"host": f"{self.host}:{self.port}", "accept": "*/*", **{k.lower(): v for k, v in headers.items()}}
        self._head = "".join(f"{name}: {value}\r\n" for name, value in fixed.items())
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self, path: str, json: Any = None) -> RawResponse:
        """POST ``json`` (if given) to ``path``; the whole answer, read before returning."""
        body = b"" if json is None else _dumps(json)
        request = f"POST {path} HTTP/1.1\r\n{self._head}content-length: {len(body)}\r\n"
        if json is not None:
            request += "content-type: application/json\r\n"
        try:
            return await asyncio.wait_for(self._exchange(request.encode() + b"\r\n" + body), self.timeout)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError) as exc:
            await self.aclose()
            raise ClientError(f"{type(exc).__name__}: {exc}") from exc

    async def _exchange(self, request: bytes) -> RawResponse:
        if self._streams is None or self._streams[0].at_eof():
            await self.aclose()
            self._streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._streams
        writer.write(request)
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        version, _, rest = head[0].partition(" ")
        if not version.startswith("HTTP/1."):
            raise ValueError(f"not an HTTP/1.x status line: {head[0]!r}")
        headers = {}
        for line in head[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            content = await _read_chunked(reader)
        else:
            content = await reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            await self.aclose()
        return RawResponse(int(rest[:3]), headers, content)

    async def aclose(self) -> None:
        """Close the connection (the next request opens a new one)."""
        if self._streams is not None:
            writer = self._streams[1]
            self._streams = None
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass

    async def __aenter__(self) -> KeepAliveClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()
