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
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeAlias, TypedDict, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import RequestValidationError, validation_problems

if TYPE_CHECKING:
    from typing_extensions import Self

if TYPE_CHECKING:
    from .errors import BatchItemError

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

    # Bad input is the caller's to fix: a modelwire error in a line or two (what to
    # change), not pydantic's multi-line report with its links.
    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _invalid(type(self), exc) from None

    # only a wrapper of BaseModel's: pydantic then validates nested models itself (one
    # report with each field's path) instead of calling this for each of them
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate(obj, *args, **kwargs)
        except ValidationError as exc:
            raise _invalid(cls, exc) from None


def _invalid(model: type[BaseModel], error: ValidationError) -> RequestValidationError:
    subject = "request" if model.__name__ == "CompletionRequest" else model.__name__
    # the subject is already named in front: a finding about the whole needs no name
    return RequestValidationError(f"invalid {subject}: {validation_problems(error, subject='')}")


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


class CacheControl(_Model):
    """A prompt-cache breakpoint: the prompt up to and including the part, tool or system
    block that carries it may be cached (Anthropic's `cache_control`, OpenRouter's too).
    `ttl` is how long: "5m" (the providers' default) or "1h"."""

    type: Literal["ephemeral"] = "ephemeral"
    ttl: Literal["5m", "1h"] | None = None

    def wire(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


def _cache_of(value: Any) -> Any:
    # `cache=True` is the default breakpoint
    return CacheControl() if value is True else None if value is False else value


class Citation(_Model):
    """Where a piece of an answer comes from: Anthropic's text-block `citations`
    (`char_location`, `page_location`, `content_block_location`,
    `web_search_result_location`, `search_result_location`) and the Responses API's
    `annotations` (`url_citation`, `file_citation`, ...). The common fields are read out;
    `native` is the provider's own object, as it sent it."""

    type: str
    cited_text: str | None = None
    url: str | None = None
    title: str | None = None
    file_id: str | None = None
    document_index: int | None = None
    # the cited span: characters, pages or blocks of the source (Anthropic), or the span of
    # the answer's text that the annotation covers (Responses)
    start: int | None = None
    end: int | None = None
    native: dict[str, Any] = Field(default_factory=dict, repr=False)


class TextPart(_Model):
    """Text in a message whose content is a list of parts (text beside images)."""

    type: Literal["text"] = "text"
    text: str
    # where an answer's text comes from, when the provider says
    citations: list[Citation] | None = None
    # a prompt-cache breakpoint after this part (`cache=True` for the default one)
    cache: CacheControl | None = None

    @field_validator("cache", mode="before")
    @classmethod
    def _cache(cls, value: Any) -> Any:
        return _cache_of(value)


class ImagePart(_Model):
    """An image given by URL or by bytes (sent base64-encoded)."""

    type: Literal["image"] = "image"
    url: str | None = None
    data: bytes | None = None
    media_type: str = "image/png"
    cache: CacheControl | None = None

    @field_validator("cache", mode="before")
    @classmethod
    def _cache(cls, value: Any) -> Any:
        return _cache_of(value)

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


# what a DocumentPart may hold: every dialect that takes documents takes these two
DOCUMENT_MEDIA_TYPES: frozenset[str] = frozenset(("application/pdf", "text/plain"))


class DocumentPart(_Model):
    """A document (a PDF or plain text) given by URL or by bytes (sent base64-encoded, or
    as text where the API takes plain text so). `filename` and `title` name it to the
    model; OpenAI's APIs need a file name, so one is made up when neither is given."""

    type: Literal["document"] = "document"
    url: str | None = None
    data: bytes | None = None
    media_type: str = "application/pdf"
    filename: str | None = None
    title: str | None = None
    # a cache breakpoint after this document (Anthropic's cache_control)
    cache: CacheControl | None = None

    @model_validator(mode="after")
    def _one_source(self) -> DocumentPart:
        if (self.url is None) == (self.data is None):
            raise ValueError("DocumentPart needs exactly one of url= or data=")
        if self.media_type not in DOCUMENT_MEDIA_TYPES:
            raise ValueError(
                f"DocumentPart media_type {self.media_type!r} is not one a provider takes: "
                "use 'application/pdf' or 'text/plain' (an image is an ImagePart)"
            )
        if self.media_type == "text/plain" and self.data is not None:
            try:
                self.data.decode("utf-8")
            except UnicodeDecodeError:
                raise ValueError("a text/plain DocumentPart's data must be UTF-8") from None
        return self

    @classmethod
    def from_bytes(
        cls,
        data: bytes,
        media_type: str = "application/pdf",
        *,
        filename: str | None = None,
        title: str | None = None,
    ) -> DocumentPart:
        """A document from its bytes: a PDF unless `media_type` says "text/plain"."""
        return cls(data=data, media_type=media_type, filename=filename, title=title)

    @classmethod
    def from_text(
        cls, text: str, *, filename: str | None = None, title: str | None = None
    ) -> DocumentPart:
        """A plain-text document."""
        return cls(data=text.encode(), media_type="text/plain", filename=filename, title=title)

    def base64(self) -> str:
        assert self.data is not None
        return base64.b64encode(self.data).decode("ascii")

    def data_url(self) -> str:
        if self.url is not None:
            return self.url
        return f"data:{self.media_type};base64,{self.base64()}"

    def inline_data(self) -> bytes | None:
        """The document's bytes: those given, or those of a base64 `data:` URL; None for a
        URL the server would fetch."""
        if self.data is not None:
            return self.data
        head, base64_marker, encoded = (self.url or "").partition(";base64,")
        if not (head.startswith("data:") and base64_marker):
            return None
        return base64.b64decode(encoded)

    def text(self) -> str:
        """A text/plain document's text (its bytes, decoded)."""
        data = self.inline_data()
        assert data is not None and self.media_type == "text/plain"
        return data.decode("utf-8", "replace")

    def name(self) -> str:
        """The name the model is shown: the filename, else the title, else a made-up one."""
        extension = "pdf" if self.media_type == "application/pdf" else "txt"
        return self.filename or self.title or f"document.{extension}"


class ThinkingPart(_Model):
    """Reasoning of an assistant turn, with the provider's own state that a next turn must
    send back: Anthropic's `thinking` (text and `signature`) and `redacted_thinking`
    (`redacted`, opaque), OpenRouter's `reasoning_details`, the Responses API's reasoning
    items (`redacted` holds their `encrypted_content`), Ollama's `thinking` and the
    `reasoning_content` of DeepSeek, llama.cpp and others.

    `provider` names the provider that produced it: the signature, the opaque data and
    `native` (the provider's own item, as it sent it) are sent back to that provider alone;
    any other drops them and takes the text where it takes earlier reasoning.
    """

    type: Literal["thinking"] = "thinking"
    text: str = ""
    signature: str | None = Field(default=None, repr=False)
    redacted: str | None = Field(default=None, repr=False)
    provider: str | None = None
    native: dict[str, Any] | None = Field(default=None, repr=False)

    def state_for(self, provider: str) -> bool:
        """Whether this part's provider state may be sent to `provider`."""
        return self.provider == provider


ContentPart: TypeAlias = TextPart | ImagePart | DocumentPart | ThinkingPart
"""One part of a message's content: text, an image, a document or an assistant turn's
thinking."""


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
    # a prompt-cache breakpoint after this tool (the tools come first in a prompt)
    cache: CacheControl | None = None

    @field_validator("cache", mode="before")
    @classmethod
    def _cache(cls, value: Any) -> Any:
        return _cache_of(value)

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
    # tool turns: the result is an error the model should see as one
    is_error: bool = False
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
    def system(cls, content: str | list[ContentPart]) -> Message:
        """Instructions for the model: text, or a list of text parts (system blocks)."""
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
    def tool(
        cls,
        tool_call_id: str,
        content: str | list[ContentPart],
        name: str | None = None,
        *,
        is_error: bool = False,
    ) -> Message:
        """The result of the tool call `tool_call_id`: text (JSON, for instance) or a list of
        text and image parts; `is_error=True` when the tool failed."""
        return cls(
            role="tool", content=content, tool_call_id=tool_call_id, name=name, is_error=is_error
        )

    def text(self) -> str:
        """The message's text, with any image and document parts left out."""
        if isinstance(self.content, str):
            return self.content
        return "".join(p.text for p in self.content if isinstance(p, TextPart))

    def images(self) -> list[ImagePart]:
        """The message's image parts."""
        if isinstance(self.content, str):
            return []
        return [p for p in self.content if isinstance(p, ImagePart)]

    def documents(self) -> list[DocumentPart]:
        if isinstance(self.content, str):
            return []
        return [p for p in self.content if isinstance(p, DocumentPart)]

    def thinking(self) -> list[ThinkingPart]:
        if isinstance(self.content, str):
            return []
        return [p for p in self.content if isinstance(p, ThinkingPart)]

    def reasoning_text(self) -> str:
        """The earlier reasoning, for a provider that takes it back as text: `reasoning`,
        or the text of the thinking parts."""
        return self.reasoning or "".join(p.text for p in self.thinking())


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
    # the answer's content as the provider sent it, in order: its thinking (with the state
    # a next turn sends back) and its text (with citations); `content` and `reasoning` are
    # their text, joined
    parts: list[ContentPart] = Field(default_factory=list)
    finish_reason: FinishReason | None = None
    raw_finish_reason: str | None = None
    usage: Usage | None = None
    # output items of the provider's own that the fields above do not hold, as it sent
    # them: the Responses API's built-in tool calls and their results (web search, file
    # search, code interpreter, ...) and refusals (its reasoning items are `parts`)
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
        """This answer as the assistant turn of a next request: its parts (thinking with its
        signatures, text with its citations), tool calls and provider items. Sent to the
        same provider, the dialect sends back its native blocks; another provider drops
        their state (see `ThinkingPart`)."""
        # one text part without citations is the text; anything more goes as parts
        plain = len(self.parts) < 2 and all(
            isinstance(p, TextPart) and not p.citations for p in self.parts
        )
        content: str | list[ContentPart] = self.content if plain else list(self.parts)
        return Message(
            role="assistant",
            content=content,
            tool_calls=list(self.tool_calls) or None,
            # text-only reasoning (a response built by hand, without parts)
            reasoning=self.reasoning if plain else None,
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
    # parts of the answer that begin here (their text follows as `content` or `reasoning`
    # deltas, a signature as `reasoning_signature`): what keeps the parts of an answer
    # apart in a stream. A redacted ThinkingPart comes whole; a ThinkingPart whose
    # `native` has the id of one begun earlier completes that one (its item, done).
    parts: tuple[TextPart | ThinkingPart, ...] = ()
    # citations added to the current text part
    citations: tuple[Citation, ...] = ()


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


# --------------------------------------------------------------------------- provider batches

BatchJobStatus: TypeAlias = Literal[
    "in_progress", "canceling", "completed", "failed", "expired", "canceled"
]
"""Where a provider's batch job is, the same for every provider (`BatchJob.raw_status`
keeps the provider's own word): `in_progress` (OpenAI's validating, in_progress and
finalizing), `canceling`, and the ends: `completed`, `failed` (the whole job, e.g. an
input file the provider refused), `expired` (not done within the window) and `canceled`."""

BATCH_JOB_ENDS: frozenset[str] = frozenset(("completed", "failed", "expired", "canceled"))


class BatchJobCounts(_Model):
    """How many of a batch job's requests are where. OpenAI reports only `total`,
    `succeeded` (its `completed`) and `errored` (its `failed`); the rest are processing."""

    total: int = 0
    processing: int = 0
    succeeded: int = 0
    errored: int = 0
    canceled: int = 0
    expired: int = 0


class BatchJob(_Model):
    """A batch job handed to the provider (`client.batches.submit()`), as last seen.

    `status` is unified, `raw_status` the provider's own; `ended` is true once the job
    will change no more and `client.batches.results()` can read it. The times are UTC.
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, defer_build=True)

    id: str
    provider: str
    status: BatchJobStatus
    raw_status: str
    counts: BatchJobCounts = Field(default_factory=BatchJobCounts)
    created_at: datetime | None = None
    ended_at: datetime | None = None
    expires_at: datetime | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    # OpenAI's: the files that hold the results of the succeeded and the failed requests
    output_file_id: str | None = None
    error_file_id: str | None = None
    raw: Any = Field(default=None, repr=False)

    @property
    def ended(self) -> bool:
        return self.status in BATCH_JOB_ENDS


@dataclass(frozen=True, slots=True)
class BatchJobResult:
    """One request of a batch job, by the `custom_id` it was submitted under: `response`
    when it succeeded, else `error` (a `BatchItemError`, also for a request canceled or
    expired before it ran)."""

    custom_id: str
    response: CompletionResponse | None = None
    error: BatchItemError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None
