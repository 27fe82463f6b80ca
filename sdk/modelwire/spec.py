"""The provider spec format: what differs between providers, as data.

One YAML file per provider under `spec/providers/` follows this model. The generator
validates every file against it (errors name the file and the key), renders a typed client
from it, and embeds the validated spec in the generated module. `load_spec()` builds a
working client class from a user's own spec file at run time, with no generation step.
"""

from __future__ import annotations

import json
import keyword
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ERROR_CLASSES, SpecError

DialectName = Literal[
    "openai_chat", "openai_responses", "anthropic_messages", "ollama_chat", "gemini"
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


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuthSpec(_Spec):
    """Where the API key goes: `bearer` (`Authorization: Bearer <key>`), `header` (the key
    alone in `header:`), `query` (the query parameter `param:`) or `none`."""

    type: Literal["bearer", "header", "query", "none"]
    header: str | None = None
    param: str | None = None
    env: str | None = None
    # a key is needed for every request (Ollama and LM Studio need none)
    required: bool = True

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
    """A constructor setting sent as a header (e.g. OpenRouter's HTTP-Referer) or as a
    query parameter of every request (e.g. Azure OpenAI's api-version)."""

    name: str
    header: str | None = None
    query: str | None = None
    env: str | None = None
    # the value sent when neither the caller nor `env` gives one
    default: str | None = None
    description: str = ""
    # a credential (e.g. a gateway's key): redacted from errors and logs, never shown
    secret: bool = False

    @model_validator(mode="after")
    def _one_place(self) -> SettingSpec:
        if (self.header is None) == (self.query is None):
            raise ValueError(f"setting {self.name!r} needs exactly one of `header:` or `query:`")
        return self


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


class EndpointsSpec(_Spec):
    """Paths under the base URL. `{model}` in a path is the model asked for (Gemini's
    `/v1beta/models/{model}:generateContent`, Azure's `/deployments/{model}/...`);
    `stream` is the path of a streamed chat where it differs from `chat`'s."""

    chat: str
    stream: str | None = None
    models: str | None = None
    embeddings: str | None = None

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


class CapabilitiesSpec(_Spec):
    """What the provider can do; asking for what it cannot raises before any request."""

    streaming: bool = True
    tools: bool = True
    # the provider can be made to call a tool ("required" or a named tool)
    forced_tool_choice: bool = True
    vision: bool = True
    # images may be given by URL (Ollama takes only their bytes)
    image_urls: bool = True
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
    # JSON mode (structured_output: json_object) also sends the schema under
    # `response_format.schema` (llama.cpp constrains the output with it); false for
    # providers that take `{"type": "json_object"}` alone
    schema_in_json_mode: bool = True
    # the assistant-message key that carries an earlier turn's reasoning back to the
    # provider (Z.ai: reasoning_content); unset, reasoning is never sent back
    reasoning_history_field: str | None = None


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
    stream_format: Literal["sse", "ndjson"] = "sse"
    models: list[str] = Field(default_factory=list)
    default_model: str | None = None
    options: list[OptionSpec] = Field(default_factory=list)
    capabilities: CapabilitiesSpec = Field(default_factory=CapabilitiesSpec)
    limits: LimitsSpec = Field(default_factory=LimitsSpec)
    errors: list[ErrorRule] = Field(default_factory=list)
    retry_statuses: list[int] = Field(default_factory=lambda: [408, 409, 429, 500, 502, 503, 504])
    # where the provider puts the request id in its response headers
    request_id_headers: list[str] = Field(default_factory=lambda: ["x-request-id", "request-id"])

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
        return self

    def option(self, name: str) -> OptionSpec | None:
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
