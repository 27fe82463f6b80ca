"""Ollama's native API (`POST /api/chat`): sampling under `options`, NDJSON streams.

Each stream record is a whole JSON object; the last one has `done: true` and the token
counts, and may still carry content. Tool calls arrive whole (arguments as an object, no
id) in a single record each, so ids are made up as `call_<index>`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel

from .._framing import ServerSentEvent
from ..errors import ProviderError
from ..spec import ProviderSpec
from ..types import (
    CompletionRequest,
    CompletionResponse,
    EmbeddingResponse,
    FinishReason,
    Message,
    ModelInfo,
    StreamingChunk,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from ..wire import ollama_chat as wire
from .base import (
    Answer,
    Dialect,
    StreamEvent,
    ToolCallText,
    WireKind,
    Writer,
    apply_options,
    apply_reasoning,
    arguments_value,
    count_or_none,
    json_bytes,
    load_event_json,
    malformed_event,
    merge_extra,
    ndjson,
    object_or_empty,
    parse_arguments,
    str_or_empty,
    str_or_none,
    stream_event_error,
    wrong_type,
)

_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "load": "other",
    "unload": "other",
}


# --------------------------------------------------------------------------- request


def _images(message: Message) -> list[str]:
    images: list[str] = []
    for part in message.images():
        if part.data is not None:
            images.append(part.base64())
        elif part.url and part.url.startswith("data:") and ";base64," in part.url:
            images.append(part.url.partition(";base64,")[2])
        # a URL the server would fetch is refused before sending (capabilities.image_urls)
    return images


def _messages(messages: list[Message]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    tool_names: dict[str, str] = {}  # tool call id -> name, for tool results that omit it
    for message in messages:
        item: dict[str, Any] = {"role": message.role, "content": message.text()}
        if message.role == "tool":
            name = message.name or tool_names.get(message.tool_call_id or "")
            if name:
                item["tool_name"] = name
            out.append(item)
            continue
        images = _images(message)
        if images:
            item["images"] = images
        if message.tool_calls:
            item["tool_calls"] = [
                {"function": {"name": call.name, "arguments": call.arguments}}
                for call in message.tool_calls
            ]
            for call in message.tool_calls:
                tool_names[call.id] = call.name
        if message.reasoning and message.role == "assistant":
            item["thinking"] = message.reasoning
        out.append(item)
    return out


# --------------------------------------------------------------------------- response


def usage_from(data: dict[str, Any]) -> Usage | None:
    prompt = data.get("prompt_eval_count")
    output = data.get("eval_count")
    if prompt is None and output is None:
        return None
    return Usage(input_tokens=prompt or 0, output_tokens=output or 0)


def _arguments(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        return parse_arguments(value)
    return {}


class OllamaChatDialect(Dialect):
    name = "ollama_chat"
    finish_reasons: ClassVar[dict[str, FinishReason]] = _FINISH
    wire_models: ClassVar[dict[WireKind, type[BaseModel]]] = {
        "response": wire.ChatResponse,
        "models": wire.TagList,
        "embeddings": wire.EmbedResponse,
    }

    def build_request(
        self, request: CompletionRequest, spec: ProviderSpec, *, stream: bool
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": request.model,
            "messages": _messages(request.messages),
            # explicit both ways: Ollama streams when `stream` is absent
            "stream": stream,
        }
        options: dict[str, Any] = {}
        for key in ("temperature", "top_p", "seed", "stop"):
            value = getattr(request, key)
            if value is not None:
                options[key] = value
        max_tokens = request.max_tokens or spec.limits.default_max_tokens
        if max_tokens is not None:
            options["num_predict"] = max_tokens
        if options:
            body["options"] = options
        # Ollama has no tool_choice. "auto" is what it always does; for "required" or a
        # named tool the tools are sent as they are (the model may still answer in text);
        # "none" is honoured by not sending the tools at all.
        if request.tools and request.tool_choice != "none":
            body["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": tool.name,
                        "description": tool.description,
                        "parameters": tool.parameters,
                    },
                }
                for tool in request.tools
            ]
        fmt = request.response_format
        if fmt is not None:
            if fmt.type == "json_schema" and fmt.json_schema is not None:
                body["format"] = fmt.json_schema
            else:
                body["format"] = "json"
        apply_reasoning(body, request, spec)
        apply_options(body, request, spec)
        return merge_extra(body, request.extra_body)

    def parse_response(self, body: Any, spec: ProviderSpec) -> CompletionResponse:
        message = body.get("message")
        if isinstance(message, dict):
            content = message.get("content") or ""
            reasoning = message.get("thinking")
            calls = message.get("tool_calls") or []
        else:  # /api/generate
            content = body.get("response") or ""
            reasoning = body.get("thinking")
            calls = []
        tool_calls: list[ToolCall] = []
        for position, call in enumerate(calls):
            function = call.get("function") or {}
            index = function.get("index", position)
            tool_calls.append(
                ToolCall(
                    id=str(call.get("id") or f"call_{index}"),
                    name=function.get("name") or "",
                    arguments=_arguments(function.get("arguments")),
                )
            )
        raw_finish = body.get("done_reason")
        finish = self.finish_reason(raw_finish)
        if tool_calls and finish == "stop":
            finish = "tool_calls"
        return CompletionResponse(
            model=body.get("model"),
            content=content,
            reasoning=reasoning or None,
            tool_calls=tool_calls,
            finish_reason=finish,
            raw_finish_reason=raw_finish,
            usage=usage_from(body),
            raw=body,
        )

    def stream_parser(self, spec: ProviderSpec) -> OllamaStreamParser:
        return OllamaStreamParser()

    # ---------------------------------------------------------------- models & embeddings

    def parse_models(self, body: Any, spec: ProviderSpec) -> list[ModelInfo]:
        items = body.get("models", []) if isinstance(body, dict) else []
        # `modified_at` is an ISO date string, not the epoch seconds `created` holds
        return [
            ModelInfo(id=str(item.get("name") or item["model"]), raw=item)
            for item in items
            if isinstance(item, dict) and ("name" in item or "model" in item)
        ]

    def parse_embeddings(self, body: Any, spec: ProviderSpec) -> EmbeddingResponse:
        embeddings = body.get("embeddings")
        if embeddings is None and "embedding" in body:
            # the legacy /api/embeddings endpoint: one flat vector
            embeddings = [body["embedding"]]
        prompt = body.get("prompt_eval_count")
        return EmbeddingResponse(
            model=body.get("model"),
            embeddings=embeddings or [],
            usage=Usage(input_tokens=prompt) if prompt is not None else None,
            raw=body,
        )


class OllamaStreamParser:
    """One NDJSON record per event; the record with `done: true` is the terminal event."""

    __slots__ = ("_next_index", "_used", "finished")

    def __init__(self) -> None:
        self.finished = False
        self._next_index = 0
        self._used: set[int] = set()

    def parse(self, event: ServerSentEvent) -> StreamingChunk | None:
        data = load_event_json(event)
        if not isinstance(data, dict):
            return None
        if "error" in data:
            raise stream_event_error(data, "Ollama")
        try:
            return self._parse(data)
        except ProviderError:
            raise
        except (LookupError, TypeError, AttributeError, ValueError) as exc:
            # valid JSON of the wrong shape: a typed error, never a crash mid-stream
            what = "the Ollama final (done) record" if data.get("done") else "an Ollama record"
            raise malformed_event(what, event, exc) from None

    def _parse(self, data: dict[str, Any]) -> StreamingChunk | None:
        message = data.get("message")
        if isinstance(message, dict):
            content = message.get("content")
            if type(content) is not str:
                content = str_or_empty(content, "message.content")
            reasoning = message.get("thinking")
            if type(reasoning) is not str:
                reasoning = str_or_empty(reasoning, "message.thinking")
            calls = message.get("tool_calls")
        else:  # /api/generate
            content = data.get("response")
            if type(content) is not str:
                content = str_or_empty(content, "response")
            reasoning = data.get("thinking")
            if type(reasoning) is not str:
                reasoning = str_or_empty(reasoning, "thinking")
            calls = None
        model = data.get("model")
        if type(model) is not str:
            model = None  # metadata of the wrong type is dropped, as in the OpenAI dialect
        tool_deltas: tuple[ToolCallDelta, ...] = ()
        if calls:
            if type(calls) is not list:
                raise wrong_type(calls, "message.tool_calls", "a list")
            tool_deltas = tuple(self._tool_delta(call, i) for i, call in enumerate(calls))
        if data.get("done"):
            raw_finish = str_or_none(data.get("done_reason"), "done_reason")
            count_or_none(data.get("prompt_eval_count"), "prompt_eval_count")
            count_or_none(data.get("eval_count"), "eval_count")
            self.finished = True
            finish: FinishReason | None = None
            if raw_finish is not None:
                finish = _FINISH.get(raw_finish, "other")
                if finish == "stop" and (self._used or tool_deltas):
                    finish = "tool_calls"
            return StreamingChunk(
                content=content,
                is_final=True,
                model=model,
                finish_reason=finish,
                raw_finish_reason=raw_finish,
                usage=usage_from(data),
                tool_calls=tool_deltas,
                reasoning=reasoning,
                raw=data,
            )
        if not (content or reasoning or tool_deltas):
            return None
        return StreamingChunk(
            content=content,
            model=model,
            tool_calls=tool_deltas,
            reasoning=reasoning,
            raw=data,
        )

    def _tool_delta(self, call: Any, position: int) -> ToolCallDelta:
        where = f"message.tool_calls[{position}]"
        if type(call) is not dict:
            raise wrong_type(call, where, "an object")
        function = call.get("function")
        if type(function) is not dict:
            function = object_or_empty(function, f"{where}.function")
        name = str_or_none(function.get("name"), f"{where}.function.name")
        call_id = str_or_none(call.get("id"), f"{where}.id")
        arguments = function.get("arguments")
        if type(arguments) is not str:
            # an object, as Ollama sends it; any other JSON value is kept as JSON text
            arguments = json.dumps(
                arguments if arguments is not None else {}, separators=(",", ":")
            )
        index = function.get("index")
        # a running counter, unless the server numbered the call (and not twice the same)
        if type(index) is not int or index in self._used:
            index = self._next_index
            while index in self._used:
                index += 1
        self._used.add(index)
        self._next_index = max(self._next_index, index + 1)
        return ToolCallDelta(
            index=index, id=call_id or f"call_{index}", name=name, arguments=arguments
        )


DIALECT = OllamaChatDialect()


# --------------------------------------------------------------------------- writer


def _wire_call(index: int, call: ToolCallText) -> dict[str, Any]:
    function = {"index": index, "name": call.name, "arguments": arguments_value(call.arguments)}
    return {"id": call.id, "function": function} if call.id else {"function": function}


@dataclass(frozen=True)
class OllamaChatWriter:
    """What Ollama's native API sends: `/api/chat` bodies, NDJSON streams (one record per
    text piece and per tool call, then the `done: true` record with `done_reason` and the
    counts), and `{"error": "..."}` bodies and lines. Tool calls carry no id unless given;
    `created_at` stamps every record."""

    created_at: str = "2023-11-14T22:13:20.000000000Z"

    stream_content_type: ClassVar[str] = "application/x-ndjson"

    def _record(self, answer: Answer, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "model": answer.model,
            "created_at": self.created_at,
            "message": {"role": "assistant", "content": "", **message},
        }

    def _done(self, answer: Answer, message: dict[str, Any]) -> dict[str, Any]:
        # as /api/chat orders it: `done_reason` before `done` (/api/generate puts it
        # after), then the counts and the durations in nanoseconds
        record = self._record(answer, message)
        record["done_reason"] = "length" if answer.finish == "length" else "stop"
        record["done"] = True
        usage = answer.usage
        if usage is not None:
            record |= {
                "total_duration": 1_000_000,
                "load_duration": 1_000,
                "prompt_eval_count": usage.input_tokens,
                "prompt_eval_duration": 1_000,
                "eval_count": usage.output_tokens,
                "eval_duration": 1_000,
            }
        return record

    def response(self, answer: Answer) -> bytes:
        message: dict[str, Any] = {"content": answer.text}
        if answer.reasoning:
            message["thinking"] = answer.reasoning
        if answer.tool_calls:
            message["tool_calls"] = [_wire_call(i, c) for i, c in enumerate(answer.tool_calls)]
        return json_bytes(self._done(answer, message))

    def stream(self, answer: Answer, request: Mapping[str, Any] | None = None) -> list[StreamEvent]:
        def record(message: dict[str, Any]) -> StreamEvent:
            return StreamEvent(ndjson({**self._record(answer, message), "done": False}), "delta")

        events: list[StreamEvent] = []
        if answer.reasoning:
            events.append(record({"thinking": answer.reasoning}))
        events += [record({"content": text}) for text in answer.chunks]
        events += [
            record({"tool_calls": [_wire_call(i, call)]})
            for i, call in enumerate(answer.tool_calls)
        ]
        events.append(StreamEvent(ndjson(self._done(answer, {})), "end"))
        return events

    def stream_error(
        self, message: str, *, error_type: str | None = None, code: str | int | None = None
    ) -> bytes:
        return ndjson({"error": message})

    def error_body(
        self,
        status: int,
        message: str,
        *,
        error_type: str | None = None,
        code: str | int | None = None,
    ) -> bytes:
        return json_bytes({"error": message})

    def models(self, ids: Sequence[str]) -> bytes:
        models = [{"name": m, "model": m, "modified_at": self.created_at} for m in ids]
        return json_bytes({"models": models})

    def embeddings(
        self, vectors: Sequence[Sequence[float]], *, model: str | None, input_tokens: int
    ) -> bytes:
        body = {
            "model": model,
            "embeddings": [list(vector) for vector in vectors],
            "prompt_eval_count": input_tokens,
        }
        return json_bytes(body)

    def forced_tool(self, request: Mapping[str, Any]) -> str | None:
        return None  # Ollama has no tool choice


WRITER: Writer = OllamaChatWriter()
