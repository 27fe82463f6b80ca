"""A loopback HTTP/1.1 server that replays precomputed provider responses.

    python bench/server.py [--port 0] [--precompute 20000,200]

It prints `READY <port>` once listening. Routes (POST, JSON body):

- `/v1/chat/completions`: OpenAI chat; SSE `chat.completion.chunk`s when `"stream": true`
- `/v1/messages`: Anthropic messages; SSE events when `"stream": true`
- `/api/chat`: Ollama chat; NDJSON unless `"stream": false`

A `/fail/<N>` path prefix (before any `/n/<N>`) makes every N-th request to it, counted
across connections, answer the provider's retryable overload instead, before any content:
Anthropic's 529 `overloaded_error`, 503 for the others; the bench's scale run points a
fallback chain's first client there.

Without streaming each route answers one small JSON completion. The number of streamed
tokens comes from the `x-bench-chunks` header, a `chunks` query parameter, or a `/n/<N>`
path prefix (so that a client configured with only a base URL can choose it), in that
order; the default is 20. Every response is built once per (shape, chunks) and then only
copied to the socket, in ~16 KiB chunked writes, so the server costs a client under test
next to nothing; the bench's raw-socket row measures its ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import payloads

DEFAULT_CHUNKS = 20
_PREFIX = re.compile(r"^/n/(\d+)(/.*)$")
_FAIL_PREFIX = re.compile(r"^/fail/(\d+)(/.*)$")
# each shape's overload, as its provider sends it: a status its clients retry (and a
# fallback chain moves on from), with the provider's error body
_OVERLOADS = {
    "anthropic": (
        "529 Overloaded",
        {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
    ),
    "openai": (
        "503 Service Unavailable",
        {"error": {"message": "The server is overloaded", "type": "server_error"}},
    ),
    "ollama": ("503 Service Unavailable", {"error": "server busy, please try again"}),
}


@dataclass(frozen=True)
class Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


class Responses:
    """The precomputed writes of every response served so far."""

    def __init__(self) -> None:
        # requests seen per `/fail/<N>` prefix, so that exactly one in N fails
        self.fail_counts: dict[int, int] = {}
        self._streams: dict[tuple[str, int], list[bytes]] = {}
        self._completions = {
            shape: [payloads.json_response(payloads.completion_body(shape))]
            for shape in payloads.SHAPES
        }

    def stream(self, shape: str, chunks: int) -> list[bytes]:
        key = (shape, chunks)
        if key not in self._streams:
            self._streams[key] = payloads.stream_response(shape, chunks)
        return self._streams[key]

    def completion(self, shape: str) -> list[bytes]:
        return self._completions[shape]

    def overload(self, shape: str) -> list[bytes]:
        status, body = _OVERLOADS[shape]
        return [payloads.json_response(json.dumps(body).encode(), status)]

    def fails_now(self, every: int) -> bool:
        """Counts a request to `/fail/<every>`; True for every `every`-th one."""
        count = self.fail_counts.get(every, 0) + 1
        self.fail_counts[every] = count
        return count % every == 0


def _error(status: str, message: str) -> list[bytes]:
    return [payloads.json_response(json.dumps({"error": message}).encode(), status)]


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "content-length" in headers:
        return await reader.readexactly(int(headers["content-length"]))
    if headers.get("transfer-encoding", "").lower() != "chunked":
        return b""
    parts = []
    while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
    await reader.readuntil(b"\r\n")  # no trailers are sent by the clients under test
    return b"".join(parts)


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    request_line, *lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
    method, target, _ = request_line.split(" ", 2)
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Request(method, target, headers, await _read_body(reader, headers))


def _chunks_of(request: Request, path_chunks: str | None) -> int:
    query = parse_qs(urlsplit(request.target).query)
    value = request.headers.get("x-bench-chunks") or query.get("chunks", [None])[0] or path_chunks
    return int(value) if value else DEFAULT_CHUNKS


def route(request: Request, responses: Responses) -> list[bytes]:
    path = urlsplit(request.target).path
    failing = _FAIL_PREFIX.match(path)
    fail_every, path = (int(failing.group(1)), failing.group(2)) if failing else (0, path)
    prefixed = _PREFIX.match(path)
    path_chunks, path = (prefixed.group(1), prefixed.group(2)) if prefixed else (None, path)
    shape = payloads.PATHS.get(path)
    if shape is None or request.method != "POST":
        return _error("404 Not Found", f"no route for {request.method} {path}")
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return _error("400 Bad Request", "the body is not JSON")
    if fail_every and responses.fails_now(fail_every):
        return responses.overload(shape)
    if body.get("stream", shape == "ollama"):
        return responses.stream(shape, _chunks_of(request, path_chunks))
    return responses.completion(shape)


async def _serve_connection(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, responses: Responses
) -> None:
    with contextlib.suppress(ConnectionError):
        while (request := await read_request(reader)) is not None:
            for piece in route(request, responses):
                writer.write(piece)
                await writer.drain()
            if request.headers.get("connection", "").lower() == "close":
                break
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()


async def serve(host: str, port: int, responses: Responses) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _serve_connection(reader, writer, responses)

    server = await asyncio.start_server(handle, host, port, backlog=4096)
    bound = server.sockets[0].getsockname()[1]
    print(f"READY {bound}", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--precompute", default="", help="comma-separated chunk counts to build at startup"
    )
    args = parser.parse_args(argv)
    responses = Responses()
    for chunks in filter(None, args.precompute.split(",")):
        for shape in payloads.SHAPES:
            responses.stream(shape, int(chunks))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port, responses))


if __name__ == "__main__":
    main()
