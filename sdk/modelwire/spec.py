"""The provider spec format: what differs between providers, as data.

One YAML file per provider under `spec/providers/` follows this model. The generator
validates every file against it (errors name the file and the key), renders a typed client
from it, and embeds the validated spec in the generated module. `load_spec()` builds a
working client class from a user's own spec file at run time, with no generation step.
"""

from __future__ import annotations

import json
import keyword
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ERROR_CLASSES, SpecError

DialectName = Literal[
    "openai_chat",
    "openai_responses",
    "anthropic_messages",
    "ollama_chat",
    "gemini",
    "bedrock_converse",
]

# Python annotations a spec may give an option; kept to a closed list so that generated
# code is always valid and typed.
OPTION_TYPES: dict[str, str] = {
    "int": "int",
    "float": "float",
    "str": "str",
    "bool": "bool",
    "list[str]": "list[str]",
    "dict": "dict[str, Any]",
    "list[dict]": "list[dict[str, Any]]",
    "str | int": "str | int",
}


def first_env(names: list[str]) -> str | None:
    """The value of the first of the environment variables `names` that is set."""
    return next((os.environ[name] for name in names if os.environ.get(name)), None)


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuthSpec(_Spec):
    """Where the API key goes: `bearer` (`Authorization: Bearer <key>`), `header` (the key
    alone in `header:`), `query` (the query parameter `param:`) or `none`."""

    type: Literal["bearer", "header", "query", "none"]
    header: str | None = None
    param: str | None = None
    env: str | None = None
    # variables read, in order, when `env` is unset (Gemini: GOOGLE_API_KEY)
    fallback_env: list[str] = Field(default_factory=list)
    # a key is needed for every request (Ollama and LM Studio need none)
    required: bool = True
    # without a key, requests are signed with AWS Signature Version 4 for this service
    # (Bedrock: "bedrock"), with credentials from botocore's chain; needs botocore
    sigv4_service: str | None = None

    @property
    def envs(self) -> list[str]:
        """The variables that give the key, in the order they are read."""
        return ([self.env] if self.env else []) + self.fallback_env

    def key_from_env(self) -> str | None:
        """The API key the environment holds: the first of `envs` that is set."""
        return first_env(self.envs)

    @property
    def env_names(self) -> str:
        """The variables a key is read from, for messages: "GEMINI_API_KEY or GOOGLE_API_KEY"."""
        return " or ".join(self.envs)

    @model_validator(mode="before")
    @classmethod
    def _none_needs_no_key(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("type") == "none":
            data = {"required": False, **data}
        return data

    @model_validator(mode="after")
    def _header_for_header_auth(self) -> AuthSpec:
        if self.type == "header" and not self.header:
            raise ValueError("auth type 'header' needs `header:` (the header's name)")
        if self.type == "query" and not self.param:
            raise ValueError("auth type 'query' needs `param:` (the query parameter's name)")
        if self.type != "none" and not self.env:
            raise ValueError(f"auth type {self.type!r} needs `env:` (the API key variable)")
        return self


class SettingSpec(_Spec):
    """A constructor setting sent as a header (e.g. OpenRouter's HTTP-Referer), as a query
    parameter of every request (e.g. Azure OpenAI's api-version), or filling the `{name}`
    placeholder of the base URL (`in_base_url`, e.g. Bedrock's region or Azure's
    resource). Exactly one of the three.
    """

    name: str
    header: str | None = None
    query: str | None = None
    in_base_url: bool = False
    env: str | None = None
    # variables read, in order, when `env` is unset (AWS_DEFAULT_REGION after AWS_REGION)
    fallback_env: list[str] = Field(default_factory=list)
    # the value sent when neither the caller nor the variables give one
    default: str | None = None
    description: str = ""
    # a credential (e.g. a gateway's key): redacted from errors and logs, never shown
    secret: bool = False

    @model_validator(mode="after")
    def _one_place(self) -> SettingSpec:
        places = (self.header is not None) + (self.query is not None) + self.in_base_url
        if places != 1:
            raise ValueError(
                f"setting {self.name!r} needs exactly one of `header:`, `query:` or"
                " `in_base_url: true`"
            )
        return self

    @property
    def envs(self) -> list[str]:
        """The variables that give the setting, in the order they are read."""
        return ([self.env] if self.env else []) + self.fallback_env


class OptionSpec(_Spec):
    """A provider-specific request option, typed, placed at `wire` in the request body."""

    name: str
    type: str
    description: str = ""
    # dotted path in the wire body, e.g. "options.num_ctx"; defaults to the name
    wire: str | None = None
    enum: list[str] | None = None
    min: float | None = None
    max: float | None = None

    @field_validator("name")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not value.isidentifier() or keyword.iskeyword(value):
            raise ValueError(f"option name {value!r} is not a Python identifier")
        return value

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in OPTION_TYPES:
            raise ValueError(f"type {value!r} is not one of {sorted(OPTION_TYPES)}")
        return value

    @property
    def wire_path(self) -> list[str]:
        return (self.wire or self.name).split(".")

    @property
    def annotation(self) -> str:
        if self.enum:
            return "Literal[" + ", ".join(json.dumps(v) for v in self.enum) + "]"
        return OPTION_TYPES[self.type]


# the dialects with a token-counting shape of their own (`Dialect.token_count_fields`)
COUNTING_DIALECTS: frozenset[str] = frozenset(
    ("anthropic_messages", "openai_responses", "bedrock_converse", "gemini")
)


class TokenCountSpec(_Spec):
    """The endpoint that counts a request's input tokens, and the kind of body it takes.

    `dialect`: the chat request in the dialect's own counting shape (Anthropic's
    `/v1/messages/count_tokens`, the Responses API's `/responses/input_tokens`), answered
    with `input_tokens`. `tokenize`: llama.cpp's `/tokenize`, which takes the text as
    `content` and answers its `tokens`, which are counted.
    """

    path: str
    body: Literal["dialect", "tokenize"] = "dialect"
    # the path is from the server's root, not under base_url's path (llama.cpp serves
    # /tokenize beside /v1, not in it)
    from_root: bool = False


class BatchesSpec(_Spec):
    """The provider's own batch API: many requests handed over at once, answered offline.

    `files` (OpenAI's Batch API): the requests go up as a JSONL file (`POST {files}`,
    purpose `batch`), a batch is made from it (`POST {path}`), and its results are read
    from its output and error files (`GET {files}/{id}/content`); each line names
    `line_url`, the chat endpoint as seen from the API's root. `inline` (Anthropic's
    Message Batches): the requests are the body of `POST {path}`, the results are
    `GET {path}/{id}/results`. Both: `GET {path}/{id}` and `POST {path}/{id}/cancel`.
    """

    style: Literal["files", "inline"]
    path: str
    files: str | None = None
    line_url: str | None = None
    # what the provider takes: the most requests in one job, the form of a custom_id
    max_requests: int | None = None
    custom_id_pattern: str | None = None

    @model_validator(mode="after")
    def _files_named(self) -> BatchesSpec:
        if self.style == "files" and not (self.files and self.line_url):
            raise ValueError("batches style 'files' needs `files:` and `line_url:`")
        return self


class EndpointsSpec(_Spec):
    """Paths under the base URL. `{model}` in a path is the model asked for, URL-encoded
    (Gemini's `/v1beta/models/{model}:generateContent`, Azure's `/deployments/{model}/...`,
    Bedrock's `/model/{model}/converse`); `stream` is the path of a streamed chat where it
    differs from `chat`'s."""

    chat: str
    stream: str | None = None
    models: str | None = None
    embeddings: str | None = None
    # unset: the provider counts no tokens (count_tokens() raises before any request)
    count_tokens: TokenCountSpec | None = None
    # unset: the provider has no batch API (client.batches raises before any request)
    batches: BatchesSpec | None = None

    @field_validator("chat", "stream", "models", "embeddings")
    @classmethod
    def _only_model_placeholder(cls, value: str | None) -> str | None:
        if value is not None:
            unknown = sorted(set(re.findall(r"{([^}]*)}", value)) - {"model"})
            if unknown:
                raise ValueError(
                    f"path {value!r} has the placeholder(s) {unknown}: only {{model}} is filled in"
                )
        return value

    def chat_path(self, *, stream: bool) -> str:
        return self.stream if stream and self.stream is not None else self.chat


class ReasoningSpec(_Spec):
    """How the unified `reasoning=` field (`modelwire.Reasoning`) goes on the wire.

    `wire` names the shape: `reasoning_effort` (OpenAI chat and the APIs that copy it),
    `responses` (`reasoning: {effort, summary}`), `anthropic_thinking` (`thinking`, with
    the effort in `output_config.effort`), `ollama_think` (`think`: false or a level) or
    `openrouter` (`reasoning: {effort | max_tokens, summary, exclude}`) or
    `gemini_thinking` (`generationConfig.thinkingConfig`: `thinkingLevel`, `thinkingBudget`,
    `includeThoughts` for a summary). A provider without this section takes no reasoning
    settings.
    """

    wire: Literal[
        "reasoning_effort",
        "responses",
        "anthropic_thinking",
        "ollama_think",
        "openrouter",
        "gemini_thinking",
    ]
    # the effort levels it takes
    efforts: list[str] = Field(default_factory=list)
    # it takes a token budget, a summary, or leaving the reasoning out of the answer
    budget: bool = False
    summary: bool = False
    exclude: bool = False
    # the provider's own options that set reasoning too: a request gives one or the other
    options: list[str] = Field(default_factory=list)
    # the models (a prefix match) that take an effort, and for Anthropic adaptive thinking
    # (an effort, or Reasoning() alone); empty: every model
    effort_models: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _efforts_named(self) -> ReasoningSpec:
        if not self.efforts and self.wire in ("reasoning_effort", "responses"):
            raise ValueError(f"reasoning wire {self.wire!r} needs `efforts:` (the levels taken)")
        return self


class CapabilitiesSpec(_Spec):
    """What the provider can do; asking for what it cannot raises before any request."""

    streaming: bool = True
    tools: bool = True
    # the provider can be made to call a tool ("required" or a named tool)
    forced_tool_choice: bool = True
    vision: bool = True
    # images may be given by URL (Ollama takes only their bytes)
    image_urls: bool = True
    # documents (PDFs; plain text) as message content, and whether by URL as well
    documents: bool = False
    document_urls: bool = False
    # how structured output is asked for: a native schema, JSON mode, a forced tool,
    # Anthropic's output_config.format, or not at all
    structured_output: Literal["json_schema", "json_object", "tool", "output_config", "none"] = (
        "json_schema"
    )
    # models (a prefix match) that answer structured output only through a forced tool,
    # where `structured_output` is a native mode
    tool_structured_output_models: list[str] = Field(default_factory=list)
    embeddings: bool = False
    # informational: the provider can return reasoning (always kept apart when it does)
    reasoning: bool = False
    # the provider takes a sampling seed
    seed: bool = True
    # the provider can report usage at the end of a stream (and should be asked to)
    stream_usage: bool = False
    # models known to take no images (a prefix match)
    no_vision_models: list[str] = Field(default_factory=list)
    # reasoning models that refuse temperature and top_p (a prefix match), unless their
    # reasoning is turned off (effort "none", where the model takes it)
    fixed_sampling_models: list[str] = Field(default_factory=list)
    # JSON mode (structured_output: json_object) also sends the schema under
    # `response_format.schema` (llama.cpp constrains the output with it); false for
    # providers that take `{"type": "json_object"}` alone
    schema_in_json_mode: bool = True
    # the assistant-message key that carries an earlier turn's reasoning back to the
    # provider (Z.ai: reasoning_content); unset, reasoning is never sent back
    reasoning_history_field: str | None = None
    # the chat API takes prompt-cache breakpoints (`cache_control`) on text and image parts
    # (OpenRouter, for the models behind it that cache); elsewhere they are not sent
    cache_breakpoints: bool = False


class LimitsSpec(_Spec):
    temperature: tuple[float, float] = (0.0, 2.0)
    top_p: tuple[float, float] = (0.0, 1.0)
    max_tokens_required: bool = False
    # the body key for the output limit (OpenAI's newer models take max_completion_tokens)
    max_tokens_field: str = "max_tokens"
    # the body key for the sampling seed (Mistral's is random_seed)
    seed_field: str = "seed"
    default_max_tokens: int | None = None
    # 0: the provider takes no stop sequences (the Responses API)
    max_stop_sequences: int | None = None


class ModelsListSpec(_Spec):
    """How the model-listing endpoint answers, and how it pages.

    `pagination: cursor` follows pages: each next request sends the cursor the last page
    gave (`next_cursor`, a key of the page) as the query parameter `cursor_param`, until a
    page has no cursor or its `has_more` key is false. Anthropic: `after_id` / `last_id` /
    `has_more`; Gemini-style: `pageToken` / `nextPageToken`.
    """

    pagination: Literal["none", "cursor"] = "none"
    cursor_param: str | None = None
    next_cursor: str | None = None
    # a key that is true while more pages follow; unset, a cursor alone means more
    has_more: str | None = None
    # the query parameter asking for a page size, and the size asked for
    page_size_param: str | None = None
    page_size: int | None = Field(default=None, ge=1)
    # the endpoint answers a bare JSON array of models (Together), not an object
    array: bool = False

    @model_validator(mode="after")
    def _cursor_keys(self) -> ModelsListSpec:
        if self.pagination == "cursor" and not (self.cursor_param and self.next_cursor):
            raise ValueError("pagination 'cursor' needs `cursor_param:` and `next_cursor:`")
        if (self.page_size is None) != (self.page_size_param is None):
            raise ValueError("`page_size:` and `page_size_param:` go together")
        return self


class ErrorRule(_Spec):
    """Maps a status and/or the provider's error type or code to an error class."""

    status: int | None = None
    type: str | None = None
    code: str | None = None
    message_contains: str | None = None
    error: str
    # overrides the status's default, e.g. a 500 that only means "bad request"
    retryable: bool | None = None

    @field_validator("error")
    @classmethod
    def _known_error(cls, value: str) -> str:
        if value not in ERROR_CLASSES:
            raise ValueError(f"error {value!r} is not one of {sorted(ERROR_CLASSES)}")
        return value

    @model_validator(mode="after")
    def _has_condition(self) -> ErrorRule:
        if self.status is None and not (self.type or self.code or self.message_contains):
            raise ValueError("an error rule needs status, type, code or message_contains")
        return self


class ProviderSpec(_Spec):
    """A provider as data: one `spec/providers/*.yaml` file, validated (docs/spec-format.md
    lists every key). `load_spec()` turns one into client classes."""

    name: str
    display_name: str
    class_name: str
    description: str = ""
    dialect: DialectName
    base_url: str
    base_url_env: str | None = None
    auth: AuthSpec
    headers: dict[str, str] = Field(default_factory=dict)
    settings: list[SettingSpec] = Field(default_factory=list)
    endpoints: EndpointsSpec
    models_list: ModelsListSpec = Field(default_factory=ModelsListSpec)
    stream_format: Literal["sse", "ndjson", "eventstream"] = "sse"
    models: list[str] = Field(default_factory=list)
    default_model: str | None = None
    options: list[OptionSpec] = Field(default_factory=list)
    capabilities: CapabilitiesSpec = Field(default_factory=CapabilitiesSpec)
    reasoning: ReasoningSpec | None = None
    limits: LimitsSpec = Field(default_factory=LimitsSpec)
    errors: list[ErrorRule] = Field(default_factory=list)
    retry_statuses: list[int] = Field(default_factory=lambda: [408, 409, 429, 500, 502, 503, 504])
    # where the provider puts the request id in its response headers
    request_id_headers: list[str] = Field(default_factory=lambda: ["x-request-id", "request-id"])
    # a response header that names the error type when the body does not (AWS's
    # `x-amzn-ErrorType: ValidationException:http://...`; the part before ':' is the type)
    error_type_header: str | None = None
    # the header under which the provider recognises a repeated request (e.g. a gateway's
    # `Idempotency-Key`): each call then sends a key of its own, the same on every retry.
    # None of the built-in providers documents one.
    idempotency_header: str | None = None

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", value):
            raise ValueError(f"name {value!r} must be lower-case letters, digits and '_'")
        return value

    @field_validator("class_name")
    @classmethod
    def _class(cls, value: str) -> str:
        if not value.isidentifier() or not value[0].isupper():
            raise ValueError(f"class_name {value!r} must be a capitalised Python identifier")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ProviderSpec:
        names = [o.name for o in self.options]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"options are named more than once: {sorted(dupes)}")
        if self.capabilities.embeddings and not self.endpoints.embeddings:
            raise ValueError("capabilities.embeddings is true but endpoints.embeddings is unset")
        counting = self.endpoints.count_tokens
        if counting and counting.body == "dialect" and self.dialect not in COUNTING_DIALECTS:
            raise ValueError(
                f"endpoints.count_tokens: the {self.dialect} dialect has no token-counting "
                f"body (those that do: {sorted(COUNTING_DIALECTS)}); use body: tokenize for "
                "llama.cpp's /tokenize"
            )
        unknown = [n for n in (self.reasoning.options if self.reasoning else []) if n not in names]
        if unknown:
            raise ValueError(f"reasoning.options names no option of this spec: {unknown}")
        placeholders = set(re.findall(r"{([^}]*)}", self.base_url))
        unplaced = {s.name for s in self.settings if s.in_base_url} - placeholders
        if unplaced:
            raise ValueError(
                f"the settings {sorted(unplaced)} fill base_url, but {self.base_url!r} has no "
                "such placeholder"
            )
        return self

    def option(self, name: str) -> OptionSpec | None:
        """The provider option called `name`, or None if the spec has none by that name."""
        for option in self.options:
            if option.name == name:
                return option
        return None


def format_validation_error(source: str, error: ValidationError) -> str:
    lines = [f"{source}: invalid provider spec"]
    for item in error.errors():
        key = ".".join(str(p) for p in item["loc"]) or "(top level)"
        lines.append(f"  {key}: {item['msg']}")
    return "\n".join(lines)


def parse_spec(data: Any, source: str = "<spec>") -> ProviderSpec:
    try:
        return ProviderSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(format_validation_error(source, exc)) from None


def read_spec_file(path: str | Path) -> ProviderSpec:
    """Reads a YAML (needs PyYAML) or JSON spec file and validates it."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:  # pragma: no cover - depends on the environment
            raise SpecError(
                f"{path}: reading a YAML spec needs PyYAML (pip install pyyaml), "
                "or give the spec as JSON"
            ) from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise SpecError(f"{path}: not valid YAML: {exc}") from None
    else:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise SpecError(f"{path}: not valid JSON: {exc}") from None
    return parse_spec(data, str(path))
