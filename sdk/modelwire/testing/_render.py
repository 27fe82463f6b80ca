"""How each dialect spells a scripted answer: the JSON body, the stream (OpenAI SSE chunks,
Anthropic SSE events, Ollama NDJSON lines), error bodies, and the models and embeddings
endpoints. One renderer per dialect in `RENDERERS`; adding a dialect means adding one here.

The bytes follow what the real providers send (ids, `created` stamps and field order
included), so the mocks exercise the real decoders and parsers.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from ._script import Call, Failure, MockScriptError, Reply

if TYPE_CHECKING:
    from ..spec import ProviderSpec
    from ..types import FinishReason

# fixed stamps, so that rendered bodies are the same on every run
_CREATED = 1_700_000_000
_CREATED_AT = "2023-11-14T22:13:20Z"


@dataclass
class Context:
    """The request a reply answers."""

    spec: ProviderSpec
    body: dict[str, Any]  # the request's JSON body
    stream: bool
    number: int  # 1 for the first request of this mock

    @property
    def model(self) -> str:
        return str(self.body.get("model") or "mock-model")


# One piece of a streamed body and its part in the stream: "delta" pieces carry the answer
# (they are counted by `after_chunks` and spaced by `delay`), "pre" pieces frame them, and
# "tail" pieces close the stream (dropped when a scripted failure cuts it short).
Event = tuple[bytes, Literal["pre", "delta", "tail"]]


class Renderer(Protocol):
    content_type_stream: str

    def body(self, reply: Reply, ctx: Context) -> dict[str, Any]:
        """The whole (non-streamed) answer."""

    def events(self, reply: Reply, ctx: Context) -> list[Event]:
        """The streamed answer, piece by piece."""

    def stream_error(self, reply: Reply) -> bytes:
        """The error event a `fail_mid_stream()` stream ends with."""

    def error_body(self, failure: Failure, message: str) -> dict[str, Any]:
        """The JSON body of a scripted HTTP error."""

    def structured_tool(self, ctx: Context) -> str | None:
        """The tool a structured answer is sent as a call of (where the spec asks for
        structured output through a forced tool), or None to send it as text."""

    def models(self, spec: ProviderSpec, model: str | None) -> dict[str, Any]: ...

    def embeddings(self, body: dict[str, Any]) -> dict[str, Any]: ...


def dumps(value: Any) -> bytes:
    """Compact JSON, as providers send it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _count_words(value: Any) -> int:
    if isinstance(value, str):
        return len(value.split())
    if isinstance(value, list):
        return sum(_count_words(item) for item in value)
    if isinstance(value, dict):
        return sum(_count_words(value[k]) for k in ("content", "text", "system") if k in value)
    return 0


def _usage_pair(reply: Reply, body: dict[str, Any]) -> tuple[int, int] | None:
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


def _finish_of(reply: Reply) -> FinishReason:
    if reply.finish_reason is not None:
        return reply.finish_reason
    return "tool_calls" if reply.tool_calls else "stop"


def _arg_pieces(call: Call, size: int) -> list[str]:
    text = call.arguments
    return [text[i : i + size] for i in range(0, len(text), size)]


def _loads_object(text: str) -> Any:
    try:
        return json.loads(text) if text.strip() else {}
    except ValueError:
        return text


def _model_ids(spec: ProviderSpec, model: str | None) -> list[str]:
    return spec.models or [model or "mock-model"]


def _embedding_inputs(body: dict[str, Any]) -> list[Any]:
    inputs = body.get("input") or []
    return [inputs] if isinstance(inputs, str) else list(inputs)


def _vector(text: str) -> list[float]:
    """A deterministic 8-dimensional stand-in embedding."""
    digest = hashlib.sha256(text.encode()).digest()
    return [round(b / 255.0, 4) for b in digest[:8]]


# --------------------------------------------------------------------------- OpenAI


class _OpenAIRenderer:
    content_type_stream = "text/event-stream; charset=utf-8"

    def structured_tool(self, ctx: Context) -> str | None:
        return None  # structured output is asked for as such, and answered as text

    def body(self, reply: Reply, ctx: Context) -> dict[str, Any]:
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

    def events(self, reply: Reply, ctx: Context) -> list[Event]:
        head = {
            "id": f"chatcmpl-mock-{ctx.number}",
            "object": "chat.completion.chunk",
            "created": _CREATED,
            "model": ctx.model,
        }

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            return b"data: " + dumps({**head, "choices": [choice]}) + b"\n\n"

        events: list[Event] = [(chunk({"role": "assistant", "content": ""}), "pre")]
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
            events.append((b"data: " + dumps(last) + b"\n\n", "tail"))
        events.append((b"data: [DONE]\n\n", "tail"))
        return events

    def stream_error(self, reply: Reply) -> bytes:
        error = {
            "message": reply.error_message,
            "type": reply.error_type or "server_error",
            "param": None,
            "code": reply.error_code,
        }
        return b"data: " + dumps({"error": error}) + b"\n\n"

    def error_body(self, failure: Failure, message: str) -> dict[str, Any]:
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
        ids = _model_ids(spec, model)
        return {
            "object": "list",
            "data": [
                {"id": m, "object": "model", "created": _CREATED, "owned_by": "mock"} for m in ids
            ],
        }

    def embeddings(self, body: dict[str, Any]) -> dict[str, Any]:
        items = _embedding_inputs(body)
        return {
            "object": "list",
            "model": body.get("model"),
            "data": [
                {"object": "embedding", "index": i, "embedding": _vector(str(text))}
                for i, text in enumerate(items)
            ],
            "usage": {"prompt_tokens": _count_words(items), "total_tokens": _count_words(items)},
        }


# --------------------------------------------------------------------------- Anthropic

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


class _AnthropicRenderer:
    content_type_stream = "text/event-stream; charset=utf-8"

    def structured_tool(self, ctx: Context) -> str | None:
        # modelwire asks Anthropic for structured output by forcing one tool
        choice = ctx.body.get("tool_choice") or {}
        if isinstance(choice, dict) and choice.get("type") == "tool":
            return str(choice.get("name"))
        return None

    def body(self, reply: Reply, ctx: Context) -> dict[str, Any]:
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
        return b"event: " + name.encode() + b"\ndata: " + dumps({"type": name, **data}) + b"\n\n"

    def events(self, reply: Reply, ctx: Context) -> list[Event]:
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
        events: list[Event] = [
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

    def stream_error(self, reply: Reply) -> bytes:
        error = {"type": reply.error_type or "api_error", "message": reply.error_message}
        return self._event("error", {"error": error})

    def error_body(self, failure: Failure, message: str) -> dict[str, Any]:
        default = _ANTHROPIC_ERROR_TYPES.get(failure.status, "api_error")
        return {
            "type": "error",
            "error": {"type": failure.error_type or default, "message": message},
        }

    def models(self, spec: ProviderSpec, model: str | None) -> dict[str, Any]:
        ids = _model_ids(spec, model)
        return {
            "data": [
                {"id": m, "type": "model", "display_name": m, "created_at": _CREATED_AT}
                for m in ids
            ],
            "has_more": False,
        }

    def embeddings(self, body: dict[str, Any]) -> dict[str, Any]:  # pragma: no cover
        raise MockScriptError("Anthropic serves no embeddings")


# --------------------------------------------------------------------------- Ollama


class _OllamaRenderer:
    content_type_stream = "application/x-ndjson"

    def structured_tool(self, ctx: Context) -> str | None:
        return None  # structured output is asked for as such, and answered as text

    def _message(self, reply: Reply) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": "".join(reply.chunks)}
        if reply.reasoning:
            message["thinking"] = reply.reasoning
        if reply.tool_calls:
            message["tool_calls"] = [self._call(i, call) for i, call in enumerate(reply.tool_calls)]
        return message

    @staticmethod
    def _call(index: int, call: Call) -> dict[str, Any]:
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
    def _done_reason(reply: Reply) -> str:
        return "length" if _finish_of(reply) == "length" else "stop"

    def _counts(self, reply: Reply, ctx: Context) -> dict[str, int]:
        usage = _usage_pair(reply, ctx.body)
        if usage is None:
            return {}
        return {"total_duration": 1_000_000, "prompt_eval_count": usage[0], "eval_count": usage[1]}

    def body(self, reply: Reply, ctx: Context) -> dict[str, Any]:
        return {
            "model": ctx.model,
            "created_at": _CREATED_AT,
            "message": self._message(reply),
            "done": True,
            "done_reason": self._done_reason(reply),
            **self._counts(reply, ctx),
        }

    def events(self, reply: Reply, ctx: Context) -> list[Event]:
        def record(message: dict[str, Any], **extra: Any) -> bytes:
            data = {
                "model": ctx.model,
                "created_at": _CREATED_AT,
                "message": {"role": "assistant", "content": "", **message},
                "done": False,
                **extra,
            }
            return dumps(data) + b"\n"

        events: list[Event] = []
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

    def stream_error(self, reply: Reply) -> bytes:
        return dumps({"error": reply.error_message}) + b"\n"

    def error_body(self, failure: Failure, message: str) -> dict[str, Any]:
        return {"error": message}

    def models(self, spec: ProviderSpec, model: str | None) -> dict[str, Any]:
        ids = _model_ids(spec, model)
        return {"models": [{"name": m, "model": m, "modified_at": _CREATED_AT} for m in ids]}

    def embeddings(self, body: dict[str, Any]) -> dict[str, Any]:
        items = _embedding_inputs(body)
        return {
            "model": body.get("model"),
            "embeddings": [_vector(str(text)) for text in items],
            "prompt_eval_count": _count_words(items),
        }


RENDERERS: dict[str, Renderer] = {
    "openai_chat": _OpenAIRenderer(),
    "anthropic_messages": _AnthropicRenderer(),
    "ollama_chat": _OllamaRenderer(),
}
