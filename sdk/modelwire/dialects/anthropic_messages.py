"""Anthropic Messages (`POST /v1/messages`): content blocks, a top-level `system`, SSE events.

The stream is a sequence of typed events (`message_start`, `content_block_start`,
`content_block_delta`, `content_block_stop`, `message_delta`, `message_stop`, `ping`,
`error`). Only client `tool_use` blocks become tool calls: server-side tool blocks
(`server_tool_use`, `mcp_tool_use`, `web_search_tool_result`, ...) also stream
`input_json_delta`s, and are left out of the unified response (they stay in `raw`).
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
    FinishReason,
    ImagePart,
    Message,
    ModelInfo,
    NamedToolChoice,
    StreamingChunk,
    TextPart,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from ..wire import anthropic_messages as wire
from .base import (
    Answer,
    Dialect,
    StreamEvent,
    StreamEventKind,
    WireKind,
    Writer,
    apply_options,
    apply_reasoning,
    arguments_value,
    count_or_none,
    json_bytes,
    load_event_json,
    malformed_event,
    max_tokens_of,
    merge_extra,
    object_or_empty,
    optional_str,
    sse,
    str_or_empty,
    str_or_none,
    stream_event_error,
    structured_via_tool,
    text_pieces,
    wrong_type,
)
from .schemas import strict_schema

_FINISH: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
    "pause_turn": "other",
}

# the token counts `usage_from` reads: ints, or null for "unchanged"
_COUNTS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
)


# --------------------------------------------------------------------------- request


def _image_block(part: ImagePart) -> dict[str, Any]:
    if part.data is not None:
        source: dict[str, Any] = {
            "type": "base64",
            "media_type": part.media_type,
            "data": part.base64(),
        }
    else:
        url = part.url or ""
        if url.startswith("data:") and ";base64," in url:
            # Anthropic's url source does not take data: URLs; send the bytes instead
            head, _, data = url.partition(";base64,")
            source = {"type": "base64", "media_type": head[5:] or part.media_type, "data": data}
        else:
            source = {"type": "url", "url": url}
    return {"type": "image", "source": source}


def _content_blocks(content: str | list[TextPart | ImagePart]) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    blocks: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, TextPart):
            if part.text:  # Anthropic rejects empty text blocks
                blocks.append({"type": "text", "text": part.text})
        else:
            blocks.append(_image_block(part))
    return blocks


def _tool_result(message: Message) -> dict[str, Any]:
    content: str | list[dict[str, Any]]
    if isinstance(message.content, list) and message.images():
        content = _content_blocks(message.content)
    else:
        content = message.text()
    return {"type": "tool_result", "tool_use_id": message.tool_call_id, "content": content}


def _turns(messages: list[Message]) -> tuple[list[str], list[dict[str, Any]]]:
    """The system texts, in order, and the alternating user/assistant turns."""
    system: list[str] = []
    turns: list[dict[str, Any]] = []
    for message in messages:
        role = message.role
        if role == "system":
            text = message.text()
            if text:
                system.append(text)
            continue
        if role == "tool":
            role, blocks = "user", [_tool_result(message)]
        elif role == "assistant":
            # earlier reasoning is not sent back: Anthropic needs its signature for that
            blocks = _content_blocks(message.content)
            for call in message.tool_calls or ():
                blocks.append(
                    {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
                )
        else:
            blocks = _content_blocks(message.content)
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            # Anthropic requires user and assistant turns to alternate: merge the run
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    for turn in turns:
        content = turn["content"]
        if turn["role"] == "user" and len(content) > 1:
            # tool_result blocks must come first in a user turn; keep the order otherwise
            results = [b for b in content if b["type"] == "tool_result"]
            if results and len(results) < len(content):
                turn["content"] = results + [b for b in content if b["type"] != "tool_result"]
        elif len(content) == 1 and content[0]["type"] == "text":
            turn["content"] = content[0]["text"]
    return system, turns


def _tool_choice(request: CompletionRequest) -> dict[str, Any] | None:
    choice = request.tool_choice
    if isinstance(choice, NamedToolChoice):
        return {"type": "tool", "name": choice.name}
    if choice == "required":
        return {"type": "any"}
    if choice is not None:
        return {"type": choice}
    return None


# --------------------------------------------------------------------------- response


def usage_from(data: Any) -> Usage | None:
    if not isinstance(data, dict):
        return None
    details = data.get("output_tokens_details") or {}
    return Usage(
        input_tokens=data.get("input_tokens") or 0,
        output_tokens=data.get("output_tokens") or 0,
        reasoning_tokens=details.get("thinking_tokens"),
        cache_read_tokens=data.get("cache_read_input_tokens"),
        cache_write_tokens=data.get("cache_creation_input_tokens"),
    )


class AnthropicMessagesDialect(Dialect):
    name = "anthropic_messages"
    # what /v1/messages/count_tokens takes of a chat body
    token_count_fields = frozenset(
        ("messages", "model", "system", "thinking", "tool_choice", "tools", "output_config")
    )
    finish_reasons: ClassVar[dict[str, FinishReason]] = _FINISH
    wire_models: ClassVar[dict[WireKind, type[BaseModel]]] = {
        "response": wire.Message,
        "models": wire.ModelList,
    }
    # `input_tokens` is only what came after the last cache breakpoint
    input_tokens_include_cache = False

    def build_request(
        self, request: CompletionRequest, spec: ProviderSpec, *, stream: bool
    ) -> dict[str, Any]:
        system, turns = _turns(request.messages)
        body: dict[str, Any] = {"model": request.model}
        if system:
            body["system"] = "\n\n".join(system)
        body["messages"] = turns
        # required by the API: validation refuses a request with neither
        body["max_tokens"] = max_tokens_of(request, spec)
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.top_p is not None:
            body["top_p"] = request.top_p
        if request.stop:
            body["stop_sequences"] = request.stop
        # `seed` has no Anthropic equivalent and the API rejects unknown keys: not sent
        tools: list[dict[str, Any]] = [
            {"name": tool.name, "description": tool.description, "input_schema": tool.parameters}
            for tool in request.tools or ()
        ]
        choice = _tool_choice(request)
        fmt = request.response_format
        if fmt is not None and not structured_via_tool(request, spec):
            # native structured output: the answer is text that matches the schema
            schema = strict_schema(
                fmt.json_schema or {"type": "object"},
                profile="anthropic",
                where="response_format",
                provider=spec.name,
            )
            body["output_config"] = {"format": {"type": "json_schema", "schema": schema}}
        elif fmt is not None:
            # a tool whose input is the output, and force that tool
            schema = fmt.json_schema if fmt.json_schema is not None else {"type": "object"}
            tools.append(
                {
                    "name": fmt.name,
                    "description": "Respond with the final answer, as this tool's input.",
                    "input_schema": schema,
                }
            )
            choice = {"type": "tool", "name": fmt.name}
        if request.parallel_tool_calls is False and tools:
            if choice is None:
                choice = {"type": "auto"}
            if choice["type"] != "none":
                choice["disable_parallel_tool_use"] = True
        if tools:
            body["tools"] = tools
            if choice is not None:
                body["tool_choice"] = choice
        # (a tool_choice without tools is an Anthropic 400, so it is dropped)
        if stream:
            body["stream"] = True
        apply_reasoning(body, request, spec)
        apply_options(body, request, spec)
        return merge_extra(body, request.extra_body)

    def parse_response(self, body: Any, spec: ProviderSpec) -> CompletionResponse:
        text: list[str] = []
        reasoning: list[str] = []
        signature: str | None = None
        tool_calls: list[ToolCall] = []
        for block in body.get("content") or ():
            kind = block.get("type")
            if kind == "text":
                text.append(block.get("text") or "")
            elif kind == "thinking":
                reasoning.append(block.get("thinking") or "")
                signature = block.get("signature") or signature
            elif kind == "tool_use":
                arguments = block.get("input")
                tool_calls.append(
                    ToolCall(
                        id=str(block.get("id") or f"call_{len(tool_calls)}"),
                        name=block.get("name") or "",
                        arguments=arguments if isinstance(arguments, dict) else {},
                    )
                )
            # redacted_thinking, server_tool_use, *_tool_result, ...: not text; kept in raw
        raw_finish = body.get("stop_reason")
        return CompletionResponse(
            id=body.get("id"),
            model=body.get("model"),
            content="".join(text),
            reasoning="".join(reasoning) or None,
            reasoning_signature=signature,
            tool_calls=tool_calls,
            finish_reason=self.finish_reason(raw_finish),
            raw_finish_reason=raw_finish,
            usage=usage_from(body.get("usage")),
            raw=body,
        )

    def stream_parser(self, spec: ProviderSpec) -> AnthropicStreamParser:
        return AnthropicStreamParser()

    def parse_models(self, body: Any, spec: ProviderSpec) -> list[ModelInfo]:
        items = body.get("data", []) if isinstance(body, dict) else []
        # `created_at` is an ISO date string, not the epoch seconds `created` holds
        return [
            ModelInfo(id=str(item["id"]), raw=item)
            for item in items
            if isinstance(item, dict) and "id" in item
        ]


class AnthropicStreamParser:
    """Typed SSE events; `message_stop` is the terminal event.

    `_tools` maps a content block index to the ordinal of its tool_use block (0 for the
    first tool_use of the message, 1 for the second...): that ordinal is the unified
    `ToolCallDelta.index`. Blocks missing from it (text, thinking, server tools) have
    their `input_json_delta`s ignored.
    """

    __slots__ = (
        "_pending_input",
        "_tools",
        "finish_reason",
        "finished",
        "id",
        "model",
        "raw_finish_reason",
        "usage",
    )

    def __init__(self) -> None:
        self.finished = False
        self.id: str | None = None
        self.model: str | None = None
        self.finish_reason: FinishReason | None = None
        self.raw_finish_reason: str | None = None
        self.usage: dict[str, Any] = {}
        self._tools: dict[int, int] = {}
        # a tool_use block whose input came whole in content_block_start (no deltas yet)
        self._pending_input: dict[int, Any] = {}

    def parse(self, event: ServerSentEvent) -> StreamingChunk | None:
        if event.event == "ping":
            return None
        data = load_event_json(event)
        if not isinstance(data, dict):
            return None
        kind = data.get("type") or event.event
        try:
            return self._parse(kind, data)
        except ProviderError:
            raise
        except (LookupError, TypeError, AttributeError, ValueError) as exc:
            # valid JSON of the wrong shape: a typed error, never a crash mid-stream
            raise malformed_event(f"the Anthropic {kind!r:.60} event", event, exc) from None

    def _parse(self, kind: Any, data: dict[str, Any]) -> StreamingChunk | None:
        if kind == "content_block_delta":
            delta = data.get("delta")
            if type(delta) is not dict:
                delta = object_or_empty(delta, "delta")
            dtype = delta.get("type")
            if dtype == "text_delta":
                text = delta.get("text")
                if type(text) is not str:
                    text = str_or_empty(text, "delta.text")
                return StreamingChunk(content=text, model=self.model, raw=data)
            if dtype == "input_json_delta":
                index = data.get("index", -1)
                if type(index) is not int:
                    raise wrong_type(index, "index", "an int")
                partial = delta.get("partial_json")
                if type(partial) is not str:
                    partial = str_or_empty(partial, "delta.partial_json")
                ordinal = self._tools.get(index)
                if ordinal is None or not partial:
                    return None
                self._pending_input.pop(index, None)
                return StreamingChunk(
                    model=self.model,
                    tool_calls=(ToolCallDelta(index=ordinal, arguments=partial),),
                    raw=data,
                )
            if dtype == "thinking_delta":
                thinking = delta.get("thinking")
                if type(thinking) is not str:
                    thinking = str_or_empty(thinking, "delta.thinking")
                return StreamingChunk(reasoning=thinking, model=self.model, raw=data)
            if dtype == "signature_delta":
                signature = str_or_none(delta.get("signature"), "delta.signature")
                return StreamingChunk(
                    reasoning_signature=signature or None, model=self.model, raw=data
                )
            # citations_delta and anything newer: nothing for the unified chunk
            return None
        if kind == "content_block_start":
            return self._block_start(data)
        if kind == "content_block_stop":
            index = data.get("index", -1)
            if type(index) is not int:
                raise wrong_type(index, "index", "an int")
            pending = self._pending_input.pop(index, None)
            if pending is None:
                return None
            return StreamingChunk(
                model=self.model,
                tool_calls=(
                    ToolCallDelta(
                        index=self._tools[index],
                        arguments=json.dumps(pending, separators=(",", ":")),
                    ),
                ),
                raw=data,
            )
        if kind == "message_start":
            message = data.get("message")
            if type(message) is not dict:
                message = object_or_empty(message, "message")
            self._merge_usage(message.get("usage"), "message.usage")
            # metadata of the wrong type is dropped, as in the OpenAI dialect
            self.id = optional_str(message.get("id"))
            self.model = optional_str(message.get("model"))
            return StreamingChunk(
                model=self.model, id=self.id, usage=usage_from(self.usage), raw=data
            )
        if kind == "message_delta":
            delta = data.get("delta")
            if type(delta) is not dict:
                delta = object_or_empty(delta, "delta")
            raw_finish = str_or_none(delta.get("stop_reason"), "delta.stop_reason")
            self._merge_usage(data.get("usage"), "usage")
            finish: FinishReason | None = None
            if raw_finish is not None:
                finish = _FINISH.get(raw_finish, "other")
                self.finish_reason = finish
                self.raw_finish_reason = raw_finish
            return StreamingChunk(
                model=self.model,
                finish_reason=finish,
                raw_finish_reason=raw_finish,
                usage=usage_from(self.usage),
                raw=data,
            )
        if kind == "message_stop":
            self.finished = True
            return StreamingChunk(
                is_final=True,
                model=self.model,
                id=self.id,
                finish_reason=self.finish_reason,
                raw_finish_reason=self.raw_finish_reason,
                usage=usage_from(self.usage) if self.usage else None,
                raw=data,
            )
        if kind == "error":
            raise stream_event_error(data, "Anthropic")
        # ping sent as a message event, or an event type newer than this parser
        return None

    def _block_start(self, data: dict[str, Any]) -> StreamingChunk | None:
        block = data.get("content_block")
        if type(block) is not dict:
            block = object_or_empty(block, "content_block")
        btype = block.get("type")
        if btype == "text":
            text = str_or_empty(block.get("text"), "content_block.text")
            return StreamingChunk(content=text, model=self.model, raw=data) if text else None
        if btype == "tool_use":
            index = data.get("index", -1)
            if type(index) is not int:
                raise wrong_type(index, "index", "an int")
            call_id = str_or_none(block.get("id"), "content_block.id")
            name = str_or_none(block.get("name"), "content_block.name")
            ordinal = len(self._tools)
            self._tools[index] = ordinal
            start_input = block.get("input")
            if start_input:
                self._pending_input[index] = start_input
            return StreamingChunk(
                model=self.model,
                tool_calls=(ToolCallDelta(index=ordinal, id=call_id, name=name),),
                raw=data,
            )
        if btype == "thinking":
            thinking = str_or_empty(block.get("thinking"), "content_block.thinking")
            signature = str_or_none(block.get("signature"), "content_block.signature") or None
            if thinking or signature:
                return StreamingChunk(
                    reasoning=thinking,
                    reasoning_signature=signature,
                    model=self.model,
                    raw=data,
                )
        # redacted_thinking, server_tool_use, mcp_tool_use, *_tool_result, ...
        return None

    def _merge_usage(self, usage: Any, where: str) -> None:
        # message_delta counts are cumulative totals: a later non-null value wins
        if not isinstance(usage, dict):
            return
        # checked before anything is merged: a malformed event leaves the totals as they were
        for key in _COUNTS:
            count_or_none(usage.get(key), f"{where}.{key}")
        details = usage.get("output_tokens_details")
        if details is not None:
            details = object_or_empty(details, f"{where}.output_tokens_details")
            count_or_none(
                details.get("thinking_tokens"), f"{where}.output_tokens_details.thinking_tokens"
            )
        for key, value in usage.items():
            if value is not None:
                self.usage[key] = value


DIALECT = AnthropicMessagesDialect()


# --------------------------------------------------------------------------- writer

_STOP_REASONS: dict[FinishReason, str] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "refusal",
    "other": "pause_turn",
    "error": "end_turn",
}
_ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def _input_counts(usage: Usage) -> dict[str, Any]:
    out: dict[str, Any] = {"input_tokens": usage.input_tokens}
    if usage.cache_write_tokens is not None:
        out["cache_creation_input_tokens"] = usage.cache_write_tokens
    if usage.cache_read_tokens is not None:
        out["cache_read_input_tokens"] = usage.cache_read_tokens
    return out


def _output_counts(usage: Usage) -> dict[str, Any]:
    out: dict[str, Any] = {"output_tokens": usage.output_tokens}
    if usage.reasoning_tokens is not None:
        out["output_tokens_details"] = {"thinking_tokens": usage.reasoning_tokens}
    return out


@dataclass(frozen=True)
class AnthropicMessagesWriter:
    """What the Messages API sends: `message` bodies, typed SSE events (`message_start`,
    `content_block_start`/`_delta`/`_stop` per block, `message_delta`, `message_stop`, and
    the `ping` after the first block's start unless `ping` is off), `error` events and
    `{"type": "error", ...}` bodies. An answer's blocks are its thinking, its text (always,
    unless it only calls tools) and one `tool_use` per call."""

    ping: bool = True
    created_at: str = "2023-11-14T22:13:20Z"  # the models' creation date

    stream_content_type: ClassVar[str] = "text/event-stream; charset=utf-8"

    def _message(self, answer: Answer, content: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": answer.id or "msg_modelwire",
            "type": "message",
            "role": "assistant",
            "model": answer.model,
            "content": content,
        }

    def response(self, answer: Answer) -> bytes:
        content: list[dict[str, Any]] = []
        if answer.reasoning:
            signature = answer.reasoning_signature or ""
            content.append(
                {"type": "thinking", "thinking": answer.reasoning, "signature": signature}
            )
        if answer.chunks or not answer.tool_calls:
            content.append({"type": "text", "text": answer.text})
        for i, call in enumerate(answer.tool_calls):
            arguments = arguments_value(call.arguments)
            content.append(
                {
                    "type": "tool_use",
                    "id": call.id or f"toolu_{i}",
                    "name": call.name,
                    "input": arguments if isinstance(arguments, dict) else {},
                }
            )
        body = self._message(answer, content)
        body["stop_reason"] = _STOP_REASONS[answer.finish]
        body["stop_sequence"] = None
        if answer.usage is not None:
            body["usage"] = _input_counts(answer.usage) | _output_counts(answer.usage)
        return json_bytes(body)

    def stream(self, answer: Answer, request: Mapping[str, Any] | None = None) -> list[StreamEvent]:
        usage = answer.usage
        events: list[StreamEvent] = []
        pinged = not self.ping
        index = 0

        def add(name: str, data: dict[str, Any], kind: StreamEventKind = "frame") -> None:
            events.append(StreamEvent(sse({"type": name, **data}, name), kind))

        def start(block: dict[str, Any]) -> None:
            nonlocal pinged
            add("content_block_start", {"index": index, "content_block": block})
            if not pinged:
                add("ping", {})
                pinged = True

        def delta(kind: str, **payload: Any) -> dict[str, Any]:
            return {"index": index, "delta": {"type": kind, **payload}}

        message = self._message(answer, [])
        message |= {"stop_reason": None, "stop_sequence": None}
        if usage is not None:
            # message_start counts the first output token; message_delta has the total
            message["usage"] = _input_counts(usage) | {"output_tokens": 1}
        add("message_start", {"message": message})
        if answer.reasoning:
            start({"type": "thinking", "thinking": "", "signature": ""})
            add("content_block_delta", delta("thinking_delta", thinking=answer.reasoning), "delta")
            if answer.reasoning_signature:
                signature = answer.reasoning_signature
                add("content_block_delta", delta("signature_delta", signature=signature))
            add("content_block_stop", {"index": index})
            index += 1
        if answer.chunks or not answer.tool_calls:
            start({"type": "text", "text": ""})
            for text in answer.chunks:
                add("content_block_delta", delta("text_delta", text=text), "delta")
            add("content_block_stop", {"index": index})
            index += 1
        for i, call in enumerate(answer.tool_calls):
            start(
                {"type": "tool_use", "id": call.id or f"toolu_{i}", "name": call.name, "input": {}}
            )
            for piece in text_pieces(call.arguments, answer.argument_chunk_size):
                add("content_block_delta", delta("input_json_delta", partial_json=piece), "delta")
            add("content_block_stop", {"index": index})
            index += 1
        final: dict[str, Any] = {
            "delta": {"stop_reason": _STOP_REASONS[answer.finish], "stop_sequence": None}
        }
        if usage is not None:
            final["usage"] = _output_counts(usage)
        add("message_delta", final, "end")
        add("message_stop", {}, "end")
        return events

    def stream_error(
        self, message: str, *, error_type: str | None = None, code: str | int | None = None
    ) -> bytes:
        error = {"type": error_type or "api_error", "message": message}
        return sse({"type": "error", "error": error}, "error")

    def error_body(
        self,
        status: int,
        message: str,
        *,
        error_type: str | None = None,
        code: str | int | None = None,
    ) -> bytes:
        etype = error_type or _ERROR_TYPES.get(status, "api_error")
        return json_bytes({"type": "error", "error": {"type": etype, "message": message}})

    def models(self, ids: Sequence[str]) -> bytes:
        data = [
            {"type": "model", "id": model, "display_name": model, "created_at": self.created_at}
            for model in ids
        ]
        first, last = (ids[0], ids[-1]) if ids else (None, None)
        return json_bytes({"data": data, "has_more": False, "first_id": first, "last_id": last})

    def embeddings(
        self, vectors: Sequence[Sequence[float]], *, model: str | None, input_tokens: int
    ) -> bytes:
        raise NotImplementedError("the Anthropic Messages API serves no embeddings")

    def forced_tool(self, request: Mapping[str, Any]) -> str | None:
        choice = request.get("tool_choice")
        if isinstance(choice, dict) and choice.get("type") == "tool":
            name = choice.get("name")
            return name if isinstance(name, str) else None
        return None


WRITER: Writer = AnthropicMessagesWriter()
