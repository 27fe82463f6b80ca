"""OpenAI chat completions: spoken by OpenAI, OpenRouter, LM Studio, Groq, llama.cpp, vLLM."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel

from .._framing import ServerSentEvent
from ..errors import ProviderError, StreamDecodeError
from ..spec import ProviderSpec
from ..types import (
    CompletionRequest,
    CompletionResponse,
    FinishReason,
    ImagePart,
    Message,
    NamedToolChoice,
    StreamingChunk,
    TextPart,
    ToolCall,
    ToolCallDelta,
    Usage,
    text_chunk,
)
from ..wire import openai_chat as wire
from .base import (
    Answer,
    Dialect,
    StreamEvent,
    WireKind,
    Writer,
    apply_options,
    apply_reasoning,
    json_bytes,
    load_event_json,
    merge_extra,
    parse_arguments,
    sse,
    stream_event_error,
    text_pieces,
)
from .base import check_str as _check_str
from .base import optional_str as _optional_str
from .schemas import strict_schema

_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
    "error": "error",
}


def _content(message: Message) -> str | list[dict[str, Any]]:
    if isinstance(message.content, str):
        return message.content
    parts: list[dict[str, Any]] = []
    for part in message.content:
        if isinstance(part, TextPart):
            parts.append({"type": "text", "text": part.text})
        elif isinstance(part, ImagePart):
            parts.append({"type": "image_url", "image_url": {"url": part.data_url()}})
    return parts


def _message(message: Message, spec: ProviderSpec) -> dict[str, Any]:
    if message.role == "tool":
        out: dict[str, Any] = {
            "role": "tool",
            "tool_call_id": message.tool_call_id,
            "content": message.text(),
        }
        return out
    out = {"role": message.role, "content": _content(message)}
    if message.tool_calls:
        out["content"] = message.text() or None
        out["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments_json()},
            }
            for call in message.tool_calls
        ]
    if message.name:
        out["name"] = message.name
    field = spec.capabilities.reasoning_history_field
    if field and message.role == "assistant" and message.reasoning:
        out[field] = message.reasoning
    return out


def _part_text(part: Any, where: str) -> str:
    text = part.get("text")
    if text is None:
        return ""
    if type(text) is not str:
        raise TypeError(f"{where}.text is {type(text).__name__}, not a string")
    return text


def split_content(content: Any, where: str = "content") -> tuple[str, str]:
    """(answer text, reasoning) of a message's or a delta's `content`: a string, or a list
    of typed parts (Mistral: `{"type": "text"}` and `{"type": "thinking", "thinking":
    [parts]}`), whose other kinds (references, images) carry no text of the answer."""
    if content is None:
        return "", ""
    if type(content) is str:
        return content, ""
    if type(content) is not list:
        raise TypeError(f"{where} is {type(content).__name__}, not a string or a list")
    text: list[str] = []
    reasoning: list[str] = []
    for i, part in enumerate(content):
        if type(part) is not dict:
            raise TypeError(f"{where}[{i}] is {type(part).__name__}, not an object")
        kind = part.get("type")
        if kind == "text":
            text.append(_part_text(part, f"{where}[{i}]"))
        elif kind == "thinking":
            inner = part.get("thinking")
            if type(inner) is str:
                reasoning.append(inner)
            elif type(inner) is list:
                reasoning.extend(
                    _part_text(p, f"{where}[{i}].thinking[{j}]")
                    for j, p in enumerate(inner)
                    if type(p) is dict and p.get("type", "text") == "text"
                )
    return "".join(text), "".join(reasoning)


def usage_from(data: Any) -> Usage | None:
    if not isinstance(data, dict):
        return None
    completion = data.get("completion_tokens_details") or {}
    prompt = data.get("prompt_tokens_details") or {}
    return Usage(
        input_tokens=data.get("prompt_tokens") or 0,
        output_tokens=data.get("completion_tokens") or 0,
        reasoning_tokens=completion.get("reasoning_tokens"),
        cache_read_tokens=prompt.get("cached_tokens"),
    )


def _reasoning_of(message: dict[str, Any]) -> str | None:
    """OpenAI-compatible servers name reasoning differently; OpenRouter sends both forms."""
    text = message.get("reasoning_content") or message.get("reasoning")
    if text:
        return str(text)
    details = message.get("reasoning_details")
    if details:
        return "".join(d.get("text") or d.get("summary") or "" for d in details) or None
    return None


class OpenAIChatDialect(Dialect):
    name = "openai_chat"
    finish_reasons: ClassVar[dict[str, FinishReason]] = _FINISH
    wire_models: ClassVar[dict[WireKind, type[BaseModel]]] = {
        "response": wire.ChatCompletion,
        "models": wire.ModelList,
        "embeddings": wire.EmbeddingList,
    }

    def build_request(
        self, request: CompletionRequest, spec: ProviderSpec, *, stream: bool
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": request.model,
            "messages": [_message(m, spec) for m in request.messages],
        }
        max_tokens = request.max_tokens or spec.limits.default_max_tokens
        if max_tokens is not None:
            body[spec.limits.max_tokens_field] = max_tokens
        for key in ("temperature", "top_p", "stop", "parallel_tool_calls"):
            value = getattr(request, key)
            if value is not None:
                body[key] = value
        if request.seed is not None:
            body[spec.limits.seed_field] = request.seed
        if request.tools:
            body["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": tool.name,
                        "description": tool.description,
                        "parameters": (
                            strict_schema(tool.parameters, where=f"tool {tool.name!r}")
                            if tool.strict
                            else tool.parameters
                        ),
                        **({"strict": tool.strict} if tool.strict is not None else {}),
                    },
                }
                for tool in request.tools
            ]
        choice = request.tool_choice
        if isinstance(choice, NamedToolChoice):
            body["tool_choice"] = {"type": "function", "function": {"name": choice.name}}
        elif choice is not None:
            body["tool_choice"] = choice
        fmt = request.response_format
        if fmt is not None:
            if fmt.type == "json_schema" and spec.capabilities.structured_output == "json_schema":
                schema = fmt.json_schema or {"type": "object"}
                if fmt.strict:
                    schema = strict_schema(schema, where="response_format")
                body["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": fmt.name, "schema": schema, "strict": fmt.strict},
                }
            else:
                # JSON mode; servers such as llama.cpp constrain it with a `schema` key
                body["response_format"] = {"type": "json_object"}
                if fmt.json_schema is not None and spec.capabilities.schema_in_json_mode:
                    body["response_format"]["schema"] = fmt.json_schema
        if stream:
            body["stream"] = True
            if spec.capabilities.stream_usage:
                body["stream_options"] = {"include_usage": True}
        apply_reasoning(body, request, spec)
        apply_options(body, request, spec)
        return merge_extra(body, request.extra_body)

    def parse_response(self, body: Any, spec: ProviderSpec) -> CompletionResponse:
        choices = body.get("choices") or [{}]
        choice = choices[0]
        message = choice.get("message") or {}
        tool_calls = [
            ToolCall(
                id=str(call.get("id") or f"call_{i}"),
                name=call["function"]["name"],
                arguments=parse_arguments(call["function"].get("arguments") or ""),
            )
            for i, call in enumerate(message.get("tool_calls") or [])
        ]
        raw_finish = choice.get("finish_reason")
        content, thinking = split_content(message.get("content"), "message.content")
        return CompletionResponse(
            id=body.get("id"),
            model=body.get("model"),
            content=content,
            reasoning=_reasoning_of(message) or thinking or None,
            tool_calls=tool_calls,
            finish_reason=self.finish_reason(raw_finish),
            raw_finish_reason=raw_finish,
            usage=usage_from(body.get("usage")),
            raw=body,
        )

    def stream_parser(self, spec: ProviderSpec) -> OpenAIStreamParser:
        return OpenAIStreamParser()


class OpenAIStreamParser:
    """One chat.completion.chunk per event; `[DONE]` is the terminal event."""

    __slots__ = ("finish_reason", "finished", "model", "raw_finish_reason", "usage")

    def __init__(self) -> None:
        self.finished = False
        self.model: str | None = None
        self.finish_reason: FinishReason | None = None
        self.raw_finish_reason: str | None = None
        self.usage: Usage | None = None

    def parse(self, event: ServerSentEvent) -> StreamingChunk | None:
        try:
            return self._parse(event)
        except ProviderError:
            raise
        except (LookupError, TypeError, AttributeError, ValueError) as exc:
            # valid JSON of the wrong shape: a typed error, never a crash mid-stream
            preview = event.data[:200].decode("utf-8", "replace")
            raise StreamDecodeError(
                f"a stream event does not have the chat.completion.chunk shape ({exc}): "
                f"{preview!r}",
                body=preview,
            ) from None

    def _parse(self, event: ServerSentEvent) -> StreamingChunk | None:
        if event.data == b"[DONE]":
            self.finished = True
            return StreamingChunk(
                is_final=True,
                model=self.model,
                finish_reason=self.finish_reason,
                raw_finish_reason=self.raw_finish_reason,
                usage=self.usage,
            )
        data = load_event_json(event)
        if type(data) is not dict:
            return None
        # Fast path: a text delta with nothing else in it, which is what almost every
        # event of a long answer is. Anything else takes the full path below.
        choices = data.get("choices")
        if type(choices) is list and len(choices) == 1 and not data.get("usage"):
            choice = choices[0]
            delta = choice.get("delta") if type(choice) is dict else None
            if (
                type(delta) is dict
                and choice.get("finish_reason") is None
                and type(content := delta.get("content")) is str
                and "tool_calls" not in delta
                and "reasoning_content" not in delta
                and "reasoning" not in delta
                and "reasoning_details" not in delta
                and "error" not in data
                and "x_groq" not in data
            ):
                model = data.get("model")
                if type(model) is not str:
                    model = None
                elif self.model is None:
                    self.model = model
                chunk_id = data.get("id")
                return text_chunk(content, model, chunk_id if type(chunk_id) is str else None, data)
        if data.get("error"):
            raise stream_event_error(data, "the provider")
        model = _optional_str(data.get("model"))
        chunk_id = _optional_str(data.get("id"))
        if model and self.model is None:
            self.model = model
        # Groq reports a stream's usage under x_groq
        usage = data.get("usage") or (data.get("x_groq") or {}).get("usage")
        if usage:
            self.usage = usage_from(usage)
        choices = data.get("choices")
        if not choices:
            # the usage-only chunk that include_usage adds at the end
            if usage:
                return StreamingChunk(model=model, usage=self.usage, id=chunk_id, raw=data)
            return None
        choice = choices[0]
        delta = choice.get("delta") or {}
        raw_finish = choice.get("finish_reason")
        finish: FinishReason | None = None
        if raw_finish is not None:
            _check_str(raw_finish, "finish_reason")
            if raw_finish == "error":
                raise stream_event_error(data, "the provider")
            finish = _FINISH.get(raw_finish, "other")
            self.finish_reason = finish
            self.raw_finish_reason = raw_finish
        tool_deltas: tuple[ToolCallDelta, ...] = ()
        calls = delta.get("tool_calls")
        if calls:
            tool_deltas = tuple(_tool_delta(call, i) for i, call in enumerate(calls))
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if reasoning is None and "reasoning_details" in delta:
            reasoning = _reasoning_of(delta)
        content, thinking = split_content(delta.get("content"), "delta.content")
        return StreamingChunk(
            content=content,
            model=model,
            finish_reason=finish,
            raw_finish_reason=raw_finish,
            usage=self.usage if usage else None,
            tool_calls=tool_deltas,
            reasoning=_check_str(reasoning or "", "delta.reasoning") + thinking,
            id=chunk_id,
            raw=data,
        )


def _tool_delta(call: dict[str, Any], position: int) -> ToolCallDelta:
    function = call.get("function") or {}
    index = call.get("index")
    if index is None:
        index = position
    if not isinstance(index, int) or isinstance(index, bool):
        raise TypeError(f"tool_calls[{position}].index is {type(index).__name__}, not an int")
    arguments = function.get("arguments") or ""
    if isinstance(arguments, (dict, list)):
        # some compatible servers send the arguments as an object, not as JSON text
        arguments = json.dumps(arguments, separators=(",", ":"))
    name = function.get("name")
    call_id = call.get("id")
    return ToolCallDelta(
        index=index,
        id=None if call_id is None else _check_str(call_id, "tool_calls.id"),
        name=None if name is None else _check_str(name, "tool_calls.function.name"),
        arguments=_check_str(arguments, "tool_calls.function.arguments"),
    )


DIALECT = OpenAIChatDialect()


# --------------------------------------------------------------------------- writer


def _wire_usage(usage: Usage) -> dict[str, Any]:
    out: dict[str, Any] = {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
    }
    if usage.cache_read_tokens is not None:
        out["prompt_tokens_details"] = {"cached_tokens": usage.cache_read_tokens}
    if usage.reasoning_tokens is not None:
        out["completion_tokens_details"] = {"reasoning_tokens": usage.reasoning_tokens}
    return out


# OpenAI's error bodies and list endpoints: the same for its chat and Responses APIs


def openai_error_body(
    status: int, message: str, *, error_type: str | None = None, code: str | int | None = None
) -> bytes:
    """`{"error": {...}}` with the type and code OpenAI sends for that status."""
    if status == 429:
        default_type = "requests"
    else:
        default_type = "server_error" if status >= 500 else "invalid_request_error"
    default_code = {401: "invalid_api_key", 429: "rate_limit_exceeded"}.get(status)
    error = {
        "message": message,
        "type": error_type or default_type,
        "param": None,
        "code": code if code is not None else default_code,
    }
    return json_bytes({"error": error})


def openai_models_body(ids: Sequence[str], created: int) -> bytes:
    data = [
        {"id": model, "object": "model", "created": created, "owned_by": "system"} for model in ids
    ]
    return json_bytes({"object": "list", "data": data})


def openai_embeddings_body(
    vectors: Sequence[Sequence[float]], *, model: str | None, input_tokens: int
) -> bytes:
    data = [
        {"object": "embedding", "index": i, "embedding": list(vector)}
        for i, vector in enumerate(vectors)
    ]
    usage = {"prompt_tokens": input_tokens, "total_tokens": input_tokens}
    return json_bytes({"object": "list", "data": data, "model": model, "usage": usage})


@dataclass(frozen=True)
class OpenAIChatWriter:
    """What an OpenAI-compatible server sends: `chat.completion` bodies, SSE streams of
    `chat.completion.chunk`s ending in `data: [DONE]`, and `{"error": {...}}` bodies.

    `created` stamps every body; `service_tier` and `system_fingerprint` are sent (where
    OpenAI puts them) when set. Finish reasons go by their unified names, which are
    OpenAI's (and OpenRouter's `error`).
    """

    created: int = 1_700_000_000
    service_tier: str | None = None
    system_fingerprint: str | None = None

    stream_content_type: ClassVar[str] = "text/event-stream; charset=utf-8"

    def _stamps(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.service_tier is not None:
            out["service_tier"] = self.service_tier
        if self.system_fingerprint is not None:
            out["system_fingerprint"] = self.system_fingerprint
        return out

    def response(self, answer: Answer) -> bytes:
        message: dict[str, Any] = {"role": "assistant", "content": answer.text or None}
        if answer.reasoning:
            message["reasoning_content"] = answer.reasoning
        if answer.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call.id or f"call_{i}",
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
                for i, call in enumerate(answer.tool_calls)
            ]
        message["refusal"] = None
        body: dict[str, Any] = {
            "id": answer.id or "chatcmpl-modelwire",
            "object": "chat.completion",
            "created": self.created,
            "model": answer.model,
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": answer.finish}
            ],
        }
        if answer.usage is not None:
            body["usage"] = _wire_usage(answer.usage)
        return json_bytes(body | self._stamps())

    def stream(self, answer: Answer, request: Mapping[str, Any] | None = None) -> list[StreamEvent]:
        # with stream_options.include_usage, every chunk has `"usage": null` and a last
        # chunk without choices carries the usage
        with_usage = request is None or bool(
            (request.get("stream_options") or {}).get("include_usage")
        )
        head: dict[str, Any] = {
            "id": answer.id or "chatcmpl-modelwire",
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": answer.model,
            **self._stamps(),
        }
        usage_field: dict[str, Any] = {"usage": None} if with_usage else {}

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            return sse({**head, "choices": [choice], **usage_field})

        role = {"role": "assistant", "content": "", "refusal": None}
        events = [StreamEvent(chunk(role), "frame")]
        if answer.reasoning:
            events.append(StreamEvent(chunk({"reasoning_content": answer.reasoning}), "delta"))
        events += [StreamEvent(chunk({"content": text}), "delta") for text in answer.chunks]
        for i, call in enumerate(answer.tool_calls):
            start = {
                "index": i,
                "id": call.id or f"call_{i}",
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            events.append(StreamEvent(chunk({"tool_calls": [start]}), "delta"))
            events += [
                StreamEvent(
                    chunk({"tool_calls": [{"index": i, "function": {"arguments": piece}}]}),
                    "delta",
                )
                for piece in text_pieces(call.arguments, answer.argument_chunk_size)
            ]
        events.append(StreamEvent(chunk({}, answer.finish), "end"))
        if with_usage and answer.usage is not None:
            last = {**head, "choices": [], "usage": _wire_usage(answer.usage)}
            events.append(StreamEvent(sse(last), "end"))
        events.append(StreamEvent(b"data: [DONE]\n\n", "end"))
        return events

    def stream_error(
        self, message: str, *, error_type: str | None = None, code: str | int | None = None
    ) -> bytes:
        error = {
            "message": message,
            "type": error_type or "server_error",
            "param": None,
            "code": code,
        }
        return sse({"error": error})

    def error_body(
        self,
        status: int,
        message: str,
        *,
        error_type: str | None = None,
        code: str | int | None = None,
    ) -> bytes:
        return openai_error_body(status, message, error_type=error_type, code=code)

    def models(self, ids: Sequence[str]) -> bytes:
        return openai_models_body(ids, self.created)

    def embeddings(
        self, vectors: Sequence[Sequence[float]], *, model: str | None, input_tokens: int
    ) -> bytes:
        return openai_embeddings_body(vectors, model=model, input_tokens=input_tokens)

    def forced_tool(self, request: Mapping[str, Any]) -> str | None:
        choice = request.get("tool_choice")
        if isinstance(choice, dict) and choice.get("type") == "function":
            name = (choice.get("function") or {}).get("name")
            return name if isinstance(name, str) else None
        return None


WRITER: Writer = OpenAIChatWriter()
