"""The in-memory server behind a mock's httpx client.

`MockServer.respond()` answers each request: a chat request with the next scripted answer,
written by the writer of the spec's dialect (`_render`) and framed as the provider frames
it (status, headers, a stream cut short); the models and embeddings endpoints without the
script, the token-counting endpoint with a count of the body's words, and a batch API
(`_batches`) with the script's answers. The answer is a
`Planned` response, which `SyncTransport` / `AsyncTransport` play back to httpx piece by
piece, with the scripted delays, read timeouts and broken connections that the client's
real error handling then sees.
"""

from __future__ import annotations

import asyncio
import http
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx

from ._batches import MockBatchAPI
from ._render import Context, Renderer
from ._script import Call, Failure, Reply, Script, ends_with_endpoint


@dataclass
class Planned:
    """What the transport sends back: a status, headers and the body in pieces."""

    status: int
    headers: dict[str, str]
    pieces: list[tuple[float, bytes]]  # (seconds to wait first, bytes)
    cut: bool = False  # the connection breaks after the last piece


class MockServer:
    """Turns each request into a `Planned` response, from the script and the spec."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.spec = script.spec
        self.renderer = Renderer(script.spec.dialect)
        batches = script.spec.endpoints.batches
        self.batch_api = MockBatchAPI(self, batches) if batches is not None else None

    def respond(self, request: httpx.Request) -> Planned:
        path = request.url.path
        endpoints = self.spec.endpoints
        if self.batch_api is not None and self.batch_api.handles(request):
            number, _ = self.script.take(request, {})  # recorded, and answered without the script
            status, answer = self.batch_api.respond(request)
            if isinstance(answer, bytes):
                headers = {**self._request_id(number), "content-type": "application/octet-stream"}
                return Planned(status, headers, [(0.0, answer)])
            return self._json(status, json.dumps(answer).encode(), self._request_id(number))
        body = json.loads(request.content) if request.content else {}
        number, answer = self.script.take(request, body)
        headers = self._request_id(number)
        if answer is None:  # not a chat request
            if endpoints.models and ends_with_endpoint(path, endpoints.models):
                models = self.renderer.models(self.spec, self.script.model)
                return self._json(200, models, headers)
            if endpoints.embeddings and ends_with_endpoint(path, endpoints.embeddings):
                return self._json(200, self.renderer.embeddings(body), headers)
            counting = endpoints.count_tokens
            if counting and ends_with_endpoint(path, counting.path):
                return self._json(200, self.renderer.token_count(counting.body, body), headers)
            failure = Failure(404, f"no such endpoint: {path}", None, None, None, {})
            return self._failure(failure, headers)
        if isinstance(answer, Failure):
            return self._failure(answer, headers)
        # a stream is asked for in the body, or at a path of its own (Gemini's, Bedrock's)
        stream = bool(body.get("stream")) or self.script.chat_kind(request) == "stream"
        ctx = Context(self.spec, body, stream, number)
        return self._reply(answer, ctx, headers)

    def _request_id(self, number: int) -> dict[str, str]:
        if not self.spec.request_id_headers:
            return {}
        return {self.spec.request_id_headers[0]: f"req_mock_{number}"}

    @staticmethod
    def _json(status: int, body: bytes, headers: dict[str, str]) -> Planned:
        headers = {**headers, "content-type": "application/json"}
        return Planned(status, headers, [(0.0, body)])

    def _failure(self, failure: Failure, headers: dict[str, str]) -> Planned:
        status = failure.status
        message = failure.message
        if message is None:
            try:
                phrase = http.HTTPStatus(status).phrase
            except ValueError:
                phrase = f"HTTP {status}"
            message = f"{phrase} (scripted by MockProvider)"
        extra = dict(headers)
        if failure.retry_after is not None:
            extra["retry-after"] = f"{failure.retry_after:g}"
        extra.update(failure.headers)
        return self._json(status, self.renderer.error_body(failure, message), extra)

    def _as_sent(self, reply: Reply, ctx: Context) -> Reply:
        """Structured output becomes a forced tool's call where the provider answers so."""
        if not reply.structured or self.spec.capabilities.structured_output not in (
            "tool",
            "output_config",
        ):
            return reply
        tool = self.renderer.structured_tool(ctx)
        if tool is None:
            return reply
        return Reply(
            chunks=[],
            tool_calls=[Call(None, tool, "".join(reply.chunks))],
            usage=reply.usage,
            delay=reply.delay,
            tool_chunk_size=reply.tool_chunk_size,
        )

    def _reply(self, reply: Reply, ctx: Context, headers: dict[str, str]) -> Planned:
        reply = self._as_sent(reply, ctx)
        renderer = self.renderer
        if not ctx.stream:
            data = renderer.body(reply, ctx)
            headers = {**headers, "content-type": "application/json"}
            if reply.end != "ok":
                # a non-streamed body cut short: the connection breaks while it is read
                return Planned(200, headers, [(0.0, data[: len(data) // 2])], cut=True)
            return Planned(200, headers, [(0.0, data)])
        headers = {**headers, "content-type": renderer.stream_content_type}
        events = renderer.events(reply, ctx)
        pieces: list[tuple[float, bytes]] = []
        if reply.end == "ok":
            for data, kind in events:
                pieces.append((reply.delay if kind == "delta" else 0.0, data))
            return Planned(200, headers, pieces)
        # cut short: the deltas after `after_chunks` and what finishes the stream are not sent
        sent = 0
        for data, kind in events:
            if kind == "end" or (kind == "delta" and sent >= reply.after_chunks):
                break
            pieces.append((reply.delay if kind == "delta" else 0.0, data))
            sent += kind == "delta"
        if reply.end == "error":
            pieces.append((0.0, renderer.stream_error(reply)))
            return Planned(200, headers, pieces)
        return Planned(200, headers, pieces, cut=True)


# --------------------------------------------------------------------------- playback


class _Playback:
    """A planned body as it arrives: what the sync and async byte streams share."""

    def __init__(self, planned: Planned, request: httpx.Request) -> None:
        self.planned = planned
        self.request = request
        limit = (request.extensions.get("timeout") or {}).get("read")
        self.read_timeout = float(limit) if limit is not None else None

    def wait(self, delay: float) -> tuple[float, httpx.ReadTimeout | None]:
        """How long to sleep before the next piece, and the error to raise after, when
        a scripted delay outlasts the client's read timeout."""
        limit = self.read_timeout
        if limit is None or delay <= limit:
            return delay, None
        error = httpx.ReadTimeout(
            f"a scripted delay of {delay:g}s outlasted the read timeout of {limit:g}s",
            request=self.request,
        )
        return limit, error

    def end(self) -> None:
        if self.planned.cut:
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body "
                "(scripted by MockProvider)",
                request=self.request,
            )


class _SyncBody(_Playback, httpx.SyncByteStream):
    def __iter__(self) -> Iterator[bytes]:
        for delay, data in self.planned.pieces:
            if delay > 0:
                seconds, error = self.wait(delay)
                time.sleep(seconds)
                if error is not None:
                    raise error
            yield data
        self.end()


class _AsyncBody(_Playback, httpx.AsyncByteStream):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        for delay, data in self.planned.pieces:
            if delay > 0:
                seconds, error = self.wait(delay)
                await asyncio.sleep(seconds)
                if error is not None:
                    raise error
            yield data
        self.end()


class SyncTransport(httpx.BaseTransport):
    def __init__(self, server: MockServer) -> None:
        self.server = server

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        planned = self.server.respond(request)
        stream = _SyncBody(planned, request)
        return httpx.Response(
            planned.status, headers=planned.headers, stream=stream, request=request
        )


class AsyncTransport(httpx.AsyncBaseTransport):
    def __init__(self, server: MockServer) -> None:
        self.server = server

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        planned = self.server.respond(request)
        stream = _AsyncBody(planned, request)
        return httpx.Response(
            planned.status, headers=planned.headers, stream=stream, request=request
        )
