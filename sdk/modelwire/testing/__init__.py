"""The testing kit for code that uses modelwire: scripted providers and cassette replay.

`MockProvider` (sync) and `AsyncMockProvider` are real modelwire clients whose HTTP client
talks to an in-memory script instead of a network. Scripted answers are rendered as the
bytes a real provider sends (OpenAI chat chunks by default; Anthropic SSE events or Ollama
NDJSON with `dialect_of=`), so they go through the real decoder, dialect parser,
accumulator, error mapping and retries::

    mock = MockProvider().reply("Hello world").fail(status=429, retry_after=0).reply("Hi")
    assert mock.complete(messages=[{"role": "user", "content": "Hi"}]).content == "Hello world"
    assert mock.requests[0]["messages"][0]["content"] == "Hi"

`replay_cassette(path, client)` replays a vcrpy cassette into any generated client.

The pytest plugin (`modelwire.testing.pytest_plugin`, loaded in every pytest run of anyone
who installs modelwire) imports this package, so importing it stays cheap: only the
standard library here. httpx and the client bases load when a mock is first created (they
are mixed into `MockProvider` then), vcrpy when `replay_cassette` is called.
"""

from __future__ import annotations

import functools
import http
import json
import re
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload

if TYPE_CHECKING:
    import httpx

    from .._core.policy import RetryPolicy, Timeout
    from .._transport._async import AsyncBaseClient
    from .._transport._async import AsyncBaseClient as _AsyncBase
    from .._transport._sync import BaseClient
    from .._transport._sync import BaseClient as _SyncBase
    from ..spec import ProviderSpec
    from ..types import FinishReason, Usage
else:
    # At run time the real bases are mixed in when the first mock is created (see
    # `_with_base`): importing them here would load httpx and pydantic with the plugin.
    _SyncBase = _AsyncBase = object

__all__ = [
    "AsyncMockProvider",
    "CassetteReplay",
    "MockProvider",
    "MockScriptError",
    "replay_cassette",
]

_CREATED = 1_700_000_000
_CREATED_AT = "2023-11-14T22:13:20Z"
_DEFAULT_TEXT = ("The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", ".")
_FAKE_KEY = "mock-key-not-real"


class MockScriptError(AssertionError):
    """A mock got a request its script has no answer for (or was scripted wrongly)."""


# --------------------------------------------------------------------------- the script


@dataclass
class _Call:
    id: str | None
    name: str
    arguments: str  # JSON text


@dataclass
class _Reply:
    """One scripted answer to one chat request; rendered when the request arrives."""

    chunks: list[str]
    reasoning: str | None = None
    tool_calls: list[_Call] = field(default_factory=list)
    finish_reason: FinishReason | None = None
    usage: Any = "auto"
    delay: float = 0.0
    tool_chunk_size: int = 16
    structured: bool = False
    # how the body ends: whole, with an error event, or with the connection cut
    end: Literal["ok", "error", "disconnect"] = "ok"
    after_chunks: int = 0
    error_message: str = ""
    error_type: str | None = None
    error_code: str | None = None


@dataclass
class _Failure:
    """A scripted HTTP error status, with the provider's own error body."""

    status: int
    message: str | None
    error_type: str | None
    code: str | None
    retry_after: float | None
    headers: dict[str, str]


@dataclass
class _Planned:
    """What the transport sends back: a status, headers and the body in pieces."""

    status: int
    headers: dict[str, str]
    pieces: list[tuple[float, bytes]]  # (seconds to wait first, bytes)
    cut: bool = False  # the connection breaks after the last piece


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _words(text: str) -> list[str]:
    """Splits before each run of spaces: "Hello big world" -> "Hello", " big", " world"."""
    return [piece for piece in re.split(r"(?<=\S)(?=\s)", text) if piece]


def _pieces(text: str, size: int | None) -> list[str]:
    if size is None:
        return _words(text)
    if size < 1:
        raise ValueError("chunk_size must be at least 1")
    return [text[i : i + size] for i in range(0, len(text), size)]


def _count_words(value: Any) -> int:
    if isinstance(value, str):
        return len(value.split())
    if isinstance(value, list):
        return sum(_count_words(item) for item in value)
    if isinstance(value, dict):
        return sum(_count_words(value[k]) for k in ("content", "text", "system") if k in value)
    return 0


def _usage_pair(reply: _Reply, body: dict[str, Any]) -> tuple[int, int] | None:
    """(input, output) tokens: words in the request, one token per chunk, unless given."""
    usage = reply.usage
    if usage is None:
        return None
    if usage == "auto":
        words = _count_words(body.get("messages")) + _count_words(body.get("system"))
        pieces = len(reply.chunks) + len(reply.tool_calls) + (1 if reply.reasoning else 0)
        return max(words, 1), max(pieces, 1)
    if isinstance(usage, tuple):
        return int(usage[0]), int(usage[1])
    return int(usage.input_tokens), int(usage.output_tokens)


def _json_text(value: Any) -> str:
    """Structured output as JSON text: a pydantic model, dict, list, ... or text as is."""
    if isinstance(value, str):
        return value
    dump = getattr(value, "model_dump_json", None)
    if callable(dump):
        return str(dump())
    return json.dumps(value, ensure_ascii=False)


def _loads_object(text: str) -> Any:
    try:
        return json.loads(text) if text.strip() else {}
    except ValueError:
        return text


# --------------------------------------------------------------------------- rendering


@dataclass
class _Context:
    spec: ProviderSpec
    body: dict[str, Any]
    stream: bool
    number: int  # 1 for the first request of this mock

    @property
    def model(self) -> str:
        return str(self.body.get("model") or "mock-model")


_Event = tuple[bytes, Literal["pre", "delta", "tail"]]

_ANTHROPIC_STOP: dict[str, str] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "refusal",
    "other": "pause_turn",
    "error": "end_turn",
}
_ANTHROPIC_ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def _finish_of(reply: _Reply) -> FinishReason:
    if reply.finish_reason is not None:
        return reply.finish_reason
    return "tool_calls" if reply.tool_calls else "stop"


def _arg_pieces(call: _Call, size: int) -> list[str]:
    text = call.arguments
    return [text[i : i + size] for i in range(0, len(text), size)]


class _OpenAIRenderer:
    content_type_stream = "text/event-stream; charset=utf-8"

    def body(self, reply: _Reply, ctx: _Context) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": "".join(reply.chunks) or None}
        if reply.reasoning:
            message["reasoning_content"] = reply.reasoning
        if reply.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call.id or f"call_mock_{i}",
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
                for i, call in enumerate(reply.tool_calls)
            ]
        out: dict[str, Any] = {
            "id": f"chatcmpl-mock-{ctx.number}",
            "object": "chat.completion",
            "created": _CREATED,
            "model": ctx.model,
            "choices": [{"index": 0, "message": message, "finish_reason": _finish_of(reply)}],
        }
        usage = _usage_pair(reply, ctx.body)
        if usage is not None:
            out["usage"] = self._usage(usage)
        return out

    @staticmethod
    def _usage(usage: tuple[int, int]) -> dict[str, int]:
        return {
            "prompt_tokens": usage[0],
            "completion_tokens": usage[1],
            "total_tokens": usage[0] + usage[1],
        }

    def events(self, reply: _Reply, ctx: _Context) -> list[_Event]:
        head = {
            "id": f"chatcmpl-mock-{ctx.number}",
            "object": "chat.completion.chunk",
            "created": _CREATED,
            "model": ctx.model,
        }

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            return b"data: " + _dumps({**head, "choices": [choice]}) + b"\n\n"

        events: list[_Event] = [(chunk({"role": "assistant", "content": ""}), "pre")]
        if reply.reasoning:
            events.append((chunk({"reasoning_content": reply.reasoning}), "delta"))
        events += [(chunk({"content": text}), "delta") for text in reply.chunks]
        for i, call in enumerate(reply.tool_calls):
            start = {
                "index": i,
                "id": call.id or f"call_mock_{i}",
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            events.append((chunk({"tool_calls": [start]}), "delta"))
            for piece in _arg_pieces(call, reply.tool_chunk_size):
                fragment = {"index": i, "function": {"arguments": piece}}
                events.append((chunk({"tool_calls": [fragment]}), "delta"))
        events.append((chunk({}, _finish_of(reply)), "tail"))
        usage = _usage_pair(reply, ctx.body)
        wants_usage = (ctx.body.get("stream_options") or {}).get("include_usage")
        if usage is not None and wants_usage:
            last = {**head, "choices": [], "usage": self._usage(usage)}
            events.append((b"data: " + _dumps(last) + b"\n\n", "tail"))
        events.append((b"data: [DONE]\n\n", "tail"))
        return events

    def stream_error(self, reply: _Reply) -> bytes:
        error = {
            "message": reply.error_message,
            "type": reply.error_type or "server_error",
            "param": None,
            "code": reply.error_code,
        }
        return b"data: " + _dumps({"error": error}) + b"\n\n"

    def error_body(self, failure: _Failure, message: str) -> dict[str, Any]:
        status = failure.status
        default_type = "server_error" if status >= 500 else "invalid_request_error"
        default_code = {401: "invalid_api_key", 429: "rate_limit_exceeded"}.get(status)
        if status == 429:
            default_type = "requests"
        return {
            "error": {
                "message": message,
                "type": failure.error_type or default_type,
                "param": None,
                "code": failure.code if failure.code is not None else default_code,
            }
        }

    def models(self, spec: ProviderSpec, model: str | None) -> dict[str, Any]:
        ids = spec.models or [model or "mock-model"]
        return {
            "object": "list",
            "data": [
                {"id": m, "object": "model", "created": _CREATED, "owned_by": "mock"} for m in ids
            ],
        }

    def embeddings(self, body: dict[str, Any]) -> dict[str, Any]:
        inputs = body.get("input") or []
        items = [inputs] if isinstance(inputs, str) else list(inputs)
        return {
            "object": "list",
            "model": body.get("model"),
            "data": [
                {"object": "embedding", "index": i, "embedding": _vector(str(text))}
                for i, text in enumerate(items)
            ],
            "usage": {"prompt_tokens": _count_words(items), "total_tokens": _count_words(items)},
        }


class _AnthropicRenderer:
    content_type_stream = "text/event-stream; charset=utf-8"

    def _tool_name(self, ctx: _Context) -> str | None:
        choice = ctx.body.get("tool_choice") or {}
        if isinstance(choice, dict) and choice.get("type") == "tool":
            return str(choice.get("name"))
        return None

    def body(self, reply: _Reply, ctx: _Context) -> dict[str, Any]:
        content: list[dict[str, Any]] = []
        if reply.reasoning:
            content.append(
                {"type": "thinking", "thinking": reply.reasoning, "signature": "mock-signature"}
            )
        if reply.chunks or not reply.tool_calls:
            content.append({"type": "text", "text": "".join(reply.chunks)})
        for i, call in enumerate(reply.tool_calls):
            arguments = _loads_object(call.arguments)
            content.append(
                {
                    "type": "tool_use",
                    "id": call.id or f"toolu_mock_{i}",
                    "name": call.name,
                    "input": arguments if isinstance(arguments, dict) else {},
                }
            )
        out: dict[str, Any] = {
            "id": f"msg_mock_{ctx.number}",
            "type": "message",
            "role": "assistant",
            "model": ctx.model,
            "content": content,
            "stop_reason": _ANTHROPIC_STOP[_finish_of(reply)],
            "stop_sequence": None,
        }
        usage = _usage_pair(reply, ctx.body)
        if usage is not None:
            out["usage"] = {"input_tokens": usage[0], "output_tokens": usage[1]}
        return out

    @staticmethod
    def _event(name: str, data: dict[str, Any]) -> bytes:
        return b"event: " + name.encode() + b"\ndata: " + _dumps({"type": name, **data}) + b"\n\n"

    def events(self, reply: _Reply, ctx: _Context) -> list[_Event]:
        ev = self._event
        usage = _usage_pair(reply, ctx.body)
        message: dict[str, Any] = {
            "id": f"msg_mock_{ctx.number}",
            "type": "message",
            "role": "assistant",
            "model": ctx.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
        }
        if usage is not None:
            message["usage"] = {"input_tokens": usage[0], "output_tokens": 1}
        events: list[_Event] = [
            (ev("message_start", {"message": message}), "pre"),
            (ev("ping", {}), "pre"),
        ]
        index = 0

        def delta(kind: str, **payload: Any) -> bytes:
            return ev("content_block_delta", {"index": index, "delta": {"type": kind, **payload}})

        block: dict[str, Any]
        if reply.reasoning:
            block = {"type": "thinking", "thinking": "", "signature": ""}
            events.append(
                (ev("content_block_start", {"index": index, "content_block": block}), "pre")
            )
            events.append((delta("thinking_delta", thinking=reply.reasoning), "delta"))
            events.append((delta("signature_delta", signature="mock-signature"), "pre"))
            events.append((ev("content_block_stop", {"index": index}), "pre"))
            index += 1
        if reply.chunks or not reply.tool_calls:
            block = {"type": "text", "text": ""}
            events.append(
                (ev("content_block_start", {"index": index, "content_block": block}), "pre")
            )
            events += [(delta("text_delta", text=text), "delta") for text in reply.chunks]
            events.append((ev("content_block_stop", {"index": index}), "pre"))
            index += 1
        for i, call in enumerate(reply.tool_calls):
            block = {
                "type": "tool_use",
                "id": call.id or f"toolu_mock_{i}",
                "name": call.name,
                "input": {},
            }
            events.append(
                (ev("content_block_start", {"index": index, "content_block": block}), "pre")
            )
            events += [
                (delta("input_json_delta", partial_json=piece), "delta")
                for piece in _arg_pieces(call, reply.tool_chunk_size)
            ]
            events.append((ev("content_block_stop", {"index": index}), "pre"))
            index += 1
        final: dict[str, Any] = {
            "delta": {"stop_reason": _ANTHROPIC_STOP[_finish_of(reply)], "stop_sequence": None}
        }
        if usage is not None:
            final["usage"] = {"output_tokens": usage[1]}
        events.append((ev("message_delta", final), "tail"))
        events.append((ev("message_stop", {}), "tail"))
        return events

    def stream_error(self, reply: _Reply) -> bytes:
        error = {"type": reply.error_type or "api_error", "message": reply.error_message}
        return self._event("error", {"error": error})

    def error_body(self, failure: _Failure, message: str) -> dict[str, Any]:
        default = _ANTHROPIC_ERROR_TYPES.get(failure.status, "api_error")
        return {
            "type": "error",
            "error": {"type": failure.error_type or default, "message": message},
        }

    def models(self, spec: ProviderSpec, model: str | None) -> dict[str, Any]:
        ids = spec.models or [model or "mock-model"]
        return {
            "data": [
                {"id": m, "type": "model", "display_name": m, "created_at": _CREATED_AT}
                for m in ids
            ],
            "has_more": False,
        }

    def embeddings(self, body: dict[str, Any]) -> dict[str, Any]:  # pragma: no cover
        raise MockScriptError("Anthropic serves no embeddings")


class _OllamaRenderer:
    content_type_stream = "application/x-ndjson"

    def _message(self, reply: _Reply) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": "".join(reply.chunks)}
        if reply.reasoning:
            message["thinking"] = reply.reasoning
        if reply.tool_calls:
            message["tool_calls"] = [self._call(i, call) for i, call in enumerate(reply.tool_calls)]
        return message

    @staticmethod
    def _call(index: int, call: _Call) -> dict[str, Any]:
        out: dict[str, Any] = {
            "function": {
                "index": index,
                "name": call.name,
                "arguments": _loads_object(call.arguments),
            }
        }
        if call.id:
            out["id"] = call.id
        return out

    @staticmethod
    def _done_reason(reply: _Reply) -> str:
        return "length" if _finish_of(reply) == "length" else "stop"

    def _counts(self, reply: _Reply, ctx: _Context) -> dict[str, int]:
        usage = _usage_pair(reply, ctx.body)
        if usage is None:
            return {}
        return {"total_duration": 1_000_000, "prompt_eval_count": usage[0], "eval_count": usage[1]}

    def body(self, reply: _Reply, ctx: _Context) -> dict[str, Any]:
        return {
            "model": ctx.model,
            "created_at": _CREATED_AT,
            "message": self._message(reply),
            "done": True,
            "done_reason": self._done_reason(reply),
            **self._counts(reply, ctx),
        }

    def events(self, reply: _Reply, ctx: _Context) -> list[_Event]:
        def record(message: dict[str, Any], **extra: Any) -> bytes:
            data = {
                "model": ctx.model,
                "created_at": _CREATED_AT,
                "message": {"role": "assistant", "content": "", **message},
                "done": False,
                **extra,
            }
            return _dumps(data) + b"\n"

        events: list[_Event] = []
        if reply.reasoning:
            events.append((record({"thinking": reply.reasoning}), "delta"))
        events += [(record({"content": text}), "delta") for text in reply.chunks]
        for i, call in enumerate(reply.tool_calls):
            events.append((record({"tool_calls": [self._call(i, call)]}), "delta"))
        last = record(
            {}, done=True, done_reason=self._done_reason(reply), **self._counts(reply, ctx)
        )
        events.append((last, "tail"))
        return events

    def stream_error(self, reply: _Reply) -> bytes:
        return _dumps({"error": reply.error_message}) + b"\n"

    def error_body(self, failure: _Failure, message: str) -> dict[str, Any]:
        return {"error": message}

    def models(self, spec: ProviderSpec, model: str | None) -> dict[str, Any]:
        ids = spec.models or [model or "mock-model"]
        return {"models": [{"name": m, "model": m, "modified_at": _CREATED_AT} for m in ids]}

    def embeddings(self, body: dict[str, Any]) -> dict[str, Any]:
        inputs = body.get("input") or []
        items = [inputs] if isinstance(inputs, str) else list(inputs)
        return {
            "model": body.get("model"),
            "embeddings": [_vector(str(text)) for text in items],
            "prompt_eval_count": _count_words(items),
        }


_Renderer = _OpenAIRenderer | _AnthropicRenderer | _OllamaRenderer
_RENDERERS: dict[str, _Renderer] = {
    "openai_chat": _OpenAIRenderer(),
    "anthropic_messages": _AnthropicRenderer(),
    "ollama_chat": _OllamaRenderer(),
}


def _vector(text: str) -> list[float]:
    """A deterministic 8-dimensional stand-in embedding."""
    import hashlib

    digest = hashlib.sha256(text.encode()).digest()
    return [round(b / 255.0, 4) for b in digest[:8]]


# --------------------------------------------------------------------------- the script


class _Script:
    """The queue of scripted answers and the record of requests, shared by the transport."""

    def __init__(self, spec: ProviderSpec, model: str | None) -> None:
        self.spec = spec
        self.model = model
        self.renderer = _RENDERERS[spec.dialect]
        self.queue: deque[_Reply | _Failure] = deque()
        self.requests: list[dict[str, Any]] = []
        self.http_requests: list[httpx.Request] = []
        self._lock = threading.Lock()

    # ----------------------------------------------------------------- planning

    def plan(self, request: httpx.Request) -> _Planned:
        path = request.url.path
        endpoints = self.spec.endpoints
        body = json.loads(request.content) if request.content else {}
        with self._lock:
            self.http_requests.append(request)
            number = len(self.http_requests)
            if not path.endswith(endpoints.chat):
                item = None
            else:
                self.requests.append(body)
                item = self.queue.popleft() if self.queue else None
                if item is None:
                    raise MockScriptError(
                        f"{self._owner_name()} got chat request #{len(self.requests)} "
                        f"({request.method} {path}) but its script is empty: queue an answer "
                        "first with .reply(...), .fail(...), ..."
                    )
        headers = self._request_id(number)
        if not path.endswith(endpoints.chat):
            if endpoints.models and path.endswith(endpoints.models):
                return self._json(200, self.renderer.models(self.spec, self.model), headers)
            if endpoints.embeddings and path.endswith(endpoints.embeddings):
                return self._json(200, self.renderer.embeddings(body), headers)
            failure = _Failure(404, f"no such endpoint: {path}", None, None, None, {})
            return self._failure(failure, headers)
        if isinstance(item, _Failure):
            return self._failure(item, headers)
        assert item is not None
        ctx = _Context(self.spec, body, bool(body.get("stream")), number)
        return self._reply(item, ctx, headers)

    def _owner_name(self) -> str:
        return "MockProvider" if self.spec.name == "mock" else f"MockProvider({self.spec.name})"

    def _request_id(self, number: int) -> dict[str, str]:
        if not self.spec.request_id_headers:
            return {}
        return {self.spec.request_id_headers[0]: f"req_mock_{number}"}

    @staticmethod
    def _json(status: int, body: Any, headers: dict[str, str]) -> _Planned:
        headers = {**headers, "content-type": "application/json"}
        return _Planned(status, headers, [(0.0, _dumps(body))])

    def _failure(self, failure: _Failure, headers: dict[str, str]) -> _Planned:
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

    def _resolve(self, reply: _Reply, ctx: _Context) -> _Reply:
        """Structured output becomes a forced tool call where the provider answers so."""
        if not reply.structured:
            return reply
        text = "".join(reply.chunks)
        tool = self._structured_tool(ctx)
        if tool is None:
            return reply
        call = _Call(None, tool, text)
        return _Reply(
            chunks=[],
            tool_calls=[call],
            usage=reply.usage,
            delay=reply.delay,
            tool_chunk_size=reply.tool_chunk_size,
        )

    def _structured_tool(self, ctx: _Context) -> str | None:
        if self.spec.capabilities.structured_output != "tool":
            return None
        renderer = self.renderer
        if isinstance(renderer, _AnthropicRenderer):
            return renderer._tool_name(ctx)
        return None

    def _reply(self, reply: _Reply, ctx: _Context, headers: dict[str, str]) -> _Planned:
        reply = self._resolve(reply, ctx)
        renderer = self.renderer
        if not ctx.stream:
            data = _dumps(renderer.body(reply, ctx))
            headers = {**headers, "content-type": "application/json"}
            if reply.end != "ok":
                # a non-streamed body cut short: the connection breaks while it is read
                return _Planned(200, headers, [(0.0, data[: len(data) // 2])], cut=True)
            return _Planned(200, headers, [(0.0, data)])
        headers = {**headers, "content-type": renderer.content_type_stream}
        events = renderer.events(reply, ctx)
        pieces: list[tuple[float, bytes]] = []
        if reply.end == "ok":
            for data, kind in events:
                pieces.append((reply.delay if kind == "delta" else 0.0, data))
            return _Planned(200, headers, pieces)
        sent = 0
        for data, kind in events:
            if kind == "tail" or (kind == "delta" and sent >= reply.after_chunks):
                break
            pieces.append((reply.delay if kind == "delta" else 0.0, data))
            sent += kind == "delta"
        if reply.end == "error":
            pieces.append((0.0, renderer.stream_error(reply)))
            return _Planned(200, headers, pieces)
        return _Planned(200, headers, pieces, cut=True)


# --------------------------------------------------------------------------- transports


@functools.cache
def _transport_types() -> tuple[type[Any], type[Any]]:
    """The httpx transport classes, built on first use (httpx loads only then)."""
    import asyncio
    import time
    from collections.abc import AsyncIterator, Iterator

    import httpx

    def read_timeout(request: httpx.Request) -> float | None:
        value = (request.extensions.get("timeout") or {}).get("read")
        return float(value) if value is not None else None

    def timeout_error(request: httpx.Request, delay: float, limit: float) -> httpx.ReadTimeout:
        return httpx.ReadTimeout(
            f"a scripted delay of {delay:g}s outlasted the read timeout of {limit:g}s",
            request=request,
        )

    def cut_error(request: httpx.Request) -> httpx.RemoteProtocolError:
        return httpx.RemoteProtocolError(
            "peer closed connection without sending complete message body "
            "(scripted by MockProvider)",
            request=request,
        )

    class SyncBody(httpx.SyncByteStream):
        def __init__(self, planned: _Planned, request: httpx.Request) -> None:
            self._planned = planned
            self._request = request

        def __iter__(self) -> Iterator[bytes]:
            limit = read_timeout(self._request)
            for delay, data in self._planned.pieces:
                if delay > 0:
                    if limit is not None and delay > limit:
                        time.sleep(limit)
                        raise timeout_error(self._request, delay, limit)
                    time.sleep(delay)
                yield data
            if self._planned.cut:
                raise cut_error(self._request)

    class AsyncBody(httpx.AsyncByteStream):
        def __init__(self, planned: _Planned, request: httpx.Request) -> None:
            self._planned = planned
            self._request = request

        async def __aiter__(self) -> AsyncIterator[bytes]:
            limit = read_timeout(self._request)
            for delay, data in self._planned.pieces:
                if delay > 0:
                    if limit is not None and delay > limit:
                        await asyncio.sleep(limit)
                        raise timeout_error(self._request, delay, limit)
                    await asyncio.sleep(delay)
                yield data
            if self._planned.cut:
                raise cut_error(self._request)

    class SyncTransport(httpx.BaseTransport):
        def __init__(self, script: _Script) -> None:
            self.script = script

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            planned = self.script.plan(request)
            return httpx.Response(
                planned.status,
                headers=planned.headers,
                stream=SyncBody(planned, request),
                request=request,
            )

    class AsyncTransport(httpx.AsyncBaseTransport):
        def __init__(self, script: _Script) -> None:
            self.script = script

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            planned = self.script.plan(request)
            return httpx.Response(
                planned.status,
                headers=planned.headers,
                stream=AsyncBody(planned, request),
                request=request,
            )

    return SyncTransport, AsyncTransport


# --------------------------------------------------------------------------- specs


@functools.cache
def _mock_spec() -> ProviderSpec:
    """The spec of the default mock: an OpenAI-compatible provider named "mock"."""
    from ..spec import ProviderSpec

    return ProviderSpec.model_validate(
        {
            "name": "mock",
            "display_name": "Mock provider",
            "class_name": "MockProvider",
            "description": "An in-memory OpenAI-compatible provider for tests.",
            "dialect": "openai_chat",
            "base_url": "https://mock.modelwire.invalid/v1",
            "auth": {"type": "none"},
            "endpoints": {
                "chat": "/chat/completions",
                "models": "/models",
                "embeddings": "/embeddings",
            },
            "models": ["mock-model"],
            "default_model": "mock-model",
            "capabilities": {"embeddings": True, "reasoning": True, "stream_usage": True},
            "request_id_headers": ["x-request-id"],
        }
    )


# a dialect name stands for the provider that speaks it
_DIALECT_PROVIDERS = {"anthropic_messages": "anthropic", "ollama_chat": "ollama"}


def _resolve_spec(dialect_of: str | None, spec: ProviderSpec | str | Path | None) -> ProviderSpec:
    from ..errors import ConfigurationError

    if spec is not None and dialect_of is not None:
        raise ConfigurationError("give dialect_of= or spec=, not both")
    if spec is not None:
        from ..spec import ProviderSpec, read_spec_file

        return spec if isinstance(spec, ProviderSpec) else read_spec_file(spec)
    if dialect_of in (None, "mock", "openai_chat"):
        return _mock_spec()
    assert dialect_of is not None
    from ..providers import PROVIDERS

    name = _DIALECT_PROVIDERS.get(dialect_of, dialect_of)
    if name not in PROVIDERS:
        raise ConfigurationError(
            f"unknown provider {dialect_of!r} for dialect_of=: use one of "
            f"{', '.join(sorted(PROVIDERS))}, or a dialect name "
            "(openai_chat, anthropic_messages, ollama_chat)"
        )
    found: ProviderSpec = import_module(f"modelwire.providers.{PROVIDERS[name][0]}").SPEC
    return found


def _client_kwargs(
    spec: ProviderSpec,
    *,
    model: str | None,
    api_key: str | None,
    base_url: str | None,
    timeout: float | Timeout | None,
    max_retries: int | RetryPolicy | None,
    default_headers: Mapping[str, str] | None,
    max_line_bytes: int | None,
) -> dict[str, Any]:
    from .._core.policy import RetryPolicy

    if not isinstance(max_retries, RetryPolicy):
        # tests should not sleep: retries happen at once (a scripted Retry-After still counts)
        retries = 2 if max_retries is None else max_retries
        max_retries = RetryPolicy(max_retries=retries, initial_delay=0.0, max_delay=0.0)
    return {
        "api_key": api_key or (_FAKE_KEY if spec.auth.type != "none" else None),
        # the spec's own URL, never a *_BASE_URL variable of the machine running the tests
        "base_url": base_url or spec.base_url,
        "model": model or spec.default_model or "mock-model",
        "timeout": timeout,
        "max_retries": max_retries,
        "default_headers": default_headers,
        "max_line_bytes": max_line_bytes,
    }


_BASES: dict[type, type] = {}


def _with_base(cls: type, base: type) -> type:
    """`cls` with the real client base mixed in (made once per class, then reused)."""
    made = _BASES.get(cls)
    if made is None:
        if issubclass(cls, base):
            made = cls
        else:
            namespace = {
                "__module__": cls.__module__,
                "__qualname__": cls.__qualname__,
                "__doc__": cls.__doc__,
            }
            made = type(cls.__name__, (cls, base), namespace)
        _BASES[cls] = made
    return made


# --------------------------------------------------------------------------- the mocks

_S = TypeVar("_S", bound="_ScriptAPI")


class _ScriptAPI:
    """The script methods `MockProvider` and `AsyncMockProvider` share. Each queues one
    answer for one chat request (first in, first out) and returns the mock, so calls chain.
    """

    _script: _Script

    # ----------------------------------------------------------------- answers

    def reply(
        self: _S,
        text: str,
        *,
        chunk_size: int | None = None,
        reasoning: str | None = None,
        finish_reason: FinishReason = "stop",
        usage: Usage | tuple[int, int] | Literal["auto"] | None = "auto",
        delay: float = 0.0,
    ) -> _S:
        """Answer with `text`. Streamed, it arrives in word-sized chunks (or `chunk_size`
        characters each), `delay` seconds apart. `usage` defaults to the number of words
        in the request and one token per chunk; None sends none; `(input, output)` sets it.
        """
        return self._push(
            _Reply(
                _pieces(text, chunk_size),
                reasoning=reasoning,
                finish_reason=finish_reason,
                usage=usage,
                delay=delay,
            )
        )

    def reply_chunks(
        self: _S,
        chunks: Sequence[str],
        *,
        delay: float = 0.0,
        reasoning: str | None = None,
        finish_reason: FinishReason = "stop",
        usage: Usage | tuple[int, int] | Literal["auto"] | None = "auto",
    ) -> _S:
        """Answer with exactly these text chunks, `delay` seconds apart when streamed."""
        if isinstance(chunks, str):
            raise TypeError("reply_chunks() takes a list of strings; for one string use reply()")
        return self._push(
            _Reply(
                list(chunks),
                reasoning=reasoning,
                finish_reason=finish_reason,
                usage=usage,
                delay=delay,
            )
        )

    def reply_tool_call(
        self: _S,
        name: str,
        arguments: Mapping[str, Any] | str | None = None,
        *,
        call_id: str | None = None,
        text: str = "",
        chunk_size: int = 16,
        usage: Usage | tuple[int, int] | Literal["auto"] | None = "auto",
        delay: float = 0.0,
    ) -> _S:
        """Answer with a call of tool `name` (arguments as a dict, or raw JSON text);
        streamed, the arguments arrive in `chunk_size`-character fragments."""
        args = arguments if isinstance(arguments, str) else json.dumps(dict(arguments or {}))
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        return self._push(
            _Reply(
                _words(text),
                tool_calls=[_Call(call_id, name, args)],
                usage=usage,
                delay=delay,
                tool_chunk_size=chunk_size,
            )
        )

    def reply_structured(
        self: _S,
        value: Any,
        *,
        chunk_size: int | None = 8,
        usage: Usage | tuple[int, int] | Literal["auto"] | None = "auto",
        delay: float = 0.0,
    ) -> _S:
        """Answer a `response_format=` request with `value` (a pydantic model, a dict, a
        list, or raw JSON text, sent as is). Providers that answer structured output
        through a forced tool (Anthropic) get it as that tool's call."""
        text = _json_text(value)
        return self._push(
            _Reply(
                _pieces(text, chunk_size),
                usage=usage,
                delay=delay,
                structured=True,
                tool_chunk_size=chunk_size or 16,
            )
        )

    # ----------------------------------------------------------------- failures

    def fail(
        self: _S,
        status: int = 500,
        *,
        message: str | None = None,
        error_type: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
        headers: Mapping[str, str] | None = None,
        times: int = 1,
    ) -> _S:
        """Answer the next `times` chat requests with HTTP `status` and the provider's own
        error body (`message`, `error_type`, `code`), with `Retry-After` when given."""
        if status < 400:
            raise ValueError("fail() needs an error status (400 or more)")
        failure = _Failure(status, message, error_type, code, retry_after, dict(headers or {}))
        for _ in range(times):
            self._push(failure)
        return self

    def fail_mid_stream(
        self: _S,
        after_chunks: int = 2,
        *,
        error: str = "the provider failed mid-stream (scripted by MockProvider)",
        error_type: str | None = None,
        code: str | None = None,
        text: str | Sequence[str] | None = None,
    ) -> _S:
        """Stream `after_chunks` chunks of `text` (default "The quick brown fox..."), then
        the provider's error event: iterating raises `StreamEventError` with `.partial`.
        A non-streamed request instead has its body cut short (a connection error)."""
        return self._push(
            _Reply(
                self._failing_chunks(text),
                end="error",
                after_chunks=after_chunks,
                error_message=error,
                error_type=error_type,
                error_code=code,
            )
        )

    def disconnect(
        self: _S, after_chunks: int = 2, *, text: str | Sequence[str] | None = None
    ) -> _S:
        """Stream `after_chunks` chunks, then break the connection: iterating raises
        `StreamInterruptedError` with `.partial`. A non-streamed request is cut the same
        way while its body is read (`APIConnectionError`, which is retried)."""
        return self._push(
            _Reply(self._failing_chunks(text), end="disconnect", after_chunks=after_chunks)
        )

    # ----------------------------------------------------------------- what was sent

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The JSON body of every chat request, in the order they were sent (retries too)."""
        return self._script.requests

    @property
    def last_request(self) -> dict[str, Any]:
        """The JSON body of the last chat request."""
        if not self._script.requests:
            raise MockScriptError("no chat request was sent yet")
        return self._script.requests[-1]

    @property
    def http_requests(self) -> list[httpx.Request]:
        """Every HTTP request (chat, models, embeddings), with its URL and headers."""
        return self._script.http_requests

    @property
    def pending(self) -> int:
        """Scripted answers not used yet."""
        return len(self._script.queue)

    def reset(self) -> None:
        """Forgets the script and the recorded requests."""
        self._script.queue.clear()
        self._script.requests.clear()
        self._script.http_requests.clear()

    # ----------------------------------------------------------------- internals

    @staticmethod
    def _failing_chunks(text: str | Sequence[str] | None) -> list[str]:
        if text is None:
            return list(_DEFAULT_TEXT)
        return _words(text) if isinstance(text, str) else list(text)

    def _push(self: _S, item: _Reply | _Failure) -> _S:
        self._script.queue.append(item)
        return self


_M = TypeVar("_M", bound="MockProvider")
_AM = TypeVar("_AM", bound="AsyncMockProvider")


class MockProvider(_ScriptAPI, _SyncBase):
    """A real sync modelwire client answered by an in-memory script: `reply()`,
    `reply_chunks()`, `reply_tool_call()`, `reply_structured()`, `fail()`,
    `fail_mid_stream()` and `disconnect()` queue answers; `requests` records what was sent.

    `MockProvider()` speaks OpenAI's chat format as a provider named "mock" (no key, no
    options). `MockProvider(dialect_of="anthropic")` (any provider name, or a dialect name
    such as "ollama_chat") uses that provider's spec: its wire format, error bodies, error
    mapping, options and limits; a placeholder key is used when it needs one.
    `spec=` takes any `ProviderSpec` or spec file instead.

    Retries happen without waiting (`max_retries` defaults to 2, as for real clients).
    """

    def __new__(cls: type[_M], *args: Any, **kwargs: Any) -> _M:
        from .._transport._sync import BaseClient

        made: _M = object.__new__(_with_base(cls, BaseClient))
        return made

    def __init__(
        self,
        dialect_of: str | None = None,
        *,
        spec: ProviderSpec | str | Path | None = None,
        model: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | Timeout | None = None,
        max_retries: int | RetryPolicy | None = None,
        default_headers: Mapping[str, str] | None = None,
        max_line_bytes: int | None = None,
    ) -> None:
        import httpx

        resolved = _resolve_spec(dialect_of, spec)
        kwargs = _client_kwargs(
            resolved,
            model=model,
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            max_line_bytes=max_line_bytes,
        )
        self.__dict__["spec"] = resolved  # this instance's spec, read by the base
        self._script = _Script(resolved, kwargs["model"])
        transport = _transport_types()[0](self._script)
        super().__init__(**kwargs, http_client=httpx.Client(transport=transport))
        self._owns_http = True


class AsyncMockProvider(_ScriptAPI, _AsyncBase):
    """The async `MockProvider`: the same script API, awaited calls."""

    def __new__(cls: type[_AM], *args: Any, **kwargs: Any) -> _AM:
        from .._transport._async import AsyncBaseClient

        made: _AM = object.__new__(_with_base(cls, AsyncBaseClient))
        return made

    def __init__(
        self,
        dialect_of: str | None = None,
        *,
        spec: ProviderSpec | str | Path | None = None,
        model: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | Timeout | None = None,
        max_retries: int | RetryPolicy | None = None,
        default_headers: Mapping[str, str] | None = None,
        max_line_bytes: int | None = None,
    ) -> None:
        import httpx

        resolved = _resolve_spec(dialect_of, spec)
        kwargs = _client_kwargs(
            resolved,
            model=model,
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            max_line_bytes=max_line_bytes,
        )
        self.__dict__["spec"] = resolved
        self._script = _Script(resolved, kwargs["model"])
        transport = _transport_types()[1](self._script)
        super().__init__(**kwargs, http_client=httpx.AsyncClient(transport=transport))
        self._owns_http = True


# --------------------------------------------------------------------------- cassettes

_C = TypeVar("_C", bound="BaseClient | AsyncBaseClient")

_VCR_INSTALL_HINT = "pip install vcrpy"


def _import_vcr() -> Any:
    try:
        return import_module("vcr")
    except ImportError:
        raise ImportError(
            f"replay_cassette() needs vcrpy, which is not installed: {_VCR_INSTALL_HINT}"
        ) from None


class CassetteReplay(Generic[_C]):
    """The context manager `replay_cassette` returns: `with` for a sync client, `async with`
    for an async one. Entering starts vcrpy's replay and makes the client; leaving closes
    the client and stops the replay."""

    def __init__(self, path: str | Path, make: Callable[[], _C], match_on: Sequence[str]) -> None:
        self.path = Path(path)
        self._make = make
        self._match_on = tuple(match_on)
        self._cassette: Any = None
        self._client: _C | None = None

    def _start(self) -> _C:
        if not self.path.is_file():
            raise FileNotFoundError(f"no cassette at {self.path}")
        vcr = _import_vcr()
        replayer = vcr.VCR(record_mode="none", match_on=self._match_on)
        self._cassette = replayer.use_cassette(str(self.path))
        self._cassette.__enter__()
        try:
            self._client = self._make()
        except BaseException as exc:
            self._cassette.__exit__(type(exc), exc, exc.__traceback__)
            raise
        return self._client

    def _stop(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        cassette, self._cassette = self._cassette, None
        if cassette is not None:
            cassette.__exit__(exc_type, exc, tb)

    def __enter__(self) -> _C:
        return self._start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        from .._transport._sync import BaseClient

        try:
            if isinstance(self._client, BaseClient):
                self._client.close()
        finally:
            self._stop(exc_type, exc, tb)

    async def __aenter__(self) -> _C:
        return self._start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        from .._transport._async import AsyncBaseClient
        from .._transport._sync import BaseClient

        try:
            if isinstance(self._client, AsyncBaseClient):
                await self._client.close()
            elif isinstance(self._client, BaseClient):
                self._client.close()
        finally:
            self._stop(exc_type, exc, tb)


def _client_class(client: str, asynchronous: bool) -> tuple[type[Any], str | None]:
    """(class, model) for a provider name ("openai", "openai/gpt-4o-mini") or a class
    name exported by modelwire ("OpenAI", "AsyncAnthropic")."""
    import modelwire

    from .._transport._async import AsyncBaseClient
    from .._transport._sync import BaseClient

    if "/" not in client and client[:1].isupper():
        found = getattr(modelwire, client, None)
        if isinstance(found, type) and issubclass(found, (BaseClient, AsyncBaseClient)):
            return found, None
    from ..providers import _split, client_class

    name, model = _split(client)
    return client_class(name, asynchronous=asynchronous), model


@overload
def replay_cassette(
    path: str | Path,
    client: type[_C],
    /,
    *,
    match_on: Sequence[str] = ...,
    **client_kwargs: Any,
) -> CassetteReplay[_C]: ...


@overload
def replay_cassette(
    path: str | Path,
    client: str,
    /,
    *,
    asynchronous: bool = ...,
    match_on: Sequence[str] = ...,
    **client_kwargs: Any,
) -> CassetteReplay[Any]: ...


def replay_cassette(
    path: str | Path,
    client: type[Any] | str,
    /,
    *,
    asynchronous: bool = False,
    match_on: Sequence[str] = ("method", "path"),
    **client_kwargs: Any,
) -> CassetteReplay[Any]:
    """Replays a vcrpy cassette into a generated client: `with replay_cassette(path,
    "openai") as client: ...` (or a class such as `modelwire.AsyncAnthropic`, with
    `async with`).

    Requests are matched on method and path (modelwire's request bodies differ from the
    recording client's); each recorded response plays once, in order, and a request with
    no recorded answer raises vcrpy's CannotOverwriteExistingCassetteException. Client
    keyword arguments are passed on, with defaults for replay: a placeholder API key,
    the provider's own base URL (not a *_BASE_URL variable) and `max_retries=0`.
    Needs vcrpy (`pip install vcrpy`), imported only here.
    """
    _import_vcr()  # fail now, naming the install command
    if isinstance(client, str):
        cls, model = _client_class(client, asynchronous)
        if model is not None:
            client_kwargs.setdefault("model", model)
    else:
        cls = client
    spec: ProviderSpec = cls.spec
    if spec.auth.type != "none":
        client_kwargs.setdefault("api_key", _FAKE_KEY)
    client_kwargs.setdefault("base_url", spec.base_url)
    client_kwargs.setdefault("max_retries", 0)

    def make() -> Any:
        return cls(**client_kwargs)

    return CassetteReplay(path, make, match_on)
