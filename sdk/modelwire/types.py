"""The unified types every provider speaks.

Requests and responses are pydantic models: they are built once per call, and validating
them protects the user. `StreamingChunk` is a slotted dataclass instead: one is built per
token on the hot path, where pydantic validation would cost more than the whole decode.
"""

from __future__ import annotations

import base64
import builtins
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeAlias, TypedDict, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Role: TypeAlias = Literal["system", "user", "assistant", "tool"]
"""Who speaks a `Message`."""
ROLES: frozenset[str] = frozenset(("system", "user", "assistant", "tool"))

FinishReason: TypeAlias = Literal[
    "stop", "length", "tool_calls", "content_filter", "error", "other"
]
"""Why an answer ended, the same for every provider (`raw_finish_reason` keeps the
provider's own word): `stop` (done), `length` (`max_tokens` reached), `tool_calls`,
`content_filter`, `error`, or `other`."""


class _Model(BaseModel):
    # defer_build: validators are built on first use, not at import (keeps imports fast)
    model_config = ConfigDict(extra="forbid", frozen=False, defer_build=True)


# --------------------------------------------------------------------------- timeouts


@dataclass(frozen=True, slots=True)
class Timeout:
    """Timeouts in seconds; None means no limit.

    `connect`: to open a connection. `read`: between bytes of a non-streamed response.
    `stream_idle`: between bytes of a stream (a slow drip under it never times out).
    `total`: a whole `complete()` call, retries included.
    """

    connect: float | None = 10.0
    read: float | None = 600.0
    write: float | None = 600.0
    stream_idle: float | None = 120.0
    total: float | None = None

    @classmethod
    def coerce(cls, value: float | Timeout | None, base: Timeout | None = None) -> Timeout:
        """A `Timeout` from a number (read, stream_idle and total; connect and write kept
        from `base`), from a `Timeout`, or `base` itself for None."""
        base = base or cls()
        if isinstance(value, Timeout):
            return value
        if value is None:
            return base
        return replace(base, read=value, stream_idle=value, total=value)


# --------------------------------------------------------------------------- content


class TextPart(_Model):
    """Text in a message whose content is a list of parts (text beside images)."""

    type: Literal["text"] = "text"
    text: str


class ImagePart(_Model):
    """An image given by URL or by bytes (sent base64-encoded)."""

    type: Literal["image"] = "image"
    url: str | None = None
    data: bytes | None = None
    media_type: str = "image/png"

    @model_validator(mode="after")
    def _one_source(self) -> ImagePart:
        if (self.url is None) == (self.data is None):
            raise ValueError("ImagePart needs exactly one of url= or data=")
        return self

    @classmethod
    def from_bytes(cls, data: bytes, media_type: str = "image/png") -> ImagePart:
        """An image from its bytes, e.g. `ImagePart.from_bytes(path.read_bytes())`."""
        return cls(data=data, media_type=media_type)

    def base64(self) -> str:
        """The image's bytes, base64-encoded (for an image given by bytes)."""
        assert self.data is not None
        return base64.b64encode(self.data).decode("ascii")

    def data_url(self) -> str:
        """The image's URL, or its bytes as a `data:` URL."""
        if self.url is not None:
            return self.url
        return f"data:{self.media_type};base64,{self.base64()}"


ContentPart: TypeAlias = TextPart | ImagePart
"""One part of a message's content: text or an image."""


# --------------------------------------------------------------------------- tools


class ToolCall(_Model):
    """A complete tool call requested by the model."""

    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)

    def arguments_json(self) -> str:
        """The arguments as compact JSON text, as the wire formats carry them."""
        return json.dumps(self.arguments, separators=(",", ":"))


class Tool(_Model):
    """A function the model may call, described by a JSON Schema."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    strict: bool | None = None

    @classmethod
    def from_model(
        cls, model: type[BaseModel], *, name: str | None = None, description: str | None = None
    ) -> Tool:
        """A tool whose arguments are the fields of a pydantic model."""
        schema = model.model_json_schema()
        schema.pop("title", None)
        schema.pop("description", None)  # it becomes the tool's description
        return cls(
            name=name or model.__name__,
            description=description if description is not None else (model.__doc__ or "").strip(),
            parameters=schema,
        )


class NamedToolChoice(_Model):
    """Force the model to call this tool."""

    name: str


ToolChoice: TypeAlias = Literal["auto", "none", "required"] | NamedToolChoice
"""Whether the model may call tools (`auto`), must not (`none`), must call one
(`required`), or must call the one named (`NamedToolChoice`)."""


class ResponseFormat(_Model):
    """Ask for JSON output; with a schema, output constrained to that schema."""

    type: Literal["json_object", "json_schema"] = "json_schema"
    name: str = "response"
    json_schema: dict[str, Any] | None = None
    strict: bool = True
    # when given, `response.parsed` is an instance of this model
    model: builtins.type[BaseModel] | None = Field(default=None, exclude=True, repr=False)

    @classmethod
    def from_model(cls, model: builtins.type[BaseModel]) -> ResponseFormat:
        """A JSON Schema format from a pydantic model; the answer is parsed into it."""
        return cls(name=model.__name__, json_schema=model.model_json_schema(), model=model)


# --------------------------------------------------------------------------- reasoning

ReasoningEffort: TypeAlias = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]


class Reasoning(_Model):
    """How much a reasoning model should think, in one shape for every provider.

    `effort` is a level ("none" turns reasoning off where the provider can); `budget_tokens`
    a number of tokens to think with (Anthropic's extended thinking, OpenRouter's
    max_tokens); `summary` asks for a summary of the reasoning (the Responses API,
    OpenRouter); `exclude` keeps the reasoning out of the answer (OpenRouter). Each
    provider's spec says which of them it takes; `Reasoning()` alone turns reasoning on at
    the provider's default, where it has one. A string is short for `Reasoning(effort=...)`.
    """

    effort: ReasoningEffort | None = None
    budget_tokens: int | None = Field(default=None, ge=1)
    summary: Literal["auto", "concise", "detailed"] | None = None
    exclude: bool | None = None


# --------------------------------------------------------------------------- messages


class Message(_Model):
    """One turn of a conversation. A dict with the same keys works wherever a `Message`
    does; the class methods build each role's turn."""

    role: Role
    content: str | list[ContentPart] = ""
    # assistant turns that called tools
    tool_calls: list[ToolCall] | None = None
    # tool turns: which call this result answers
    tool_call_id: str | None = None
    name: str | None = None
    # reasoning the model produced in an earlier assistant turn (sent back where supported)
    reasoning: str | None = None
    # an earlier response's `provider_items`, sent back where the dialect takes them (the
    # Responses API's reasoning items, with their encrypted state); ignored elsewhere
    provider_items: list[dict[str, Any]] | None = None

    @field_validator("role", mode="before")
    @classmethod
    def _known_role(cls, value: Any) -> Any:
        if isinstance(value, str) and value not in ROLES:
            raise ValueError(
                f"unknown role {value!r}: use one of 'system', 'user', 'assistant', 'tool'"
            )
        return value

    @classmethod
    def system(cls, content: str) -> Message:
        """Instructions for the model."""
        return cls(role="system", content=content)

    @classmethod
    def user(cls, content: str | list[ContentPart]) -> Message:
        """The user's turn: text, or a list of text and image parts."""
        return cls(role="user", content=content)

    @classmethod
    def assistant(cls, content: str = "", tool_calls: list[ToolCall] | None = None) -> Message:
        """An earlier answer of the model, with the tool calls it made."""
        return cls(role="assistant", content=content, tool_calls=tool_calls)

    @classmethod
    def tool(cls, tool_call_id: str, content: str, name: str | None = None) -> Message:
        """The result of the tool call `tool_call_id`, as text (JSON, for instance)."""
        return cls(role="tool", content=content, tool_call_id=tool_call_id, name=name)

    def text(self) -> str:
        """The message's text, with any image parts left out."""
        if isinstance(self.content, str):
            return self.content
        return "".join(p.text for p in self.content if isinstance(p, TextPart))

    def images(self) -> list[ImagePart]:
        """The message's image parts."""
        if isinstance(self.content, str):
            return []
        return [p for p in self.content if isinstance(p, ImagePart)]


# --------------------------------------------------------------------------- request


class CompletionRequest(_Model):
    """One request, in the same shape for every provider.

    `options` holds the provider's own typed settings (Anthropic `top_k`, Ollama
    `num_ctx`, ...); the spec names which ones each provider has.
    """

    model: str | None = None
    messages: list[Message]
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: list[str] | None = None
    seed: int | None = None
    tools: list[Tool] | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    reasoning: Reasoning | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    # escape hatches, merged last into the wire request
    extra_body: dict[str, Any] | None = None
    extra_headers: dict[str, str] | None = None
    # per-call overrides of the client's policy
    # a number sets the read, stream-idle and total timeouts for this call
    timeout: float | Timeout | None = None
    max_retries: int | None = None

    @field_validator("stop", mode="before")
    @classmethod
    def _stop_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("response_format", mode="before")
    @classmethod
    def _format_from_model(cls, value: Any) -> Any:
        if isinstance(value, type) and issubclass(value, BaseModel):
            return ResponseFormat.from_model(value)
        if value == "json":
            return ResponseFormat(type="json_object")
        return value

    @field_validator("reasoning", mode="before")
    @classmethod
    def _effort_alone(cls, value: Any) -> Any:
        return {"effort": value} if isinstance(value, str) else value

    @field_validator("tool_choice", mode="before")
    @classmethod
    def _named_choice(cls, value: Any) -> Any:
        if isinstance(value, str) and value not in ("auto", "none", "required"):
            return NamedToolChoice(name=value)
        return value


class FieldsBesidesFormat(TypedDict, total=False):
    """Every unified request field but `response_format`, which the clients' overloads
    type on their own: a pydantic model there makes the response's `parsed` that model."""

    model: str | None
    messages: Sequence[Message | Mapping[str, Any]]
    max_tokens: int | None
    temperature: float | None
    top_p: float | None
    stop: str | Sequence[str] | None
    seed: int | None
    tools: Sequence[Tool | Mapping[str, Any]] | None
    tool_choice: ToolChoice | str | None
    parallel_tool_calls: bool | None
    reasoning: Reasoning | ReasoningEffort | None
    options: Mapping[str, Any]
    extra_body: Mapping[str, Any] | None
    extra_headers: Mapping[str, str] | None
    timeout: float | Timeout | None
    max_retries: int | None


class RequestFields(FieldsBesidesFormat, total=False):
    """The unified request fields as keywords: what `complete(...)` and
    `stream_completion(...)` take, for every provider.

    Every client signature derives from this one declaration (a provider's own options
    extend it); it names `CompletionRequest`'s fields with the types a caller may pass,
    which the model then validates and normalises.
    """

    response_format: ResponseFormat | builtins.type[BaseModel] | Literal["json"] | None


RequestInput: TypeAlias = "CompletionRequest | Mapping[str, Any] | None"
"""What a call takes before its keyword fields: a request object, a dict of fields, or
nothing (all in keywords)."""


# --------------------------------------------------------------------------- response


class Usage(_Model):
    """Tokens an answer used, as the provider counted them (None: not reported)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None

    @property
    def total_tokens(self) -> int:
        """Input and output tokens together."""
        return self.input_tokens + self.output_tokens


# --------------------------------------------------------------------------- rate limits


@dataclass(frozen=True, slots=True)
class RateLimit:
    """One of a provider's rate-limit windows (requests, tokens, ...), as its headers
    said; None where a header was absent or unreadable.

    `reset_after`: seconds from when the response arrived until the window refills.
    """

    limit: int | None = None
    remaining: int | None = None
    reset_after: float | None = None


@dataclass(frozen=True, slots=True)
class RateLimits:
    """What a response's headers say about the caller's rate limits, one value for every
    provider: OpenAI, Groq and OpenRouter's `x-ratelimit-*`, Anthropic's
    `anthropic-ratelimit-*`, and `retry-after` / `retry-after-ms` (seconds). Every
    response, stream and error from a response carries one (`.rate_limits`)."""

    requests: RateLimit = RateLimit()
    tokens: RateLimit = RateLimit()
    # Anthropic counts input and output tokens apart as well
    input_tokens: RateLimit = RateLimit()
    output_tokens: RateLimit = RateLimit()
    retry_after: float | None = None

    def __bool__(self) -> bool:
        return self != RateLimits()


NO_RATE_LIMITS = RateLimits()


@dataclass(frozen=True, slots=True)
class FallbackAttempt:
    """One client a fallback chain (`modelwire.fallback`) tried: its place in the chain,
    provider and model, the `ProviderError` it failed with (None for the one that
    answered) and how long it took, in seconds."""

    index: int
    provider: str
    model: str | None
    error: Exception | None
    seconds: float


# what `CompletionResponse.parsed` holds: the response format's model (Any without one).
# The default (PEP 696) is for type checkers: Python 3.11's TypeVar takes none, and at run
# time modelwire needs no typing_extensions
if TYPE_CHECKING:
    from typing_extensions import TypeVar as DefaultingTypeVar

    ParsedT = DefaultingTypeVar("ParsedT", default=Any)
else:
    ParsedT = TypeVar("ParsedT")
# a response format given as a pydantic model, in the clients' overloads
ModelT = TypeVar("ModelT", bound=BaseModel)


class CompletionResponse(_Model, Generic[ParsedT]):
    """A whole answer: what `complete()` returns and what a stream accumulates into.

    `complete(response_format=City)` returns a `CompletionResponse[City]`: type checkers
    know its `parsed` is a `City`.
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, defer_build=True)

    id: str | None = None
    model: str | None = None
    content: str = ""
    reasoning: str | None = None
    reasoning_signature: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    finish_reason: FinishReason | None = None
    raw_finish_reason: str | None = None
    usage: Usage | None = None
    # output items of the provider's own that the fields above do not hold, as it sent
    # them: the Responses API's reasoning items (with the opaque state a next turn sends
    # back), built-in tool calls and their results (web search, file search, code
    # interpreter, ...) and refusals
    provider_items: list[dict[str, Any]] = Field(default_factory=list)
    # the structured output, validated, when a response format was asked for; None
    # without one (the type checker's view: a CompletionResponse[Any])
    parsed: ParsedT = None  # type: ignore[assignment]
    # the provider's own response body (or, for a stream, None)
    raw: Any = Field(default=None, repr=False)
    # the provider (its spec's name) that answered, the provider's request id, and how many
    # requests it took (retries included)
    provider: str | None = None
    request_id: str | None = None
    attempts: int | None = None
    # the HTTP response it came in: its status and headers (for a stream, its head's), and
    # the rate limits those headers announced
    status_code: int | None = None
    headers: Mapping[str, str] | None = Field(default=None, repr=False, exclude=True)
    rate_limits: RateLimits = Field(default=NO_RATE_LIMITS, repr=False, exclude=True)
    # the clients a fallback chain tried before (and including) the one that answered
    fallback_attempts: tuple[FallbackAttempt, ...] = Field(default=(), repr=False, exclude=True)

    @property
    def text(self) -> str:
        return self.content

    def to_message(self) -> Message:
        """This answer as the assistant turn of a next request: its text, tool calls,
        reasoning and provider items, for the dialect to send back what it takes."""
        return Message(
            role="assistant",
            content=self.content,
            tool_calls=list(self.tool_calls) or None,
            reasoning=self.reasoning,
            provider_items=list(self.provider_items) or None,
        )


# --------------------------------------------------------------------------- streaming


@dataclass(slots=True, frozen=True)
class ToolCallDelta:
    """A fragment of a tool call in a stream: `arguments` is a piece of JSON text."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(slots=True)
class StreamingChunk:
    """One step of a stream.

    `content` and `reasoning` are deltas. The last chunk of a complete stream has
    `is_final=True` and carries the finish reason and, when the provider sent it, usage.
    `raw` is the provider's own event, parsed but otherwise untouched.
    """

    content: str = ""
    is_final: bool = False
    model: str | None = None
    finish_reason: FinishReason | None = None
    usage: Usage | None = None
    tool_calls: tuple[ToolCallDelta, ...] = ()
    reasoning: str = ""
    reasoning_signature: str | None = None
    raw_finish_reason: str | None = None
    id: str | None = None
    raw: Any = field(default=None, repr=False)
    # whole provider items completed by this event (see CompletionResponse.provider_items)
    items: tuple[dict[str, Any], ...] = ()


def text_chunk(content: str, model: str | None, chunk_id: str | None, raw: Any) -> StreamingChunk:
    """The common chunk (a text delta and nothing else), built positionally: less than half
    the cost of keywords, on the path every token takes. Follows the field order above."""
    return StreamingChunk(content, False, model, None, None, (), "", None, None, chunk_id, raw)


# --------------------------------------------------------------------------- models & embeddings


class ModelInfo(_Model):
    """A model the provider serves, from `list_models()`; `raw` is the provider's entry."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, defer_build=True)

    id: str
    owned_by: str | None = None
    created: int | None = None
    context_length: int | None = None
    raw: Any = Field(default=None, repr=False)


class TokenCount(_Model):
    """What `count_tokens()` returns: how many input tokens a request would take."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, defer_build=True)

    input_tokens: int
    model: str | None = None
    raw: Any = Field(default=None, repr=False)


class EmbeddingResponse(_Model):
    """What `embed()` returns: one vector per input, in order."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, defer_build=True)

    model: str | None = None
    # one entry per input; for servers that return one vector per token, a list of them
    embeddings: list[list[float]] | list[list[list[float]]]
    usage: Usage | None = None
    raw: Any = Field(default=None, repr=False)
