"""AWS Bedrock's Converse API (`POST /model/{modelId}/converse` and `/converse-stream`).

One request shape for every model Bedrock serves: `messages` of content blocks (`text`,
`image`, `document`, `toolUse`, `toolResult`, `reasoningContent`, `cachePoint`), `system`
blocks, `inferenceConfig`, `toolConfig`, and `additionalModelRequestFields` for what one
model family takes (Anthropic's `thinking`). Blocks the unified types do not spell
(documents, cache points, videos) are sent as they are from a message's `provider_items`.

The stream is AWS event-stream messages (`_framing.EventStreamDecoder`): `messageStart`,
`contentBlockStart` / `contentBlockDelta` / `contentBlockStop`, `messageStop` (the stop
reason) and `metadata` (usage), the terminal event; an `exception` message is an error.
A reasoning block's whole form (its text and signature, or its redacted content) comes
back on `provider_items`, so that the next turn can send it back as Bedrock requires.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel

from .._framing import EventStreamMessage, ServerSentEvent, event_stream_message
from ..errors import ProviderError, RequestValidationError, UnexpectedResponseError
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
    TokenCount,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from ..wire import bedrock_converse as wire
from .base import (
    Answer,
    Dialect,
    StreamEvent,
    StreamEventKind,
    WireKind,
    Writer,
    apply_options,
    arguments_value,
    count_or_none,
    json_bytes,
    load_event_json,
    malformed_event,
    max_tokens_of,
    merge_extra,
    object_or_empty,
    str_or_empty,
    str_or_none,
    stream_event_error,
    structured_via_tool,
    text_pieces,
    wrong_type,
)

_FINISH: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
}

# the image formats Converse takes, by media type
_IMAGE_FORMATS = {
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/jpg": "jpeg",
    "image/gif": "gif",
    "image/webp": "webp",
}


# --------------------------------------------------------------------------- request


def _image_block(part: ImagePart, spec: ProviderSpec) -> dict[str, Any]:
    media_type, data = part.media_type, part.data
    url = part.url or ""
    if data is None and url.startswith("data:") and ";base64," in url:
        head, _, encoded = url.partition(";base64,")
        media_type = head[5:] or media_type
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise RequestValidationError(
                "an image's data: URL is not valid base64: give its bytes (ImagePart.from_bytes)",
                provider=spec.name,
            ) from None
    if data is None:
        # validation refuses image URLs first (capabilities.image_urls is false)
        raise RequestValidationError(
            f"{spec.display_name} takes images as bytes, not URLs: use ImagePart.from_bytes",
            provider=spec.name,
        )
    image_format = _IMAGE_FORMATS.get(media_type.lower())
    if image_format is None:
        raise RequestValidationError(
            f"{spec.display_name} takes png, jpeg, gif and webp images, not {media_type!r}",
            provider=spec.name,
        )
    encoded = base64.b64encode(data).decode("ascii")
    return {"image": {"format": image_format, "source": {"bytes": encoded}}}


def _content_blocks(message: Message, spec: ProviderSpec) -> list[dict[str, Any]]:
    content = message.content
    blocks: list[dict[str, Any]] = []
    if isinstance(content, str):
        if content:  # Converse rejects blank text blocks
            blocks.append({"text": content})
    else:
        for part in content:
            if isinstance(part, TextPart):
                if part.text:
                    blocks.append({"text": part.text})
            else:
                blocks.append(_image_block(part, spec))
    return blocks


def _extra_blocks(message: Message) -> list[dict[str, Any]]:
    """The Converse blocks given whole (documents, cache points, reasoning to send back)."""
    return [dict(item) for item in message.provider_items or ()]


def _tool_result(message: Message, spec: ProviderSpec) -> dict[str, Any]:
    content = _content_blocks(message, spec) or [{"text": message.text()}]
    return {"toolResult": {"toolUseId": message.tool_call_id, "content": content}}


def _turns(
    messages: list[Message], spec: ProviderSpec
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The system blocks, and the alternating user/assistant turns."""
    system: list[dict[str, Any]] = []
    turns: list[dict[str, Any]] = []
    for message in messages:
        role = message.role
        if role == "system":
            text = message.text()
            if text:
                system.append({"text": text})
            system.extend(_extra_blocks(message))
            continue
        if role == "tool":
            role, blocks = "user", [_tool_result(message, spec)]
        elif role == "assistant":
            extra = _extra_blocks(message)
            # reasoning goes first, as the model produced it
            reasoning = [b for b in extra if "reasoningContent" in b]
            blocks = reasoning + _content_blocks(message, spec)
            blocks += [b for b in extra if "reasoningContent" not in b]
            for call in message.tool_calls or ():
                blocks.append(
                    {"toolUse": {"toolUseId": call.id, "name": call.name, "input": call.arguments}}
                )
        else:
            blocks = _content_blocks(message, spec) + _extra_blocks(message)
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            # Converse requires user and assistant turns to alternate: merge the run
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    return system, turns


def _tool_choice(request: CompletionRequest, spec: ProviderSpec) -> dict[str, Any] | None:
    choice = request.tool_choice
    if isinstance(choice, NamedToolChoice):
        return {"tool": {"name": choice.name}}
    if choice == "required":
        return {"any": {}}
    if choice == "auto":
        return {"auto": {}}
    if choice == "none":
        raise RequestValidationError(
            f"{spec.display_name}'s Converse API has no tool_choice 'none': leave tools= out",
            provider=spec.name,
        )
    return None


# --------------------------------------------------------------------------- response


def usage_from(data: Any) -> Usage | None:
    if not isinstance(data, dict):
        return None
    return Usage(
        input_tokens=data.get("inputTokens") or 0,
        output_tokens=data.get("outputTokens") or 0,
        cache_read_tokens=data.get("cacheReadInputTokens"),
        cache_write_tokens=data.get("cacheWriteInputTokens"),
    )


def _reasoning_item(block: Mapping[str, Any]) -> dict[str, Any]:
    """A reasoning block as it is sent back in a later turn (text and signature, or the
    redacted content, without what the response adds)."""
    return {"reasoningContent": dict(block)}


class BedrockConverseDialect(Dialect):
    name = "bedrock_converse"
    finish_reasons: ClassVar[dict[str, FinishReason]] = _FINISH
    wire_models: ClassVar[dict[WireKind, type[BaseModel]]] = {"response": wire.ConverseResponse}

    def build_request(
        self, request: CompletionRequest, spec: ProviderSpec, *, stream: bool
    ) -> dict[str, Any]:
        # the model is in the URL (/model/{modelId}/converse), not the body
        system, turns = _turns(request.messages, spec)
        body: dict[str, Any] = {"messages": turns}
        if system:
            body["system"] = system
        inference: dict[str, Any] = {}
        max_tokens = max_tokens_of(request, spec)
        if max_tokens is not None:
            inference["maxTokens"] = max_tokens
        if request.temperature is not None:
            inference["temperature"] = request.temperature
        if request.top_p is not None:
            inference["topP"] = request.top_p
        if request.stop:
            inference["stopSequences"] = request.stop
        if inference:
            body["inferenceConfig"] = inference
        tools: list[dict[str, Any]] = [
            {
                "toolSpec": {
                    "name": tool.name,
                    **({"description": tool.description} if tool.description else {}),
                    "inputSchema": {"json": tool.parameters},
                }
            }
            for tool in request.tools or ()
        ]
        choice = _tool_choice(request, spec)
        fmt = request.response_format
        if fmt is not None and structured_via_tool(request, spec):
            # a tool whose input is the output, and force that tool
            schema = fmt.json_schema if fmt.json_schema is not None else {"type": "object"}
            tools.append(
                {
                    "toolSpec": {
                        "name": fmt.name,
                        "description": "Respond with the final answer, as this tool's input.",
                        "inputSchema": {"json": schema},
                    }
                }
            )
            choice = {"tool": {"name": fmt.name}}
        if tools:
            body["toolConfig"] = {"tools": tools}
            if choice is not None:
                body["toolConfig"]["toolChoice"] = choice
        apply_options(body, request, spec)
        return merge_extra(body, request.extra_body)

    def parse_response(self, body: Any, spec: ProviderSpec) -> CompletionResponse:
        text: list[str] = []
        reasoning: list[str] = []
        signature: str | None = None
        tool_calls: list[ToolCall] = []
        items: list[dict[str, Any]] = []
        message = (body.get("output") or {}).get("message") or {}
        for block in message.get("content") or ():
            if "text" in block:
                text.append(block.get("text") or "")
            elif "toolUse" in block:
                use = block["toolUse"]
                arguments = use.get("input")
                tool_calls.append(
                    ToolCall(
                        id=str(use.get("toolUseId") or f"call_{len(tool_calls)}"),
                        name=use.get("name") or "",
                        arguments=arguments if isinstance(arguments, dict) else {},
                    )
                )
            elif "reasoningContent" in block:
                content = block["reasoningContent"]
                thought = content.get("reasoningText") or {}
                reasoning.append(thought.get("text") or "")
                signature = thought.get("signature") or signature
                items.append(_reasoning_item(content))
            # citationsContent, images, ...: not text; kept in raw
        raw_finish = body.get("stopReason")
        return CompletionResponse(
            content="".join(text),
            reasoning="".join(reasoning) or None,
            reasoning_signature=signature,
            tool_calls=tool_calls,
            finish_reason=self.finish_reason(raw_finish),
            raw_finish_reason=raw_finish,
            usage=usage_from(body.get("usage")),
            provider_items=items,
            raw=body,
        )

    def stream_parser(self, spec: ProviderSpec) -> BedrockStreamParser:
        return BedrockStreamParser()

    # what CountTokens takes of a Converse body (not inferenceConfig, guardrails, ...)
    token_count_fields = frozenset(
        ("messages", "system", "toolConfig", "additionalModelRequestFields")
    )

    def build_token_count_request(
        self, request: CompletionRequest, spec: ProviderSpec
    ) -> dict[str, Any]:
        """CountTokens' body: the Converse request, as it would be sent, under
        `input.converse`."""
        return {"input": {"converse": super().build_token_count_request(request, spec)}}

    def parse_token_count(self, body: Any, spec: ProviderSpec) -> TokenCount:
        count = body.get("inputTokens") if isinstance(body, dict) else None
        if type(count) is not int:
            raise UnexpectedResponseError(
                "the token count response has no inputTokens number",
                provider=spec.name,
                body=body,
            )
        return TokenCount(input_tokens=count, raw=body)


class BedrockStreamParser:
    """Event-stream messages by `:event-type`; `metadata` (usage, after `messageStop`) is
    the terminal event.

    `_tools` maps a content block index to the ordinal of its toolUse block (the unified
    `ToolCallDelta.index`); `_reasoning` holds each reasoning block's text, signature or
    redacted content until its `contentBlockStop` hands it on as a provider item.
    """

    __slots__ = ("_reasoning", "_tools", "finish_reason", "finished", "raw_finish_reason")

    def __init__(self) -> None:
        self.finished = False
        self.finish_reason: FinishReason | None = None
        self.raw_finish_reason: str | None = None
        self._tools: dict[int, int] = {}
        self._reasoning: dict[int, dict[str, Any]] = {}

    def parse(self, event: ServerSentEvent) -> StreamingChunk | None:
        kind = event.event
        if isinstance(event, EventStreamMessage) and event.message_type != "event":
            # an `exception` (or `error`) message ends the stream: the service's own error
            data = load_event_json(event) if event.data else {}
            body = data if isinstance(data, dict) else {"message": str(data)}
            error = stream_event_error(body, "Bedrock")
            error.error_type = error.error_type or kind
            raise error
        data = load_event_json(event)
        if not isinstance(data, dict):
            return None
        try:
            return self._parse(kind, data)
        except ProviderError:
            raise
        except (LookupError, TypeError, AttributeError, ValueError) as exc:
            raise malformed_event(f"the Bedrock {kind!r:.60} event", event, exc) from None

    def _index(self, data: dict[str, Any]) -> int:
        index = data.get("contentBlockIndex", 0)
        if type(index) is not int:
            raise wrong_type(index, "contentBlockIndex", "an int")
        return index

    def _parse(self, kind: str, data: dict[str, Any]) -> StreamingChunk | None:
        if kind == "contentBlockDelta":
            delta = data.get("delta")
            if type(delta) is not dict:
                delta = object_or_empty(delta, "delta")
            if "text" in delta:
                text = delta["text"]
                if type(text) is not str:
                    text = str_or_empty(text, "delta.text")
                return StreamingChunk(content=text, raw=data)
            if "toolUse" in delta:
                use = object_or_empty(delta["toolUse"], "delta.toolUse")
                partial = str_or_empty(use.get("input"), "delta.toolUse.input")
                ordinal = self._tools.get(self._index(data))
                if ordinal is None or not partial:
                    return None
                return StreamingChunk(
                    tool_calls=(ToolCallDelta(index=ordinal, arguments=partial),), raw=data
                )
            if "reasoningContent" in delta:
                return self._reasoning_delta(data, delta["reasoningContent"])
            return None  # citations and anything newer: nothing for the unified chunk
        if kind == "contentBlockStart":
            start = object_or_empty(data.get("start"), "start")
            if "toolUse" not in start:
                return None
            use = object_or_empty(start["toolUse"], "start.toolUse")
            ordinal = len(self._tools)
            self._tools[self._index(data)] = ordinal
            call_id = str_or_none(use.get("toolUseId"), "start.toolUse.toolUseId")
            name = str_or_none(use.get("name"), "start.toolUse.name")
            return StreamingChunk(
                tool_calls=(ToolCallDelta(index=ordinal, id=call_id, name=name),), raw=data
            )
        if kind == "contentBlockStop":
            block = self._reasoning.pop(self._index(data), None)
            if block is None:
                return None
            return StreamingChunk(items=(_reasoning_item(block),), raw=data)
        if kind == "messageStart":
            return None  # only the role, always "assistant"
        if kind == "messageStop":
            raw_finish = str_or_none(data.get("stopReason"), "stopReason")
            if raw_finish is not None:
                self.finish_reason = _FINISH.get(raw_finish, "other")
                self.raw_finish_reason = raw_finish
            return StreamingChunk(
                finish_reason=self.finish_reason, raw_finish_reason=raw_finish, raw=data
            )
        if kind == "metadata":
            usage = object_or_empty(data.get("usage"), "usage")
            for key in ("inputTokens", "outputTokens", "cacheReadInputTokens"):
                count_or_none(usage.get(key), f"usage.{key}")
            count_or_none(usage.get("cacheWriteInputTokens"), "usage.cacheWriteInputTokens")
            self.finished = True
            return StreamingChunk(
                is_final=True,
                finish_reason=self.finish_reason,
                raw_finish_reason=self.raw_finish_reason,
                usage=usage_from(usage) if usage else None,
                raw=data,
            )
        return None  # an event type newer than this parser

    def _reasoning_delta(self, data: dict[str, Any], value: Any) -> StreamingChunk | None:
        content = object_or_empty(value, "delta.reasoningContent")
        block = self._reasoning.setdefault(self._index(data), {})
        if "text" in content:
            text = str_or_empty(content["text"], "delta.reasoningContent.text")
            thought = block.setdefault("reasoningText", {})
            thought["text"] = thought.get("text", "") + text
            return StreamingChunk(reasoning=text, raw=data) if text else None
        if "signature" in content:
            signature = str_or_empty(content["signature"], "delta.reasoningContent.signature")
            block.setdefault("reasoningText", {}).setdefault("text", "")
            block["reasoningText"]["signature"] = signature
            return StreamingChunk(reasoning_signature=signature or None, raw=data)
        if "redactedContent" in content:
            redacted = content["redactedContent"]
            if not isinstance(redacted, str):
                raise wrong_type(redacted, "delta.reasoningContent.redactedContent", "a string")
            block["redactedContent"] = block.get("redactedContent", "") + redacted
        return None


DIALECT = BedrockConverseDialect()


# --------------------------------------------------------------------------- writer

_STOP_REASONS: dict[FinishReason, str] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "content_filtered",
    "other": "end_turn",
    "error": "end_turn",
}
# the error type Bedrock names for each status (in `x-amzn-ErrorType` and `__type`)
ERROR_TYPES: dict[int, str] = {
    400: "ValidationException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    408: "ModelTimeoutException",
    424: "ModelErrorException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
}


def _usage(usage: Usage) -> dict[str, Any]:
    out: dict[str, Any] = {
        "inputTokens": usage.input_tokens,
        "outputTokens": usage.output_tokens,
        "totalTokens": usage.input_tokens + usage.output_tokens,
    }
    if usage.cache_read_tokens is not None:
        out["cacheReadInputTokens"] = usage.cache_read_tokens
    if usage.cache_write_tokens is not None:
        out["cacheWriteInputTokens"] = usage.cache_write_tokens
    return out


def _event(name: str, payload: dict[str, Any]) -> bytes:
    headers = {
        ":event-type": name,
        ":content-type": "application/json",
        ":message-type": "event",
    }
    return event_stream_message(headers, json_bytes(payload))


@dataclass(frozen=True)
class BedrockConverseWriter:
    """What the Converse API sends: `output.message` bodies, event-stream messages
    (`messageStart`, `contentBlockStart`/`Delta`/`Stop` per block, `messageStop`,
    `metadata`), `exception` messages and `{"message": ...}` error bodies (with `__type`,
    which the service also puts in `x-amzn-ErrorType`). An answer's blocks are its
    reasoning, its text (always, unless it only calls tools) and one `toolUse` per call."""

    latency_ms: int = 100

    stream_content_type: ClassVar[str] = "application/vnd.amazon.eventstream"

    def response(self, answer: Answer) -> bytes:
        content: list[dict[str, Any]] = []
        if answer.reasoning:
            thought: dict[str, Any] = {"text": answer.reasoning}
            if answer.reasoning_signature:
                thought["signature"] = answer.reasoning_signature
            content.append({"reasoningContent": {"reasoningText": thought}})
        if answer.chunks or not answer.tool_calls:
            content.append({"text": answer.text})
        for i, call in enumerate(answer.tool_calls):
            arguments = arguments_value(call.arguments)
            content.append(
                {
                    "toolUse": {
                        "toolUseId": call.id or f"tooluse_{i}",
                        "name": call.name,
                        "input": arguments if isinstance(arguments, dict) else {},
                    }
                }
            )
        body: dict[str, Any] = {
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": _STOP_REASONS[answer.finish],
            "usage": _usage(answer.usage or Usage()),
            "metrics": {"latencyMs": self.latency_ms},
        }
        return json_bytes(body)

    def stream(self, answer: Answer, request: Mapping[str, Any] | None = None) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        index = 0

        def add(name: str, data: dict[str, Any], kind: StreamEventKind = "frame") -> None:
            events.append(StreamEvent(_event(name, data), kind))

        def delta(payload: dict[str, Any]) -> None:
            add("contentBlockDelta", {"contentBlockIndex": index, "delta": payload}, "delta")

        add("messageStart", {"role": "assistant"})
        if answer.reasoning:
            delta({"reasoningContent": {"text": answer.reasoning}})
            if answer.reasoning_signature:
                delta({"reasoningContent": {"signature": answer.reasoning_signature}})
            add("contentBlockStop", {"contentBlockIndex": index})
            index += 1
        if answer.chunks or not answer.tool_calls:
            for text in answer.chunks:
                delta({"text": text})
            add("contentBlockStop", {"contentBlockIndex": index})
            index += 1
        for i, call in enumerate(answer.tool_calls):
            use = {"toolUseId": call.id or f"tooluse_{i}", "name": call.name}
            add("contentBlockStart", {"start": {"toolUse": use}, "contentBlockIndex": index})
            for piece in text_pieces(call.arguments, answer.argument_chunk_size):
                delta({"toolUse": {"input": piece}})
            add("contentBlockStop", {"contentBlockIndex": index})
            index += 1
        add("messageStop", {"stopReason": _STOP_REASONS[answer.finish]}, "end")
        metadata = {"usage": _usage(answer.usage or Usage()), "metrics": {"latencyMs": 100}}
        add("metadata", metadata, "end")
        return events

    def stream_error(
        self, message: str, *, error_type: str | None = None, code: str | int | None = None
    ) -> bytes:
        headers = {
            ":exception-type": error_type or "InternalServerException",
            ":content-type": "application/json",
            ":message-type": "exception",
        }
        return event_stream_message(headers, json_bytes({"message": message}))

    def error_body(
        self,
        status: int,
        message: str,
        *,
        error_type: str | None = None,
        code: str | int | None = None,
    ) -> bytes:
        etype = error_type or ERROR_TYPES.get(status, "InternalServerException")
        return json_bytes({"__type": etype, "message": message})

    def models(self, ids: Sequence[str]) -> bytes:
        raise NotImplementedError("Bedrock's runtime API lists no models")

    def embeddings(
        self, vectors: Sequence[Sequence[float]], *, model: str | None, input_tokens: int
    ) -> bytes:
        raise NotImplementedError("the Converse API serves no embeddings")

    def forced_tool(self, request: Mapping[str, Any]) -> str | None:
        choice = (request.get("toolConfig") or {}).get("toolChoice")
        if isinstance(choice, dict) and isinstance(choice.get("tool"), dict):
            name = choice["tool"].get("name")
            return name if isinstance(name, str) else None
        return None


WRITER: Writer = BedrockConverseWriter()
