"""The load benchmark's light HTTP client against a real socket server on loopback."""

from __future__ import annotations

import asyncio
import json

import pytest

from loopwise.bench._http import ClientError, KeepAliveClient


async def _serve(answers: list[bytes], seen: list[bytes], connections: list[int]) -> asyncio.Server:
    """A loopback server that answers each request with the next canned answer (the request is kept)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        while answers:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            length = next(
                (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), 0
            )
            seen.append(head + await reader.readexactly(length))
            answer = answers.pop(0)
            writer.write(answer)
            await writer.drain()
            if b"connection: close" in answer or answer == b"garbage\r\n\r\n":
                break
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


def _run(answers: list[bytes], calls: int) -> tuple[list[object], list[bytes], int]:
    async def main() -> tuple[list[object], list[bytes], int]:
        seen: list[bytes] = []
        connections: list[int] = []
        server = await _serve(answers, seen, connections)
        port = server.sockets[0].getsockname()[1]
        results: list[object] = []
        async with server, KeepAliveClient(f"http://127.0.0.1:{port}", {"Authorization": "Bearer t0k"}, timeout=5) as client:
            for i in range(calls):
                try:
                    response = await client.post(f"/p/{i}", json={"value": i} if i % 2 else None)
                    results.append((response.status_code, response.headers.get("server-timing"), response.json()))
                except ClientError as exc:
                    results.append(str(exc))
        return results, seen, len(connections)

    return asyncio.run(main())


def _answer(status: int, body: dict[str, object], *extra: str) -> bytes:
    raw = json.dumps(body).encode()
    head = "".join(f"{line}\r\n" for line in extra)
    return f"HTTP/1.1 {status} X\r\ncontent-length: {len(raw)}\r\n{head}\r\n".encode() + raw


def test_requests_share_one_connection_and_answers_are_parsed() -> None:
    chunked = b'HTTP/1.1 201 Created\r\ntransfer-encoding: chunked\r\n\r\n4\r\n{"a"\r\n3\r\n: 2\r\n1\r\n}\r\n0\r\n\r\n'
    results, seen, connections = _run([_answer(200, {"a": 1}, "Server-Timing: app;dur=1.5"), chunked], 2)
    assert results == [(200, "app;dur=1.5", {"a": 1}), (201, None, {"a": 2})]
    assert connections == 1
    assert seen[0].startswith(b"POST /p/0 HTTP/1.1\r\n") and b"authorization: Bearer t0k\r\n" in seen[0]
    assert seen[0].endswith(b"content-length: 0\r\n\r\n")
    assert seen[1].endswith(b'content-type: application/json\r\n\r\n{"value":1}')


def test_a_closed_connection_is_opened_again() -> None:
    results, _, connections = _run([_answer(200, {"n": 0}, "connection: close"), _answer(200, {"n": 1})], 2)
    assert results == [(200, None, {"n": 0}), (200, None, {"n": 1})]
    assert connections == 2


def test_a_broken_answer_is_a_client_error() -> None:
    results, _, _ = _run([b"garbage\r\n\r\n"], 1)
    assert len(results) == 1 and isinstance(results[0], str)
    assert "not an HTTP/1.x status line: 'garbage'" in results[0]


def test_only_plain_http_is_spoken() -> None:
    with pytest.raises(ValueError, match="plain http only"):
        KeepAliveClient("https://example.org", {})
