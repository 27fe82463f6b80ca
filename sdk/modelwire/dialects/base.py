"""What a wire dialect is: pure functions between the unified types and one wire format.

A dialect does no I/O. It turns a `CompletionRequest` into the JSON body of one provider
family, a response body into a `CompletionResponse`, and (through a `StreamParser`, the
only stateful piece) each decoded stream event into a `StreamingChunk`.

The other direction, what a provider of the dialect sends, is its `Writer` (at the end
of this module and of each dialect's module): the testing kit, the fault tests and the
benchmarks all take a dialect's bytes from it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, NamedTuple, Protocol

from pydantic import BaseModel, ValidationError
from pydantic_core import from_json

from .._framing import ServerSentEvent
from ..errors import (
    OutputValidationError,
    StreamDecodeError,
    StreamEventError,
    UnexpectedResponseError,
    error_fields,
    validation_problems,
)
from ..spec import ProviderSpec
from ..types import (
    CompletionRequest,
    CompletionResponse,
    ContentPart,
    DocumentPart,
    EmbeddingResponse,
    FinishReason,
    ModelInfo,
    StreamingChunk,
    TextPart,
    ThinkingPart,
    TokenCount,
    Usage,
)

WireKind = Literal["response", "models", "embeddings", "token_count"]

# what each kind of body is called in an error message
BODY_NAMES: dict[WireKind, str] = {
    "response": "response",
    "models": "models response",
    "embeddings": "embeddings response",
    "token_count": "token count response",
}


class StreamParser(Protocol):
    """Turns decoded events into chunks; `finished` turns true at the terminal event."""

    finished: bool

    def parse(self, event: ServerSentEvent) -> StreamingChunk | None: ...


class Dialect:
    """Base of the three dialects; the defaults fit OpenAI-style list endpoints."""

    name: ClassVar[str]
    finish_reasons: ClassVar[dict[str, FinishReason]] = {}
    # the generated wire models (spec/schemas) that a whole response body must fit
    wire_models: ClassVar[dict[WireKind, type[BaseModel]]] = {}
    # whether the provider's input token count already holds the tokens read from and
    # written to its prompt cache (OpenAI's does; Anthropic's counts them apart)
    input_tokens_include_cache: ClassVar[bool] = True

    def all_input_tokens(self, usage: Usage) -> int:
        """Every input token of a call, cached ones included: what OpenTelemetry's
        `gen_ai.usage.input_tokens` and price tables count. `Usage.input_tokens` stays as
        the provider reported it."""
        if self.input_tokens_include_cache:
            return usage.input_tokens
        return usage.input_tokens + (usage.cache_read_tokens or 0) + (usage.cache_write_tokens or 0)

    # the keys of a chat body that the provider's token-counting endpoint takes (none:
    # the dialect has no counting shape; spec.COUNTING_DIALECTS names those that do)
    token_count_fields: ClassVar[frozenset[str]] = frozenset()

    def check_wire(self, kind: WireKind, body: Any, provider: str | None = None) -> None:
        """Raises a typed error when a response body does not have its documented shape.

        Only whole responses are checked (once per call); stream events are not, since
        that would cost more than decoding them.
        """
        model = self.wire_models.get(kind)
        if model is None:
            return
        try:
            model.model_validate(body)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                for e in exc.errors()[:5]
            )
            raise UnexpectedResponseError(
                f"the {BODY_NAMES[kind]} does not have the expected shape ({problems})",
                provider=provider,
                body=body,
            ) from None

    def build_request(
        self, request: CompletionRequest, spec: ProviderSpec, *, stream: bool
    ) -> dict[str, Any]:
        raise NotImplementedError

    def parse_response(self, body: Any, spec: ProviderSpec) -> CompletionResponse:
        raise NotImplementedError

    def stream_parser(self, spec: ProviderSpec) -> StreamParser:
        raise NotImplementedError

    # ---------------------------------------------------------------- token counting

    def build_token_count_request(
        self, request: CompletionRequest, spec: ProviderSpec
    ) -> dict[str, Any]:
        """The body that counts a request's input tokens: the chat body as it would be
        sent, with only the fields the counting endpoint takes."""
        body = self.build_request(request, spec, stream=False)
        return {key: value for key, value in body.items() if key in self.token_count_fields}

    def parse_token_count(self, body: Any, spec: ProviderSpec) -> TokenCount:
        """`{"input_tokens": N, ...}`, as Anthropic and the Responses API answer."""
        count = body.get("input_tokens") if isinstance(body, dict) else None
        if type(count) is not int:
            raise UnexpectedResponseError(
                "the token count response has no input_tokens number",
                provider=spec.name,
                body=body,
            )
        return TokenCount(input_tokens=count, raw=body)

    # ---------------------------------------------------------------- models & embeddings

    def parse_models(self, body: Any, spec: ProviderSpec) -> list[ModelInfo]:
        items = body.get("data", []) if isinstance(body, dict) else []
        return [
            ModelInfo(
                id=str(item["id"]),
                owned_by=item.get("owned_by"),
                created=item.get("created"),
                context_length=item.get("context_length") or item.get("max_context_length"),
                raw=item,
            )
            for item in items
            if isinstance(item, dict) and "id" in item
        ]

    def build_embeddings_request(
        self, inputs: list[str], model: str, options: dict[str, Any]
    ) -> dict[str, Any]:
        return {"model": model, "input": inputs, **options}

    def parse_embeddings(self, body: Any, spec: ProviderSpec) -> EmbeddingResponse:
        from ..types import Usage

        data = sorted(body.get("data", []), key=lambda item: item.get("index", 0))
        usage = body.get("usage") or {}
        return EmbeddingResponse(
            model=body.get("model"),
            embeddings=[item["embedding"] for item in data],
            usage=Usage(input_tokens=usage.get("prompt_tokens", 0)) if usage else None,
            raw=body,
        )

    # ---------------------------------------------------------------- shared helpers

    def finish_reason(self, raw: str | None) -> FinishReason | None:
        if raw is None:
            return None
        return self.finish_reasons.get(raw, "other")


def parse_arguments(text: str) -> dict[str, Any]:
    """Tool-call arguments as a dict; unparseable text is kept under `_raw`."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # nested too deep to decode: kept as text too
        return {"_raw": text}
    return value if isinstance(value, dict) else {"_value": value}


def apply_options(body: dict[str, Any], request: CompletionRequest, spec: ProviderSpec) -> None:
    """Places each provider-specific option at its wire path (e.g. `options.num_ctx`)."""
    for name, value in request.options.items():
        option = spec.option(name)
        path = option.wire_path if option is not None else [name]
        target = body
        for key in path[:-1]:
            target = target.setdefault(key, {})
        target[path[-1]] = value


def tokenize_body(request: CompletionRequest) -> dict[str, Any]:
    """llama.cpp's `/tokenize` body: the messages' text, one message a line (the chat
    template's own tokens are not in it)."""
    return {"content": "\n".join(message.text() for message in request.messages)}


def parse_tokenize(body: Any, spec: ProviderSpec) -> TokenCount:
    """llama.cpp's `/tokenize` answer, `{"tokens": [...]}`: the tokens, counted."""
    tokens = body.get("tokens") if isinstance(body, dict) else None
    if not isinstance(tokens, list):
        raise UnexpectedResponseError(
            "the tokenize response has no tokens list", provider=spec.name, body=body
        )
    return TokenCount(input_tokens=len(tokens), raw=body)


def apply_reasoning(body: dict[str, Any], request: CompletionRequest, spec: ProviderSpec) -> None:
    """Places the unified `reasoning=` field as the provider's spec says (see
    `modelwire.spec.ReasoningSpec`); validation has checked that it takes each part."""
    for key, value in reasoning_fields(request, spec).items():
        if isinstance(value, dict) and isinstance(body.get(key), dict):
            body[key] = {**body[key], **value}  # e.g. output_config beside its format
        else:
            body[key] = value


def reasoning_fields(request: CompletionRequest, spec: ProviderSpec) -> dict[str, Any]:
    """The top-level body fields that carry the request's `reasoning`, in its wire shape."""
    reasoning = request.reasoning
    if reasoning is None or spec.reasoning is None:
        return {}
    effort, budget = reasoning.effort, reasoning.budget_tokens
    wire = spec.reasoning.wire
    if wire == "reasoning_effort":
        return {"reasoning_effort": effort} if effort is not None else {}
    if wire == "responses":
        given = {"effort": effort, "summary": reasoning.summary}
        return {"reasoning": {k: v for k, v in given.items() if v is not None}}
    if wire == "anthropic_thinking":
        if effort == "none":
            return {"thinking": {"type": "disabled"}}
        fields: dict[str, Any] = {
            "thinking": (
                {"type": "enabled", "budget_tokens": budget}
                if budget is not None
                else {"type": "adaptive"}
            )
        }
        if effort is not None:
            fields["output_config"] = {"effort": effort}
        return fields
    if wire == "gemini_thinking":
        thinking: dict[str, Any] = {}
        if effort == "none":
            thinking["thinkingBudget"] = 0  # off, on the models that can turn it off
        elif effort is not None:
            thinking["thinkingLevel"] = effort
        if budget is not None:
            thinking["thinkingBudget"] = budget
        if reasoning.summary is not None:
            thinking["includeThoughts"] = True  # Gemini's summaries of its thoughts
        return {"generationConfig": {"thinkingConfig": thinking}}
    if wire == "ollama_think":
        if effort is None:
            return {"think": True}
        return {"think": False if effort == "none" else effort}
    # openrouter: effort and max_tokens are one or the other; neither turns it on
    settings: dict[str, Any] = {
        "effort": effort,
        "max_tokens": budget,
        "summary": reasoning.summary,
        "exclude": reasoning.exclude,
    }
    settings = {k: v for k, v in settings.items() if v is not None}
    return {"reasoning": settings or {"enabled": True}}


# ---------------------------------------------------------------- what several checks share


def anthropic_thinking(request: CompletionRequest, spec: ProviderSpec) -> Any:
    """The `thinking` a request sends Anthropic: its own option, or the unified field's."""
    if "thinking" in request.options:
        return request.options["thinking"]
    return reasoning_fields(request, spec).get("thinking")


def thinking_budget(request: CompletionRequest, spec: ProviderSpec) -> int | None:
    """The budget of extended thinking, when the request enables it with one."""
    thinking = anthropic_thinking(request, spec)
    if isinstance(thinking, dict) and thinking.get("type") == "enabled":
        budget = thinking.get("budget_tokens")
        return budget if isinstance(budget, int) else None
    return None


def thinking_enabled(request: CompletionRequest, spec: ProviderSpec) -> bool:
    thinking = anthropic_thinking(request, spec)
    return isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive")


def max_tokens_of(request: CompletionRequest, spec: ProviderSpec) -> int | None:
    """`max_tokens` as given; else the spec's default, above the thinking budget if any
    (the budget is spent from max_tokens: budget + default leaves the default for the
    answer)."""
    if request.max_tokens is not None:
        return request.max_tokens
    default = spec.limits.default_max_tokens
    budget = thinking_budget(request, spec)
    if budget is not None and default is not None and budget >= default:
        return budget + default
    return default


def structured_via_tool(request: CompletionRequest, spec: ProviderSpec) -> bool:
    """Whether the response format is asked for through a forced tool: on the models
    without native structured output, for JSON mode (no schema to give
    `output_config.format`) and for `strict=False` (a schema sent as it is)."""
    fmt = request.response_format
    if fmt is None:
        return False
    if spec.capabilities.structured_output != "output_config":
        return True
    model = request.model or ""
    old = any(model.startswith(p) for p in spec.capabilities.tool_structured_output_models)
    return old or fmt.json_schema is None or not fmt.strict


def answer_parts(reasoning: str | None, content: str, provider: str) -> list[ContentPart]:
    """The parts of an answer whose reasoning is text alone (no signature, no blocks): its
    reasoning as one ThinkingPart, then its text."""
    parts: list[ContentPart] = []
    if reasoning:
        parts.append(ThinkingPart(text=reasoning, provider=provider))
    if content:
        parts.append(TextPart(text=content))
    return parts


def merge_extra(body: dict[str, Any], extra: dict[str, Any] | None) -> dict[str, Any]:
    if extra:
        body.update(extra)
    return body


def stream_event_error(data: dict[str, Any], source: str) -> StreamEventError:
    """The typed error for an error a provider sent mid-stream (an error event or an
    `error` object in a chunk), read like the error bodies of error statuses."""
    message, etype, code = error_fields(data)
    if message is None:
        error = data.get("error")
        message = json.dumps(error) if error else f"{source} reported an error mid-stream"
    return StreamEventError(message, error_type=etype, error_code=code, body=data)


def load_event_json(event: ServerSentEvent) -> Any:
    """The JSON of one event; a broken event is a typed error, not a crash.

    pydantic-core's parser reads the bytes directly (no decode step) and is several times
    faster than `json.loads` here, the costliest step of a stream. Only keys go through
    its string cache: the values are mostly each a new token, and caching them would fill
    the cache (about a megabyte) for nothing.
    """
    try:
        return from_json(event.data, cache_strings="keys")
    except ValueError as exc:
        preview = event.data[:200].decode("utf-8", "replace")
        raise StreamDecodeError(
            f"a stream event is not valid JSON or not UTF-8 ({exc}): {preview!r}"
        ) from None


# ---------------------------------------------------------------- stream field checks
#
# A stream parser may only raise ProviderError subclasses, and every field it puts on a
# StreamingChunk, ToolCallDelta or Usage must have its declared type. These helpers raise
# TypeError naming the field; each parser's `parse` turns that into a StreamDecodeError
# naming the event (`malformed_event`). On the hot path the parsers check
# `type(x) is str` inline and call a helper only when that check fails.


def wrong_type(value: Any, where: str, expected: str) -> TypeError:
    """The error for a stream field `where` that is not `expected` ("a string", ...)."""
    return TypeError(f"{where} is {type(value).__name__}, not {expected}")


def check_str(value: Any, where: str) -> str:
    """`value`, which must be a string: a stream field of another type is malformed."""
    if not isinstance(value, str):
        raise TypeError(f"{where} is {type(value).__name__}, not a string")
    return value


def optional_str(value: Any) -> str | None:
    """Metadata (`id`, `model`) of the wrong type is dropped, not fatal."""
    return value if isinstance(value, str) else None


def str_or_empty(value: Any, where: str) -> str:
    """A text delta: absent (None) is "", a string is itself, anything else is malformed."""
    if value is None:
        return ""
    if type(value) is not str:
        raise wrong_type(value, where, "a string")
    return value


def str_or_none(value: Any, where: str) -> str | None:
    """An optional string field (a tool call's id or name, a finish reason)."""
    if value is None or type(value) is str:
        return value
    raise wrong_type(value, where, "a string")


def count_or_none(value: Any, where: str) -> int | None:
    """An optional token count: an int (not a bool) or None."""
    if value is None or type(value) is int:
        return value
    raise wrong_type(value, where, "an int")


def object_or_empty(value: Any, where: str) -> dict[str, Any]:
    """A nested object: absent (None) is {}, anything but a JSON object is malformed."""
    if value is None:
        return {}
    if type(value) is not dict:
        raise wrong_type(value, where, "an object")
    return value


def malformed_event(what: str, event: ServerSentEvent, exc: Exception) -> StreamDecodeError:
    """The typed error for valid JSON of the wrong shape: `what` names the event."""
    preview = event.data[:200].decode("utf-8", "replace")
    return StreamDecodeError(
        f"{what} does not have the documented shape ({exc}): {preview!r}", body=preview
    )


def document_text(part: DocumentPart) -> str:
    """A plain-text document as text, named, for APIs whose file inputs take PDFs only."""
    return f'<document name="{part.name()}">\n{part.text()}\n</document>'


def parse_structured(
    request: CompletionRequest, response: CompletionResponse, provider: str | None = None
) -> Any:
    """The validated structured output, when a response format was asked for."""
    fmt = request.response_format
    if fmt is None:
        return None
    text = response.content.strip()
    # an answer that stopped at the token limit is cut off, not wrong: say so, and the fix
    cut = (
        f"; the answer was cut off at max_tokens (finish_reason {response.raw_finish_reason!r}):"
        " raise max_tokens"
        if response.finish_reason == "length"
        else ""
    )
    value: Any
    if not text and response.tool_calls:
        # providers that answer structured output through a forced tool
        value = response.tool_calls[0].arguments
    else:
        try:
            value = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise OutputValidationError(
                f"the model's output is not valid JSON ({exc})"
                + (cut or "; ask again or relax the schema"),
                provider=provider,
                raw_output=response.content,
            ) from None
    if fmt.model is None:
        return value
    try:
        return fmt.model.model_validate(value)
    except ValidationError as exc:
        raise OutputValidationError(
            f"the model's output does not match {fmt.model.__name__}{cut}: "
            + validation_problems(exc, subject="output"),
            provider=provider,
            raw_output=response.content,
        ) from None


# ---------------------------------------------------------------- writers
#
# What a provider of a dialect sends: whole response bodies, framed stream events, the
# error event that ends a stream, error bodies, and the models and embeddings answers.
# Each dialect module ends with its writer (`WRITER`, reached by `get_writer(name)` next to
# `get_dialect`), the one place that spells its wire bytes for the testing kit's
# MockProvider, the fault tests' loopback server and the benchmark server. Writers are
# pure: they return bytes and do no I/O. The bytes are the providers' own: compact JSON,
# their field order, ids, `created` stamps and terminal events.

StreamEventKind = Literal["frame", "delta", "end"]


class StreamEvent(NamedTuple):
    """One framed stream event: an SSE event with its blank line, or one NDJSON line.

    `kind` is its part in the stream: "delta" events carry the answer (text, reasoning,
    tool call fragments), "frame" events open and separate them, and "end" events finish
    it (finish reason, usage, the terminal event): what a stream cut short lacks.
    """

    data: bytes
    kind: StreamEventKind


@dataclass(frozen=True)
class ToolCallText:
    """A tool call as a writer sends it. `arguments` is JSON text: sent as it is where the
    wire carries text (OpenAI), parsed into an object where it carries one (Anthropic,
    Ollama). Without an `id` the writer numbers the call (`call_0`, `toolu_0`; Ollama
    sends none)."""

    name: str
    arguments: str = "{}"
    id: str | None = None


@dataclass(frozen=True)
class Answer:
    """One assistant answer, as a writer writes it: a whole body or a stream.

    `chunks` is the text as the stream's deltas (joined for a whole body); tool call
    arguments stream in fragments of `argument_chunk_size` characters. Without a
    `finish_reason` the answer finishes with "tool_calls" when it has tool calls, else
    with "stop"; without an `id` the writer's own is used. `reasoning_signature` is sent
    where the dialect carries one (Anthropic's thinking blocks).
    """

    model: str = "model"
    id: str | None = None
    chunks: Sequence[str] = ()
    reasoning: str | None = None
    reasoning_signature: str | None = None
    tool_calls: Sequence[ToolCallText] = ()
    usage: Usage | None = None
    finish_reason: FinishReason | None = None
    argument_chunk_size: int = 16

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    @property
    def finish(self) -> FinishReason:
        if self.finish_reason is not None:
            return self.finish_reason
        return "tool_calls" if self.tool_calls else "stop"


class Writer(Protocol):
    """What a dialect's writer offers: the bytes its providers send."""

    @property
    def stream_content_type(self) -> str:
        """The content-type of a streamed answer."""
        ...

    def response(self, answer: Answer) -> bytes:
        """The JSON body of a whole (non-streamed) answer."""
        ...

    def stream(self, answer: Answer, request: Mapping[str, Any] | None = None) -> list[StreamEvent]:
        """The streamed answer, event by event, terminal event included. `request` is the
        body being answered, for what a provider streams only when asked (OpenAI's usage,
        with `stream_options.include_usage`); None answers as if all of it was asked."""
        ...

    def stream_error(
        self, message: str, *, error_type: str | None = None, code: str | int | None = None
    ) -> bytes:
        """The event a provider sends when an error ends a stream midway."""
        ...

    def error_body(
        self,
        status: int,
        message: str,
        *,
        error_type: str | None = None,
        code: str | int | None = None,
    ) -> bytes:
        """The JSON body of an error status; the type and code default to what the
        provider sends for that status."""
        ...

    def models(self, ids: Sequence[str]) -> bytes:
        """The JSON body of the model-listing endpoint."""
        ...

    def embeddings(
        self, vectors: Sequence[Sequence[float]], *, model: str | None, input_tokens: int
    ) -> bytes:
        """The JSON body of the embeddings endpoint (NotImplementedError where the
        dialect has none)."""
        ...

    def forced_tool(self, request: Mapping[str, Any]) -> str | None:
        """The tool a request forces the model to call (its tool choice), if it names one:
        where structured output is asked for through a forced tool, the answer is a call
        of that tool."""
        ...


def json_bytes(value: Any) -> bytes:
    """Compact JSON in UTF-8, as providers send it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def sse(data: Any, event: str | None = None) -> bytes:
    """One Server-Sent Event: `data` as compact JSON (bytes and str as they are)."""
    if isinstance(data, str):
        payload = data.encode()
    elif isinstance(data, bytes):
        payload = data
    else:
        payload = json_bytes(data)
    head = b"event: " + event.encode() + b"\n" if event else b""
    return head + b"data: " + payload + b"\n\n"


def ndjson(value: Any) -> bytes:
    """One NDJSON line."""
    return json_bytes(value) + b"\n"


def text_pieces(text: str, size: int) -> list[str]:
    """`text` in pieces of `size` characters (none for empty text)."""
    return [text[i : i + size] for i in range(0, len(text), max(size, 1))]


def arguments_value(text: str) -> Any:
    """Tool call arguments for a wire that carries them as an object: the parsed JSON
    ({} for blank text), or the text itself when it is not JSON."""
    if not text.strip():
        return {}
    try:
        return json.loads(text)
    except ValueError:
        return text
