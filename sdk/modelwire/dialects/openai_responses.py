"""OpenAI's Responses API (`POST /responses`): spoken by OpenAI, Azure OpenAI, OpenRouter,
llama.cpp's server, LM Studio, Ollama and others.

Requests are input items: messages, `function_call` and `function_call_output` items, and
reasoning items sent back with their encrypted state; system messages become
`instructions`. Responses are output items: messages (text, refusals), function calls,
reasoning (summary text and the opaque item a next turn sends back) and the items of
built-in tools, which are kept whole on `CompletionResponse.provider_items`. Streams are
named SSE events (`response.output_text.delta`, ...), ended by `response.completed`,
`response.incomplete` or `response.failed`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel

from .._framing import ServerSentEvent
from ..errors import ProviderError, ResponseFailedError, StreamEventError, error_fields
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
from ..wire import openai_responses as wire
from .base import (
    Answer,
    Dialect,
    StreamEvent,
    WireKind,
    Writer,
    apply_options,
    apply_reasoning,
    check_str,
    count_or_none,
    json_bytes,
    load_event_json,
    malformed_event,
    merge_extra,
    object_or_empty,
    optional_str,
    parse_arguments,
    sse,
    str_or_empty,
    text_pieces,
)
from .openai_chat import openai_embeddings_body, openai_error_body, openai_models_body

# `incomplete_details.reason` -> the unified finish reason
_INCOMPLETE: dict[str, FinishReason] = {
    "max_output_tokens": "length",
    "content_filter": "content_filter",
}
# the output items the unified fields hold; every other item is kept whole
_UNIFIED_ITEMS = frozenset(("message", "function_call"))
# parts of reasoning (summaries, reasoning text) are joined with a blank line
_REASONING_SEPARATOR = "\n\n"


# --------------------------------------------------------------------------- requests


def _content(message: Message) -> str | list[dict[str, Any]]:
    if isinstance(message.content, str):
        return message.content
    parts: list[dict[str, Any]] = []
    for part in message.content:
        if isinstance(part, TextPart):
            parts.append({"type": "input_text", "text": part.text})
        elif isinstance(part, ImagePart):
            parts.append({"type": "input_image", "image_url": part.data_url(), "detail": "auto"})
    return parts


def _reasoning_item(item: Mapping[str, Any]) -> dict[str, Any] | None:
    """A reasoning item of an earlier response as an input item: its id, summary and
    encrypted state. Items without encrypted state cannot be sent back statelessly (the
    server would have to have stored them); they are left out."""
    if item.get("type") != "reasoning" or not isinstance(item.get("id"), str):
        return None
    encrypted = item.get("encrypted_content")
    if not isinstance(encrypted, str) or not encrypted:
        return None
    summary = [
        {"type": "summary_text", "text": part["text"]}
        for part in item.get("summary") or []
        if isinstance(part, dict) and isinstance(part.get("text"), str)
    ]
    return {
        "type": "reasoning",
        "id": item["id"],
        "summary": summary,
        "encrypted_content": encrypted,
    }


def _input_items(message: Message) -> list[dict[str, Any]]:
    if message.role == "tool":
        return [
            {
                "type": "function_call_output",
                "call_id": message.tool_call_id,
                "output": message.text(),
            }
        ]
    items: list[dict[str, Any]] = []
    if message.role == "assistant":
        for provider_item in message.provider_items or []:
            reasoning = _reasoning_item(provider_item)
            if reasoning is not None:
                items.append(reasoning)
        text = message.text()
        if text:
            items.append({"role": "assistant", "content": text})
        for call in message.tool_calls or []:
            items.append(
                {
                    "type": "function_call",
                    "call_id": call.id,
                    "name": call.name,
                    "arguments": call.arguments_json(),
                }
            )
        return items
    return [{"role": message.role, "content": _content(message)}]


def _instructions(messages: Sequence[Message]) -> str | None:
    texts = [m.text() for m in messages if m.role == "system"]
    return "\n\n".join(texts) if texts else None


# --------------------------------------------------------------------------- responses


def usage_from(data: Any) -> Usage | None:
    if not isinstance(data, dict):
        return None
    inputs = data.get("input_tokens_details") or {}
    outputs = data.get("output_tokens_details") or {}
    return Usage(
        input_tokens=data.get("input_tokens") or 0,
        output_tokens=data.get("output_tokens") or 0,
        reasoning_tokens=outputs.get("reasoning_tokens"),
        cache_read_tokens=inputs.get("cached_tokens"),
    )


def _reasoning_texts(item: Mapping[str, Any]) -> list[str]:
    """The readable text of a reasoning item: its summaries, then its reasoning text (what
    open models served through this API send)."""
    texts = []
    for key in ("summary", "content"):
        for part in item.get(key) or []:
            if isinstance(part, dict) and isinstance(part.get("text"), str) and part["text"]:
                texts.append(part["text"])
    return texts


def _is_refusal(item: Mapping[str, Any]) -> bool:
    return item.get("type") == "message" and any(
        isinstance(part, dict) and part.get("type") == "refusal"
        for part in item.get("content") or []
    )


def _finish(
    status: str | None, incomplete: Any, has_calls: bool, refused: bool
) -> tuple[FinishReason | None, str | None]:
    """(finish reason, raw reason) of a response's status: `incomplete` keeps the
    provider's reason (`max_output_tokens`, `content_filter`)."""
    if status == "incomplete":
        reason = incomplete.get("reason") if isinstance(incomplete, dict) else None
        raw = reason if isinstance(reason, str) else "incomplete"
        return _INCOMPLETE.get(raw, "other"), raw
    if status == "completed":
        if refused:
            return "content_filter", "refusal"
        return ("tool_calls" if has_calls else "stop"), status
    return None, status


def _failure(response: Mapping[str, Any]) -> tuple[str, str | None]:
    """(message, code) of a failed response's `error` object."""
    error = response.get("error")
    message, _, code = (
        error_fields({"error": error}) if isinstance(error, dict) else (None, None, None)
    )
    return message or "the response failed, without an error message", code


def _error_event(data: dict[str, Any]) -> StreamEventError:
    """The `error` event: `code`, `message` and `param` at its top (its code is the only
    category it has, so it is the error's type too), or an `error` object in it."""
    if isinstance(data.get("error"), dict):
        message, etype, code = error_fields(data)
    else:
        message = optional_str(data.get("message"))
        code = optional_str(data.get("code"))
        etype = code
    return StreamEventError(
        message or "the provider reported an error mid-stream",
        error_type=etype,
        error_code=code,
        body=data,
    )


class OpenAIResponsesDialect(Dialect):
    name = "openai_responses"
    # what /responses/input_tokens takes of a chat body
    token_count_fields = frozenset(
        (
            "model",
            "input",
            "instructions",
            "previous_response_id",
            "tools",
            "tool_choice",
            "parallel_tool_calls",
            "text",
            "reasoning",
            "truncation",
        )
    )
    wire_models: ClassVar[dict[WireKind, type[BaseModel]]] = {
        "response": wire.Response,
        "models": wire.ModelList,
        "embeddings": wire.EmbeddingList,
    }

    def build_request(
        self, request: CompletionRequest, spec: ProviderSpec, *, stream: bool
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"model": request.model}
        instructions = _instructions(request.messages)
        if instructions is not None:
            body["instructions"] = instructions
        body["input"] = [
            item for m in request.messages if m.role != "system" for item in _input_items(m)
        ]
        max_tokens = request.max_tokens or spec.limits.default_max_tokens
        if max_tokens is not None:
            body["max_output_tokens"] = max_tokens
        for key in ("temperature", "top_p", "parallel_tool_calls"):
            value = getattr(request, key)
            if value is not None:
                body[key] = value
        if request.tools:
            # the API makes a function strict unless told otherwise, which refuses most
            # schemas; unified tools are strict only when they say so
            body["tools"] = [
                {
                    "type": "function",
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": tool.parameters,
                    "strict": bool(tool.strict),
                }
                for tool in request.tools
            ]
        choice = request.tool_choice
        if isinstance(choice, NamedToolChoice):
            body["tool_choice"] = {"type": "function", "name": choice.name}
        elif choice is not None:
            body["tool_choice"] = choice
        fmt = request.response_format
        if fmt is not None:
            if fmt.type == "json_schema" and fmt.json_schema is not None:
                text_format: dict[str, Any] = {
                    "type": "json_schema",
                    "name": fmt.name,
                    "schema": fmt.json_schema,
                    "strict": fmt.strict,
                }
            else:
                text_format = {"type": "json_object"}
            body["text"] = {"format": text_format}
        if stream:
            body["stream"] = True
        apply_reasoning(body, request, spec)
        apply_options(body, request, spec)
        return merge_extra(body, request.extra_body)

    def parse_response(self, body: Any, spec: ProviderSpec) -> CompletionResponse:
        status = body.get("status")
        if status == "failed":
            message, code = _failure(body)
            raise ResponseFailedError(
                message,
                provider=spec.name,
                error_code=code,
                error_type="response.failed",
                body=body,
            )
        content: list[str] = []
        reasoning: list[str] = []
        calls: list[ToolCall] = []
        kept: list[dict[str, Any]] = []
        for item in body.get("output") or []:
            kind = item.get("type")
            if kind == "message":
                for part in item.get("content") or []:
                    if part.get("type") == "output_text":
                        content.append(part.get("text") or "")
                if _is_refusal(item):
                    kept.append(item)
            elif kind == "function_call":
                calls.append(
                    ToolCall(
                        id=str(item.get("call_id") or item.get("id") or f"call_{len(calls)}"),
                        name=item.get("name") or "",
                        arguments=parse_arguments(item.get("arguments") or ""),
                    )
                )
            else:
                if kind == "reasoning":
                    reasoning += _reasoning_texts(item)
                kept.append(item)
        finish, raw_finish = _finish(
            status, body.get("incomplete_details"), bool(calls), any(map(_is_refusal, kept))
        )
        return CompletionResponse(
            id=body.get("id"),
            model=body.get("model"),
            content="".join(content),
            reasoning=_REASONING_SEPARATOR.join(reasoning) or None,
            tool_calls=calls,
            finish_reason=finish,
            raw_finish_reason=raw_finish,
            usage=usage_from(body.get("usage")),
            provider_items=kept,
            raw=body,
        )

    def stream_parser(self, spec: ProviderSpec) -> OpenAIResponsesStreamParser:
        return OpenAIResponsesStreamParser()


# --------------------------------------------------------------------------- streams


class OpenAIResponsesStreamParser:
    """One named event per SSE event (the name is also the payload's `type`, which is all
    OpenRouter sends). `response.completed` and `response.incomplete` are terminal;
    `response.failed` and `error` raise."""

    __slots__ = ("_arguments", "_calls", "_items", "_parts", "finished", "id", "model")

    def __init__(self) -> None:
        self.finished = False
        self.model: str | None = None
        self.id: str | None = None
        # output index -> the arguments streamed so far, for each function call
        self._arguments: dict[int, str] = {}
        self._calls = False
        # the reasoning parts (output index, kind, part index) seen, to separate them
        self._parts: set[tuple[int, str, int]] = set()
        # the items the unified fields do not hold, as each was done
        self._items: list[dict[str, Any]] = []

    def parse(self, event: ServerSentEvent) -> StreamingChunk | None:
        try:
            return self._parse(event)
        except ProviderError:
            raise
        except (LookupError, TypeError, AttributeError, ValueError) as exc:
            raise malformed_event("a Responses stream event", event, exc) from None

    def _parse(self, event: ServerSentEvent) -> StreamingChunk | None:
        if event.data == b"[DONE]":
            # OpenRouter's end of stream, after its terminal event (or cut short without)
            return None
        data = load_event_json(event)
        if type(data) is not dict:
            return None
        kind = event.event if event.event != "message" else data.get("type")
        if kind == "response.output_text.delta":
            # the common event: a text delta and nothing else
            delta = data.get("delta")
            if type(delta) is not str:
                delta = str_or_empty(delta, "response.output_text.delta.delta")
            return text_chunk(delta, self.model, self.id, data)
        if kind == "response.function_call_arguments.delta":
            index = self._index(data)
            delta = str_or_empty(data.get("delta"), "function_call_arguments.delta.delta")
            self._arguments[index] = self._arguments.get(index, "") + delta
            call = ToolCallDelta(index=index, arguments=delta)
            return StreamingChunk(tool_calls=(call,), model=self.model, id=self.id, raw=data)
        if kind in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
            delta = str_or_empty(data.get("delta"), f"{kind}.delta")
            part_key = (
                "summary_index"
                if kind == "response.reasoning_summary_text.delta"
                else "content_index"
            )
            part = (self._index(data), kind, count_or_none(data.get(part_key), part_key) or 0)
            if part not in self._parts:
                if self._parts:
                    delta = _REASONING_SEPARATOR + delta
                self._parts.add(part)
            return StreamingChunk(reasoning=delta, model=self.model, id=self.id, raw=data)
        if kind == "response.output_item.added":
            item = object_or_empty(data.get("item"), "response.output_item.added.item")
            if item.get("type") != "function_call":
                return None
            index = self._index(data)
            arguments = str_or_empty(item.get("arguments"), "function_call.arguments")
            self._arguments[index] = arguments
            self._calls = True
            call = ToolCallDelta(
                index=index,
                id=check_str(item.get("call_id") or item.get("id") or f"call_{index}", "call_id"),
                name=check_str(item.get("name") or "", "function_call.name"),
                arguments=arguments,
            )
            return StreamingChunk(tool_calls=(call,), model=self.model, id=self.id, raw=data)
        if kind == "response.output_item.done":
            return self._item_done(data)
        if kind in ("response.completed", "response.incomplete"):
            return self._end(object_or_empty(data.get("response"), f"{kind}.response"), data)
        if kind == "response.failed":
            response = object_or_empty(data.get("response"), "response.failed.response")
            message, code = _failure(response)
            raise StreamEventError(
                message, error_type="response.failed", error_code=code, body=data
            )
        if kind == "error":
            raise _error_event(data)
        if kind in ("response.created", "response.in_progress", "response.queued"):
            response = object_or_empty(data.get("response"), f"{kind}.response")
            if self.model is None:
                self.model = optional_str(response.get("model"))
            if self.id is None:
                self.id = optional_str(response.get("id"))
                return StreamingChunk(model=self.model, id=self.id, raw=data)
        return None

    @staticmethod
    def _index(data: dict[str, Any]) -> int:
        index = data.get("output_index")
        if index is None:
            return 0
        if type(index) is not int:
            raise TypeError(f"output_index is {type(index).__name__}, not an int")
        return index

    def _item_done(self, data: dict[str, Any]) -> StreamingChunk | None:
        item = object_or_empty(data.get("item"), "response.output_item.done.item")
        kind = item.get("type")
        if kind == "function_call":
            # a server that sent the arguments whole, or not all of them, as deltas
            index = self._index(data)
            arguments = str_or_empty(item.get("arguments"), "function_call.arguments")
            seen = self._arguments.get(index)
            if seen is None:
                self._calls = True
                self._arguments[index] = arguments
                call = ToolCallDelta(
                    index=index,
                    id=check_str(
                        item.get("call_id") or item.get("id") or f"call_{index}", "call_id"
                    ),
                    name=check_str(item.get("name") or "", "function_call.name"),
                    arguments=arguments,
                )
            elif arguments.startswith(seen) and len(arguments) > len(seen):
                self._arguments[index] = arguments
                call = ToolCallDelta(index=index, arguments=arguments[len(seen) :])
            else:
                return None
            return StreamingChunk(tool_calls=(call,), model=self.model, id=self.id, raw=data)
        if kind is not None and (kind not in _UNIFIED_ITEMS or _is_refusal(item)):
            # reasoning, built-in tools, refusals: handed over with the terminal event
            self._items.append(item)
        return None

    def _end(self, response: dict[str, Any], data: dict[str, Any]) -> StreamingChunk:
        self.finished = True
        model = optional_str(response.get("model")) or self.model
        output = [item for item in response.get("output") or [] if isinstance(item, dict)]
        # the terminal event's output is the whole answer (its reasoning items carry the
        # state to send back, and it has the items a server did not stream); without one,
        # the items as they were done
        items = (
            [item for item in output if item.get("type") not in _UNIFIED_ITEMS or _is_refusal(item)]
            if output
            else self._items
        )
        refused = any(_is_refusal(item) for item in items)
        has_calls = self._calls or any(
            isinstance(item, dict) and item.get("type") == "function_call"
            for item in response.get("output") or []
        )
        finish, raw_finish = _finish(
            optional_str(response.get("status")),
            response.get("incomplete_details"),
            has_calls,
            refused,
        )
        if finish is None:
            finish, raw_finish = (
                ("length", "incomplete")
                if data.get("type") == "response.incomplete"
                else ("stop", raw_finish)
            )
        return StreamingChunk(
            is_final=True,
            model=model,
            finish_reason=finish,
            raw_finish_reason=raw_finish,
            usage=usage_from(response.get("usage")),
            id=optional_str(response.get("id")) or self.id,
            raw=data,
            items=tuple(items),
        )


DIALECT = OpenAIResponsesDialect()


# --------------------------------------------------------------------------- writer


def _wire_usage(usage: Usage) -> dict[str, Any]:
    return {
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {"cached_tokens": usage.cache_read_tokens or 0},
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens or 0},
        "total_tokens": usage.total_tokens,
    }


_INCOMPLETE_REASONS: dict[FinishReason, str] = {
    "length": "max_output_tokens",
    "content_filter": "content_filter",
}


@dataclass(frozen=True)
class OpenAIResponsesWriter:
    """What a Responses server sends: `response` objects, streams of named SSE events
    (`event:` and `data:` lines, each event numbered by `sequence_number`, no `[DONE]`),
    and `{"error": {...}}` bodies.

    An answer that finishes with "length" or "content_filter" is an `incomplete` response
    with that reason; "error" is a `failed` one. Reasoning is one reasoning item whose
    summary is the text and whose `encrypted_content` is the answer's signature.
    """

    created: int = 1_700_000_000

    stream_content_type: ClassVar[str] = "text/event-stream; charset=utf-8"

    def _items(self, answer: Answer) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        if answer.reasoning:
            reasoning: dict[str, Any] = {
                "id": "rs_modelwire",
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": answer.reasoning}],
            }
            if answer.reasoning_signature:
                reasoning["encrypted_content"] = answer.reasoning_signature
            items.append(reasoning)
        if answer.text or not answer.tool_calls:
            items.append(
                {
                    "id": "msg_modelwire",
                    "type": "message",
                    "status": "completed",
                    "content": [
                        {
                            "type": "output_text",
                            "annotations": [],
                            "logprobs": [],
                            "text": answer.text,
                        }
                    ],
                    "role": "assistant",
                }
            )
        for i, call in enumerate(answer.tool_calls):
            items.append(
                {
                    "id": f"fc_{i}",
                    "type": "function_call",
                    "status": "completed",
                    "arguments": call.arguments,
                    "call_id": call.id or f"call_{i}",
                    "name": call.name,
                }
            )
        return items

    def _response(
        self, answer: Answer, output: list[dict[str, Any]], status: str | None = None
    ) -> dict[str, Any]:
        finish = answer.finish
        reason = _INCOMPLETE_REASONS.get(finish)
        if status is None:
            status = "failed" if finish == "error" else "incomplete" if reason else "completed"
        body: dict[str, Any] = {
            "id": answer.id or "resp_modelwire",
            "object": "response",
            "created_at": self.created,
            "status": status,
            "error": (
                {"code": "server_error", "message": "The model failed to answer."}
                if status == "failed"
                else None
            ),
            "incomplete_details": {"reason": reason} if status == "incomplete" else None,
            "model": answer.model,
            "output": output,
            "usage": _wire_usage(answer.usage) if answer.usage is not None else None,
        }
        return body

    def response(self, answer: Answer) -> bytes:
        return json_bytes(self._response(answer, self._items(answer)))

    def stream(self, answer: Answer, request: Mapping[str, Any] | None = None) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        counter = iter(range(1_000_000))

        def add(name: str, payload: dict[str, Any], kind: Any = "frame") -> None:
            data = {"type": name, **payload, "sequence_number": next(counter)}
            events.append(StreamEvent(sse(data, name), kind))

        start = self._response(answer, [], status="in_progress") | {"usage": None}
        add("response.created", {"response": start})
        add("response.in_progress", {"response": start})
        items = self._items(answer)
        part: dict[str, Any]
        for index, item in enumerate(items):
            item_id = item["id"]
            where = {"item_id": item_id, "output_index": index}
            if item["type"] == "reasoning":
                add(
                    "response.output_item.added",
                    {"output_index": index, "item": {**item, "summary": []}},
                )
                text = item["summary"][0]["text"]
                part = {"type": "summary_text", "text": ""}
                add(
                    "response.reasoning_summary_part.added",
                    {**where, "summary_index": 0, "part": part},
                )
                add(
                    "response.reasoning_summary_text.delta",
                    {**where, "summary_index": 0, "delta": text},
                    "delta",
                )
                add(
                    "response.reasoning_summary_text.done",
                    {**where, "summary_index": 0, "text": text},
                )
                done_part = {"type": "summary_text", "text": text}
                add(
                    "response.reasoning_summary_part.done",
                    {**where, "summary_index": 0, "part": done_part},
                )
            elif item["type"] == "message":
                added = {**item, "status": "in_progress", "content": []}
                add("response.output_item.added", {"output_index": index, "item": added})
                part = {
                    "type": "output_text",
                    "annotations": [],
                    "logprobs": [],
                    "text": "",
                }
                add("response.content_part.added", {**where, "content_index": 0, "part": part})
                for piece in answer.chunks:
                    if piece:
                        add(
                            "response.output_text.delta",
                            {**where, "content_index": 0, "delta": piece, "logprobs": []},
                            "delta",
                        )
                add(
                    "response.output_text.done",
                    {**where, "content_index": 0, "text": answer.text, "logprobs": []},
                )
                add(
                    "response.content_part.done",
                    {**where, "content_index": 0, "part": item["content"][0]},
                )
            else:
                added = {**item, "status": "in_progress", "arguments": ""}
                add("response.output_item.added", {"output_index": index, "item": added})
                for piece in text_pieces(item["arguments"], answer.argument_chunk_size):
                    add(
                        "response.function_call_arguments.delta", {**where, "delta": piece}, "delta"
                    )
                add(
                    "response.function_call_arguments.done",
                    {**where, "arguments": item["arguments"]},
                )
            add("response.output_item.done", {"output_index": index, "item": item})
        final = self._response(answer, items)
        name = {"failed": "response.failed", "incomplete": "response.incomplete"}.get(
            final["status"], "response.completed"
        )
        add(name, {"response": final}, "end")
        return events

    def stream_error(
        self, message: str, *, error_type: str | None = None, code: str | int | None = None
    ) -> bytes:
        # the event has a code and no type: the type stands in for a missing code
        payload = {
            "type": "error",
            "code": str(code) if code is not None else error_type or "server_error",
            "message": message,
            "param": None,
            "sequence_number": 0,
        }
        return sse(payload, "error")

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
            name = choice.get("name")
            return name if isinstance(name, str) else None
        return None


WRITER: Writer = OpenAIResponsesWriter()
