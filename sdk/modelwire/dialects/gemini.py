"""Gemini's native API (`POST /v1beta/models/{model}:generateContent`, and
`:streamGenerateContent?alt=sse`): `contents` of parts, a `systemInstruction`, a
`generationConfig`, and answers whose first candidate's parts are the reply.

The model is in the URL, not the body. A stream is SSE `data:` events, each a whole
`GenerateContentResponse`, with no terminal event of its own: the event whose candidate
has a `finishReason` ends it (usage counts in every event are running totals).

Thinking models attach a `thoughtSignature` to some parts (a function call's above all),
which the API wants back verbatim on the same part in the next turn. Each signed part is
kept in `CompletionResponse.provider_items` as `{"type": "gemini_part", "part": {...}}`;
`to_message()` carries the items back, and the request builder puts each signature on
the part it came with (the function call of the same id or name, else the text).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel

from .._framing import ServerSentEvent
from ..errors import ProviderError, UnexpectedResponseError
from ..spec import ProviderSpec
from ..types import (
    CompletionRequest,
    CompletionResponse,
    ContentPart,
    DocumentPart,
    EmbeddingResponse,
    FinishReason,
    ImagePart,
    Message,
    ModelInfo,
    NamedToolChoice,
    StreamingChunk,
    TextPart,
    TokenCount,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from ..wire import gemini as wire
from .base import (
    Answer,
    Dialect,
    StreamEvent,
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
    object_or_empty,
    optional_str,
    str_or_none,
    stream_event_error,
)

_FINISH: dict[str, FinishReason] = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "IMAGE_PROHIBITED_CONTENT": "content_filter",
    "MALFORMED_FUNCTION_CALL": "error",
    "UNEXPECTED_TOOL_CALL": "error",
    "TOO_MANY_TOOL_CALLS": "error",
    "LANGUAGE": "other",
    "OTHER": "other",
    "FINISH_REASON_UNSPECIFIED": "other",
}

# the item type that keeps a signed part in provider_items
PART_ITEM = "gemini_part"


def finish_of(raw: str | None, has_calls: bool) -> FinishReason | None:
    """Gemini says STOP when it calls functions too: that is the unified "tool_calls"."""
    if raw is None:
        return None
    finish = _FINISH.get(raw, "other")
    return "tool_calls" if finish == "stop" and has_calls else finish


# --------------------------------------------------------------------------- request


def _image_part(part: ImagePart) -> dict[str, Any]:
    if part.data is not None:
        return {"inlineData": {"mimeType": part.media_type, "data": part.base64()}}
    url = part.url or ""
    if url.startswith("data:") and ";base64," in url:
        head, _, data = url.partition(";base64,")
        return {"inlineData": {"mimeType": head[5:] or part.media_type, "data": data}}
    return {"fileData": {"mimeType": part.media_type, "fileUri": url}}


def _document_part(part: DocumentPart) -> dict[str, Any]:
    data = part.inline_data()
    if data is not None:
        encoded = base64.b64encode(data).decode("ascii")
        return {"inlineData": {"mimeType": part.media_type, "data": encoded}}
    return {"fileData": {"mimeType": part.media_type, "fileUri": part.url}}


def _parts(content: str | list[ContentPart]) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"text": content}] if content else []
    parts: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, TextPart):
            if part.text:
                parts.append({"text": part.text})
        elif isinstance(part, ImagePart):
            parts.append(_image_part(part))
        elif isinstance(part, DocumentPart):
            parts.append(_document_part(part))
        # thinking goes back as Gemini signed it, through the message's provider items
    return parts


def _signed_parts(message: Message) -> list[dict[str, Any]]:
    return [
        item["part"]
        for item in message.provider_items or ()
        if item.get("type") == PART_ITEM and isinstance(item.get("part"), dict)
    ]


def _model_parts(message: Message) -> list[dict[str, Any]]:
    """An earlier answer's parts, each signature back on the part it came with."""
    signed = _signed_parts(message)
    call_signatures = [p for p in signed if isinstance(p.get("functionCall"), dict)]
    other_signatures = [p["thoughtSignature"] for p in signed if p not in call_signatures]
    parts = _parts(message.content)
    if other_signatures:
        if parts and "text" in parts[-1]:
            parts[-1]["thoughtSignature"] = other_signatures[-1]
        else:  # a signature on an empty text part, as Gemini sends it at a stream's end
            parts.append({"text": "", "thoughtSignature": other_signatures[-1]})
    for call in message.tool_calls or ():
        function: dict[str, Any] = {"name": call.name, "args": call.arguments}
        part: dict[str, Any] = {"functionCall": function}
        for i, signed_part in enumerate(call_signatures):
            sent = signed_part["functionCall"]
            if sent.get("id") == call.id or (
                sent.get("id") is None and sent.get("name") == call.name
            ):
                if sent.get("id") is not None:
                    function["id"] = sent["id"]
                part["thoughtSignature"] = call_signatures.pop(i)["thoughtSignature"]
                break
        parts.append(part)
    return parts


def _tool_response(message: Message, names: Mapping[str, str]) -> dict[str, Any]:
    text = message.text()
    value = arguments_value(text)
    # the API takes an object: JSON objects as they are, anything else under "result"
    response = value if isinstance(value, dict) and text.strip() else {"result": text}
    name = message.name or names.get(message.tool_call_id or "", "")
    return {"functionResponse": {"name": name, "response": response}}


def _contents(messages: list[Message]) -> tuple[list[str], list[dict[str, Any]]]:
    """The system texts, in order, and the user/model turns (runs of one role merged)."""
    system: list[str] = []
    contents: list[dict[str, Any]] = []
    names: dict[str, str] = {}  # a tool call's id -> its function's name
    for message in messages:
        if message.role == "system":
            if message.text():
                system.append(message.text())
            continue
        if message.role == "assistant":
            role, parts = "model", _model_parts(message)
            names.update({call.id: call.name for call in message.tool_calls or ()})
        elif message.role == "tool":
            role, parts = "user", [_tool_response(message, names)]
        else:
            role, parts = "user", _parts(message.content)
        if not parts:
            continue
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})
    return system, contents


def _tool_config(request: CompletionRequest) -> dict[str, Any] | None:
    choice = request.tool_choice
    if isinstance(choice, NamedToolChoice):
        config: dict[str, Any] = {"mode": "ANY", "allowedFunctionNames": [choice.name]}
    elif choice == "required":
        config = {"mode": "ANY"}
    elif choice in ("auto", "none"):
        config = {"mode": choice.upper()}
    else:
        return None
    return {"functionCallingConfig": config}


# --------------------------------------------------------------------------- response


def usage_from(data: Any) -> Usage | None:
    """Gemini counts thoughts apart from the answer; unified output counts include them."""
    if not isinstance(data, dict):
        return None
    thoughts = data.get("thoughtsTokenCount")
    return Usage(
        input_tokens=data.get("promptTokenCount") or 0,
        output_tokens=(data.get("candidatesTokenCount") or 0) + (thoughts or 0),
        reasoning_tokens=thoughts,
        cache_read_tokens=data.get("cachedContentTokenCount"),
    )


def _first_candidate(body: Mapping[str, Any]) -> dict[str, Any]:
    candidates = body.get("candidates") or ()
    return candidates[0] if candidates and isinstance(candidates[0], dict) else {}


def _blocked(body: Mapping[str, Any]) -> str | None:
    """The reason a prompt was blocked (no candidates come then)."""
    feedback = body.get("promptFeedback")
    if isinstance(feedback, dict) and not body.get("candidates"):
        reason = feedback.get("blockReason")
        return reason if isinstance(reason, str) else None
    return None


def _call_id(function: Mapping[str, Any], ordinal: int) -> str:
    call_id = function.get("id")
    return call_id if isinstance(call_id, str) and call_id else f"call_{ordinal}"


def _signed_item(part: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": PART_ITEM, "part": dict(part)}


class GeminiDialect(Dialect):
    name = "gemini"
    finish_reasons: ClassVar[dict[str, FinishReason]] = _FINISH
    wire_models: ClassVar[dict[WireKind, type[BaseModel]]] = {
        "response": wire.GenerateContentResponse,
        "models": wire.ModelList,
        "embeddings": wire.BatchEmbedResponse,
    }

    token_count_fields = frozenset(("contents", "systemInstruction", "tools", "toolConfig"))

    def build_request(
        self, request: CompletionRequest, spec: ProviderSpec, *, stream: bool
    ) -> dict[str, Any]:
        system, contents = _contents(request.messages)
        body: dict[str, Any] = {"contents": contents}
        if system:
            body["systemInstruction"] = {"parts": [{"text": "\n\n".join(system)}]}
        config: dict[str, Any] = {}
        if request.temperature is not None:
            config["temperature"] = request.temperature
        if request.top_p is not None:
            config["topP"] = request.top_p
        if request.max_tokens is not None:
            config["maxOutputTokens"] = request.max_tokens
        if request.stop:
            config["stopSequences"] = request.stop
        if request.seed is not None:
            config["seed"] = request.seed
        fmt = request.response_format
        if fmt is not None:
            config["responseMimeType"] = "application/json"
            if fmt.json_schema is not None:
                config["responseJsonSchema"] = fmt.json_schema
        if config:
            body["generationConfig"] = config
        if request.tools:
            # parametersJsonSchema takes JSON Schema as it is ($defs, additionalProperties);
            # `parameters` only Gemini's OpenAPI subset
            declarations = [
                {
                    "name": tool.name,
                    "description": tool.description,
                    "parametersJsonSchema": tool.parameters,
                }
                for tool in request.tools
            ]
            body["tools"] = [{"functionDeclarations": declarations}]
            tool_config = _tool_config(request)
            if tool_config is not None:
                body["toolConfig"] = tool_config
        apply_reasoning(body, request, spec)
        # the options' wire paths start at the body: generationConfig.topK, ...
        apply_options(body, request, spec)
        return merge_extra(body, request.extra_body)

    def build_token_count_request(
        self, request: CompletionRequest, spec: ProviderSpec
    ) -> dict[str, Any]:
        """`:countTokens` takes the request as `generateContentRequest`, so that the system
        instruction and the tools are counted too (its generation settings are left out)."""
        counted = super().build_token_count_request(request, spec)
        return {"generateContentRequest": {"model": f"models/{request.model}", **counted}}

    def parse_token_count(self, body: Any, spec: ProviderSpec) -> TokenCount:
        """`{"totalTokens": N, ...}`."""
        count = body.get("totalTokens") if isinstance(body, dict) else None
        if type(count) is not int:
            raise UnexpectedResponseError(
                "the token count response has no totalTokens number",
                provider=spec.name,
                body=body,
            )
        return TokenCount(input_tokens=count, raw=body)

    def parse_response(self, body: Any, spec: ProviderSpec) -> CompletionResponse:
        candidate = _first_candidate(body)
        content = candidate.get("content") or {}
        text: list[str] = []
        reasoning: list[str] = []
        tool_calls: list[ToolCall] = []
        items: list[dict[str, Any]] = []
        for part in content.get("parts") or ():
            if not isinstance(part, dict):
                continue
            function = part.get("functionCall")
            if isinstance(function, dict):
                arguments = function.get("args")
                tool_calls.append(
                    ToolCall(
                        id=_call_id(function, len(tool_calls)),
                        name=str(function.get("name") or ""),
                        arguments=arguments if isinstance(arguments, dict) else {},
                    )
                )
            elif isinstance(part.get("text"), str):
                (reasoning if part.get("thought") is True else text).append(part["text"])
            if isinstance(part.get("thoughtSignature"), str):
                items.append(_signed_item(part))
        raw_finish = candidate.get("finishReason") or _blocked(body)
        finish = finish_of(raw_finish, bool(tool_calls))
        if raw_finish is not None and raw_finish == _blocked(body):
            finish = "content_filter"
        return CompletionResponse(
            id=body.get("responseId"),
            model=body.get("modelVersion"),
            content="".join(text),
            reasoning="".join(reasoning) or None,
            tool_calls=tool_calls,
            finish_reason=finish,
            raw_finish_reason=raw_finish,
            usage=usage_from(body.get("usageMetadata")),
            provider_items=items,
            raw=body,
        )

    def stream_parser(self, spec: ProviderSpec) -> GeminiStreamParser:
        return GeminiStreamParser()

    # ---------------------------------------------------------------- models & embeddings

    def parse_models(self, body: Any, spec: ProviderSpec) -> list[ModelInfo]:
        items = body.get("models", []) if isinstance(body, dict) else []
        # "models/gemini-2.5-flash" is listed; the URL takes the bare name
        return [
            ModelInfo(
                id=str(item["name"]).removeprefix("models/"),
                context_length=item.get("inputTokenLimit"),
                raw=item,
            )
            for item in items
            if isinstance(item, dict) and "name" in item
        ]

    def build_embeddings_request(
        self, inputs: list[str], model: str, options: dict[str, Any]
    ) -> dict[str, Any]:
        requests = [
            {"model": f"models/{model}", "content": {"parts": [{"text": text}]}, **options}
            for text in inputs
        ]
        return {"requests": requests}

    def parse_embeddings(self, body: Any, spec: ProviderSpec) -> EmbeddingResponse:
        return EmbeddingResponse(
            embeddings=[item.get("values") or [] for item in body.get("embeddings") or ()],
            raw=body,
        )


class GeminiStreamParser:
    """Each event a whole `GenerateContentResponse`; the one with a finish reason (or a
    blocked prompt) is the last. Function calls come whole, one part each."""

    __slots__ = ("_calls", "finished", "id", "model", "usage")

    def __init__(self) -> None:
        self.finished = False
        self.id: str | None = None
        self.model: str | None = None
        self.usage: Usage | None = None
        self._calls = 0

    def parse(self, event: ServerSentEvent) -> StreamingChunk | None:
        data = load_event_json(event)
        if not isinstance(data, dict):
            return None
        try:
            return self._parse(data)
        except ProviderError:
            raise
        except (LookupError, TypeError, AttributeError, ValueError) as exc:
            raise malformed_event("a Gemini stream event", event, exc) from None

    def _parse(self, data: dict[str, Any]) -> StreamingChunk | None:
        if "error" in data:
            raise stream_event_error(data, "Gemini")
        self.id = optional_str(data.get("responseId")) or self.id
        self.model = optional_str(data.get("modelVersion")) or self.model
        counts = data.get("usageMetadata")
        if counts is not None:
            counts = object_or_empty(counts, "usageMetadata")
            for key in ("promptTokenCount", "candidatesTokenCount", "thoughtsTokenCount"):
                count_or_none(counts.get(key), f"usageMetadata.{key}")
            count_or_none(counts.get("cachedContentTokenCount"), "usageMetadata.cached")
            self.usage = usage_from(counts)
        candidates = data.get("candidates")
        candidate: dict[str, Any] = {}
        if candidates:
            if type(candidates) is not list:
                raise TypeError(f"candidates is {type(candidates).__name__}, not a list")
            candidate = object_or_empty(candidates[0], "candidates[0]")
        content = object_or_empty(candidate.get("content"), "candidates[0].content")
        parts = content.get("parts") or ()
        if type(parts) is not list and type(parts) is not tuple:
            raise TypeError(f"content.parts is {type(parts).__name__}, not a list")
        text: list[str] = []
        reasoning: list[str] = []
        calls: list[ToolCallDelta] = []
        items: list[dict[str, Any]] = []
        for part in parts:
            part = object_or_empty(part, "a content part")
            function = part.get("functionCall")
            if function is not None:
                function = object_or_empty(function, "functionCall")
                args = function.get("args")
                calls.append(
                    ToolCallDelta(
                        index=self._calls,
                        id=_call_id(function, self._calls),
                        name=str_or_none(function.get("name"), "functionCall.name") or "",
                        arguments=json.dumps(args if isinstance(args, dict) else {}),
                    )
                )
                self._calls += 1
            else:
                piece = str_or_none(part.get("text"), "text") or ""
                (reasoning if part.get("thought") is True else text).append(piece)
            signature = str_or_none(part.get("thoughtSignature"), "thoughtSignature")
            if signature is not None:
                items.append(_signed_item(part))
        raw_finish = str_or_none(candidate.get("finishReason"), "finishReason") or _blocked(data)
        finish: FinishReason | None = None
        if raw_finish is not None:
            self.finished = True
            finish = finish_of(raw_finish, self._calls > 0)
            if raw_finish == _blocked(data):
                finish = "content_filter"
        return StreamingChunk(
            content="".join(text),
            is_final=self.finished,
            model=self.model,
            finish_reason=finish,
            usage=self.usage,
            tool_calls=tuple(calls),
            reasoning="".join(reasoning),
            raw_finish_reason=raw_finish,
            id=self.id,
            raw=data,
            items=tuple(items),
        )


DIALECT = GeminiDialect()


# --------------------------------------------------------------------------- writer

_FINISH_REASONS: dict[FinishReason, str] = {
    "stop": "STOP",
    "length": "MAX_TOKENS",
    "tool_calls": "STOP",
    "content_filter": "SAFETY",
    "error": "MALFORMED_FUNCTION_CALL",
    "other": "OTHER",
}
# the `status` Google's APIs send with each HTTP status
STATUSES: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def _wire_usage(usage: Usage) -> dict[str, Any]:
    thoughts = usage.reasoning_tokens or 0
    out: dict[str, Any] = {
        "promptTokenCount": usage.input_tokens,
        "candidatesTokenCount": usage.output_tokens - thoughts,
        "totalTokenCount": usage.total_tokens,
    }
    if usage.reasoning_tokens is not None:
        out["thoughtsTokenCount"] = usage.reasoning_tokens
    if usage.cache_read_tokens is not None:
        out["cachedContentTokenCount"] = usage.cache_read_tokens
    return out


def _data(payload: Mapping[str, Any]) -> bytes:
    # Gemini ends each line with CRLF, and sends no `event:` lines
    return b"data: " + json_bytes(payload) + b"\r\n\r\n"


@dataclass(frozen=True)
class GeminiWriter:
    """What the Gemini API sends: `GenerateContentResponse` bodies (one candidate, camelCase
    keys), SSE streams of them (`data:` lines, CRLF, no terminal event: the last event has
    the finish reason and usage), and Google's `{"error": {"code", "message", "status"}}`.
    A reasoning signature goes on the thought part; function calls are whole parts."""

    stream_content_type: ClassVar[str] = "text/event-stream"

    def _body(
        self,
        answer: Answer,
        parts: list[dict[str, Any]],
        finish: str | None,
        usage: Usage | None,
    ) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}}
        if finish is not None:
            candidate["finishReason"] = finish
        candidate["index"] = 0
        body: dict[str, Any] = {"candidates": [candidate]}
        if usage is not None:
            body["usageMetadata"] = _wire_usage(usage)
        body["modelVersion"] = answer.model
        body["responseId"] = answer.id or "resp_modelwire"
        return body

    def _thought(self, answer: Answer) -> dict[str, Any]:
        part: dict[str, Any] = {"text": answer.reasoning, "thought": True}
        if answer.reasoning_signature:
            part["thoughtSignature"] = answer.reasoning_signature
        return part

    def _calls(self, answer: Answer) -> list[dict[str, Any]]:
        parts = []
        for i, call in enumerate(answer.tool_calls):
            arguments = arguments_value(call.arguments)
            function = {
                "name": call.name,
                "args": arguments if isinstance(arguments, dict) else {},
                "id": call.id or f"call_{i}",
            }
            parts.append({"functionCall": function})
        return parts

    def response(self, answer: Answer) -> bytes:
        parts: list[dict[str, Any]] = []
        if answer.reasoning:
            parts.append(self._thought(answer))
        if answer.chunks or not answer.tool_calls:
            parts.append({"text": answer.text})
        parts.extend(self._calls(answer))
        finish = _FINISH_REASONS[answer.finish]
        return json_bytes(self._body(answer, parts, finish, answer.usage))

    def stream(self, answer: Answer, request: Mapping[str, Any] | None = None) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        if answer.reasoning:
            events.append(
                StreamEvent(_data(self._body(answer, [self._thought(answer)], None, None)), "delta")
            )
        for text in answer.chunks:
            events.append(
                StreamEvent(_data(self._body(answer, [{"text": text}], None, None)), "delta")
            )
        for part in self._calls(answer):
            events.append(StreamEvent(_data(self._body(answer, [part], None, None)), "delta"))
        finish = _FINISH_REASONS[answer.finish]
        last = self._body(answer, [{"text": ""}], finish, answer.usage)
        events.append(StreamEvent(_data(last), "end"))
        return events

    def stream_error(
        self, message: str, *, error_type: str | None = None, code: str | int | None = None
    ) -> bytes:
        error = {"code": code if code is not None else 500, "message": message}
        error["status"] = error_type or "INTERNAL"
        return _data({"error": error})

    def error_body(
        self,
        status: int,
        message: str,
        *,
        error_type: str | None = None,
        code: str | int | None = None,
    ) -> bytes:
        default = STATUSES.get(status, "INTERNAL" if status >= 500 else "FAILED_PRECONDITION")
        error = {"code": code if code is not None else status, "message": message}
        error["status"] = error_type or default
        return json_bytes({"error": error})

    def models(self, ids: Sequence[str]) -> bytes:
        models = [
            {
                "name": f"models/{model}",
                "displayName": model,
                "inputTokenLimit": 1048576,
                "supportedGenerationMethods": ["generateContent", "countTokens"],
            }
            for model in ids
        ]
        return json_bytes({"models": models})

    def embeddings(
        self, vectors: Sequence[Sequence[float]], *, model: str | None, input_tokens: int
    ) -> bytes:
        return json_bytes({"embeddings": [{"values": list(vector)} for vector in vectors]})

    def forced_tool(self, request: Mapping[str, Any]) -> str | None:
        config = (request.get("toolConfig") or {}).get("functionCallingConfig") or {}
        names = config.get("allowedFunctionNames")
        if config.get("mode") == "ANY" and isinstance(names, list) and len(names) == 1:
            return names[0] if isinstance(names[0], str) else None
        return None


WRITER: Writer = GeminiWriter()
