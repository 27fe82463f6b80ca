"""Every request shape modelwire can produce, for every provider, built exactly as a client
builds it (validation, then the dialect) and validated against the provider's official API
description. A shape a provider cannot take must be refused before sending, with a typed
error, and only where `REFUSED` says so.

Groq, LM Studio and llama.cpp publish no API description of their own: their requests are
validated against OpenAI's, whose API they reimplement, with their own options (which
OpenAI's document does not name) left out of that check. Bedrock publishes no OpenAPI
document either: its requests are validated against botocore's service model of
bedrock-runtime (`service_models.py`).
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest
from modelwire import (
    CacheControl,
    Citation,
    DocumentPart,
    ImagePart,
    Message,
    ProviderError,
    Reasoning,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCall,
)
from modelwire._core.calls import ClientConfig
from modelwire.spec import ProviderSpec
from pydantic import BaseModel, Field

from tests.conformance import documents, service_models
from tests.conformance.strict import strict_problems

ROOT = Path(__file__).resolve().parents[2]
# every provider of spec/providers/ with an OpenAPI document to check against, as the
# package ships it (the others are compared with their SDK's requests: COMPARED_WITH_SDK)
SPECS: dict[str, ProviderSpec] = {
    path.stem: importlib.import_module(f"modelwire.providers.{path.stem}").SPEC
    for path in sorted((ROOT / "spec" / "providers").glob("*.yaml"))
    if path.stem not in documents.COMPARED_WITH_SDK
}


class Address(BaseModel):
    street: str
    city: str
    postcode: str | None = None


class Stop(BaseModel):
    """A stop on the way."""

    name: str
    nights: int = Field(ge=1, description="Nights spent there")
    address: Address


class Trip(BaseModel):
    """Plan a trip."""

    title: str
    stops: list[Stop]
    budget: float | None = None
    tags: list[str] = []
    kind: Literal["city", "nature"] = "city"


class City(BaseModel):
    name: str
    country: str
    population: int | None = None
    landmarks: list[Address] = []


WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["c", "f"]},
        },
        "required": ["city"],
    },
}
USER = {"role": "user", "content": "Plan a weekend in Lisbon."}
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
CALL = ToolCall(id="call_1", name="get_weather", arguments={"city": "Lisbon"})
TOOL_TURNS = [
    USER,
    Message.assistant("", tool_calls=[CALL]),
    Message.tool("call_1", '{"temp": 21}', name="get_weather"),
]


# an assistant turn as each provider answered it: its thinking (with the state that
# provider sends back), cited text and a tool call. Each provider sends back its own
# state and drops the others' (the rule of ThinkingPart).
REASONING_DETAIL = {
    "type": "reasoning.text",
    "text": "Check the weather.",
    "signature": "ErcBCkgICBACGAIi",
    "format": "anthropic-claude-v1",
    "index": 0,
}
REASONING_ITEM = {
    "type": "reasoning",
    "id": "rs_1",
    "summary": [{"type": "summary_text", "text": "Check the weather."}],
    "encrypted_content": "gAAAAABoxC0",
}
CITATION = Citation(
    type="web_search_result_location",
    cited_text="Lisbon is sunny.",
    url="https://weather.example/lisbon",
    title="Lisbon",
    native={
        "type": "web_search_result_location",
        "cited_text": "Lisbon is sunny.",
        "url": "https://weather.example/lisbon",
        "title": "Lisbon",
        "encrypted_index": "Eo8BCioIBxgC",
    },
)
ANSWERED = Message(
    role="assistant",
    content=[
        ThinkingPart(text="Check the weather.", signature="EqQBsig", provider="anthropic"),
        ThinkingPart(redacted="EmwKAhgBopaque", provider="anthropic"),
        ThinkingPart(
            text="Check the weather.",
            signature="ErcBCkgICBACGAIi",
            provider="openrouter",
            native=REASONING_DETAIL,
        ),
        ThinkingPart(
            text="Check the weather.",
            signature="gAAAAABoxC0",
            provider="openai_responses",
            native=REASONING_ITEM,
        ),
        *(
            ThinkingPart(text="Check the weather.", provider=name)
            for name in ("deepseek", "zai", "ollama", "llamacpp")
        ),
        TextPart(text="Lisbon is sunny.", citations=[CITATION]),
    ],
    tool_calls=[CALL],
)
CACHED_TOOL = Tool.model_validate({**WEATHER, "cache": {"ttl": "1h"}})


def with_tools(**fields: Any) -> dict[str, Any]:
    return {"messages": [USER], "tools": [WEATHER], **fields}


# each shape: the keyword fields of one call, and whether it is streamed
SHAPES: dict[str, tuple[dict[str, Any], bool]] = {
    "text": ({"messages": [USER]}, False),
    "history": (
        {
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello!"},
                USER,
            ]
        },
        False,
    ),
    "sampling": (
        {"messages": [USER], "temperature": 0.5, "top_p": 0.9, "max_tokens": 200},
        False,
    ),
    "seed": ({"messages": [USER], "seed": 7}, False),
    "stop": ({"messages": [USER], "stop": ["END", "STOP"]}, False),
    "tools_json_schema": (with_tools(), False),
    "tools_pydantic_nested": (
        {"messages": [USER], "tools": [Tool.from_model(Trip)]},
        False,
    ),
    "tools_strict": (
        {"messages": [USER], "tools": [Tool.from_model(Trip).model_copy(update={"strict": True})]},
        False,
    ),
    "tool_choice_auto": (with_tools(tool_choice="auto"), False),
    "tool_choice_none": (with_tools(tool_choice="none"), False),
    "tool_choice_required": (with_tools(tool_choice="required"), False),
    "tool_choice_named": (with_tools(tool_choice="get_weather"), False),
    "parallel_calls_off": (with_tools(parallel_tool_calls=False), False),
    "parallel_calls_on": (with_tools(parallel_tool_calls=True), False),
    "parallel_calls_without_tools": ({"messages": [USER], "parallel_tool_calls": False}, False),
    "tool_results": ({"messages": TOOL_TURNS, "tools": [WEATHER]}, False),
    "image_url": (
        {
            "messages": [
                Message.user(
                    [TextPart(text="What is this?"), ImagePart(url="https://example.com/a.png")]
                )
            ]
        },
        False,
    ),
    "image_bytes": (
        {"messages": [Message.user([TextPart(text="And this?"), ImagePart.from_bytes(PNG)])]},
        False,
    ),
    "document_pdf_bytes": (
        {
            "messages": [
                Message.user(
                    [
                        TextPart(text="Summarise it."),
                        DocumentPart.from_bytes(PDF, filename="paper.pdf", title="A paper"),
                    ]
                )
            ]
        },
        False,
    ),
    "document_pdf_url": (
        {
            "messages": [
                Message.user(
                    [TextPart(text="Summarise it."), DocumentPart(url="https://example.com/a.pdf")]
                )
            ]
        },
        False,
    ),
    "document_text": (
        {
            "messages": [
                Message.user(
                    [
                        DocumentPart.from_text("Lisbon has seven hills.", filename="notes.txt"),
                        TextPart(text="How many hills?"),
                    ]
                )
            ]
        },
        True,
    ),
    "structured_pydantic": ({"messages": [USER], "response_format": City}, False),
    "structured_json_schema": (
        {
            "messages": [USER],
            "response_format": {
                "name": "city",
                "json_schema": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "size": {"type": "integer"}},
                    "required": ["name"],
                },
            },
        },
        False,
    ),
    "json_mode": ({"messages": [USER], "response_format": "json"}, False),
    "thinking_history": (
        {
            "messages": [USER, ANSWERED, Message.tool("call_1", '{"temp": 21}')],
            "tools": [WEATHER],
        },
        False,
    ),
    "system_blocks": (
        {
            "messages": [
                Message.system([TextPart(text="You plan trips."), TextPart(text="Be brief.")]),
                Message.system("Answer in English."),
                USER,
            ]
        },
        False,
    ),
    "cache_breakpoints": (
        {
            "messages": [
                Message.system([TextPart(text="A long travel policy ...", cache=True)]),
                Message.user(
                    [
                        TextPart(text="A long itinerary ...", cache=CacheControl(ttl="1h")),
                        TextPart(text="Plan the weekend."),
                    ]
                ),
            ],
            "tools": [CACHED_TOOL],
        },
        False,
    ),
    "tool_results_parts": (
        {
            "messages": [
                *TOOL_TURNS[:2],
                Message.tool("call_1", [TextPart(text="Sunny, "), TextPart(text="21°C")]),
            ],
            "tools": [WEATHER],
        },
        False,
    ),
    "tool_results_error": (
        {
            "messages": [*TOOL_TURNS[:2], Message.tool("call_1", "city not found", is_error=True)],
            "tools": [WEATHER],
        },
        False,
    ),
    "tool_results_image": (
        {
            "messages": [
                *TOOL_TURNS[:2],
                Message.tool("call_1", [TextPart(text="Radar:"), ImagePart.from_bytes(PNG)]),
            ],
            "tools": [WEATHER],
        },
        False,
    ),
    "stream": ({"messages": [USER]}, True),
    "stream_tools": (with_tools(tool_choice="auto"), True),
    "stream_structured": ({"messages": [USER], "response_format": City}, True),
}

# (provider, shape) -> why it is refused before sending; every other pair must be sent
REFUSED: dict[tuple[str, str], str] = {
    **{(name, "parallel_calls_without_tools"): "parallel_tool_calls needs tools" for name in SPECS},
    ("anthropic", "seed"): "Anthropic has no seed",
    ("ollama", "tool_choice_required"): "Ollama has no tool_choice",
    ("ollama", "tool_choice_named"): "Ollama has no tool_choice",
    ("ollama", "image_url"): "Ollama takes images only as bytes",
    ("llamacpp", "image_url"): "the spec says llama.cpp takes no images",
    ("llamacpp", "image_bytes"): "the spec says llama.cpp takes no images",
    ("bedrock", "tool_choice_none"): "Converse has no tool_choice none",
    ("llamacpp", "tool_results_image"): "the spec says llama.cpp takes no images",
    # the chat API's tool messages take text alone
    **{
        (name, "tool_results_image"): "chat tool results take only text"
        for name, spec in SPECS.items()
        if spec.dialect == "openai_chat"
    },
}


def model_of(spec: ProviderSpec) -> str:
    # a self-hosted server (vLLM) names no model: any id it serves will do
    return spec.default_model or (spec.models[0] if spec.models else "served-model")


def _refused_by_capabilities(spec: ProviderSpec) -> dict[tuple[str, str], str]:
    """What a spec's own capabilities and limits refuse, for every provider alike."""
    refused: dict[tuple[str, str], str] = {}
    caps, name = spec.capabilities, spec.name
    if not caps.seed:
        refused[(name, "seed")] = f"the spec says {spec.display_name} has no seed"
    if not caps.vision:
        refused[(name, "image_url")] = refused[(name, "image_bytes")] = "no images"
        refused[(name, "tool_results_image")] = "no images"
    elif not caps.image_urls:
        refused[(name, "image_url")] = "images only as bytes"
    if not caps.documents:
        for shape in ("document_pdf_bytes", "document_pdf_url", "document_text"):
            refused[(name, shape)] = f"the spec says {spec.display_name} takes no documents"
    elif not caps.document_urls:
        refused[(name, "document_pdf_url")] = "documents only as bytes"
    if not caps.forced_tool_choice:
        refused[(name, "tool_choice_required")] = "no forced tool_choice"
        refused[(name, "tool_choice_named")] = "no forced tool_choice"
    if any(model_of(spec).startswith(p) for p in caps.fixed_sampling_models):
        refused[(name, "sampling")] = "a reasoning model takes no temperature or top_p"
    stops = SHAPES["stop"][0].get("stop") or []
    limit = spec.limits.max_stop_sequences
    if limit is not None and len(stops) > limit:
        refused[(name, "stop")] = f"at most {limit} stop sequences"
    return refused


for _spec in SPECS.values():
    REFUSED.update(_refused_by_capabilities(_spec))


# a value for each setting that fills a base URL's placeholder
URL_SETTINGS = {"region": "us-east-1"}


def config_of(spec: ProviderSpec) -> ClientConfig:
    settings = {s.name: URL_SETTINGS[s.name] for s in spec.settings if s.in_base_url}
    # a base URL with a placeholder no setting fills (Azure's resource) is filled in as a
    # user would
    base_url = (
        spec.base_url.replace("{resource}", "conformance")
        if "{resource}" in spec.base_url
        else None
    )
    return ClientConfig.create(
        spec, api_key="sk-conformance", model=model_of(spec), settings=settings, base_url=base_url
    )


def chat_body(spec: ProviderSpec, fields: dict[str, Any], stream: bool) -> dict[str, Any]:
    config = config_of(spec)
    call = config.chat_call(config.request(None, fields), stream=stream)
    assert call.method == "POST" and call.content is not None
    body: dict[str, Any] = json.loads(call.content)
    return body


def chat_operation(spec: ProviderSpec) -> documents.Operation:
    path = documents.document_path(spec.endpoints.chat)
    return documents.operation(documents.document_name(spec.name), path, "post")


def own_options(spec: ProviderSpec) -> set[str]:
    """The top-level keys of a provider's own options, for the providers checked against
    OpenAI's document: they are documented by the provider alone (Groq's reasoning_effort
    takes "default", which OpenAI's does not), so OpenAI's document does not judge them."""
    if spec.name not in documents.WITHOUT_DOCUMENT:
        return set()
    return {o.wire_path[0] for o in spec.options} | {spec.limits.seed_field}


@dataclass(frozen=True)
class Case:
    provider: str
    shape: str
    fields: dict[str, Any]
    stream: bool

    @property
    def id(self) -> str:
        return f"{self.provider}-{self.shape}"


def conforms(case: Case) -> None:
    spec = SPECS[case.provider]
    why = REFUSED.get((case.provider, case.shape))
    if why is not None:
        with pytest.raises(ProviderError) as refused:
            chat_body(spec, case.fields, case.stream)
        assert refused.value.provider == spec.name, why
        return
    body = chat_body(spec, case.fields, case.stream)
    if spec.name in service_models.SERVICE_MODELS:
        problems = service_models.errors(spec.name, body, model=model_of(spec), stream=case.stream)
        judge = "botocore service model's"
    else:
        checked = {k: v for k, v in body.items() if k not in own_options(spec)}
        problems = chat_operation(spec).errors(checked)
        judge = documents.document_name(spec.name)
    problems += strict_problems(spec, body)
    assert not problems, (
        f"{case.id}: the {judge} request schema refuses the "
        f"body:\n  " + "\n  ".join(problems) + f"\nbody: {json.dumps(body)[:2000]}"
    )


CASES = [
    Case(provider, shape, fields, stream)
    for provider in sorted(SPECS)
    for shape, (fields, stream) in SHAPES.items()
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_request_shape(case: Case) -> None:
    conforms(case)


# ------------------------------------------------------------------- provider options

# a representative value for the options whose type alone says too little
REPRESENTATIVE: dict[tuple[str, str], Any] = {
    ("anthropic", "thinking"): {"type": "enabled", "budget_tokens": 1024},
    ("anthropic", "metadata"): {"user_id": "user-1"},
    ("openai", "logit_bias"): {"50256": -100},
    ("openai", "metadata"): {"topic": "travel"},
    ("openrouter", "provider"): {"order": ["openai"], "allow_fallbacks": True},
    ("openrouter", "models"): ["openai/gpt-4o-mini", "anthropic/claude-sonnet-4.5"],
    ("llamacpp", "grammar"): 'root ::= "yes" | "no"',
    ("lmstudio", "draft_model"): "qwen3-0.6b",
    ("ollama", "keep_alive"): "5m",
    ("vllm", "chat_template_kwargs"): {"enable_thinking": False},
    ("zai", "thinking"): {"type": "enabled"},
    ("openai_responses", "include"): ["reasoning.encrypted_content"],
    ("openai_responses", "metadata"): {"topic": "travel"},
    ("azure_openai", "logit_bias"): {"50256": -100},
    ("azure_openai_responses", "include"): ["reasoning.encrypted_content"],
    ("azure_openai_responses", "metadata"): {"topic": "travel"},
    ("azure_openai_v1", "logit_bias"): {"50256": -100},
    ("bedrock", "additional_model_request_fields"): {"top_k": 40},
    ("bedrock", "thinking"): {"type": "enabled", "budget_tokens": 1024},
    ("bedrock", "guardrail_config"): {"guardrailIdentifier": "gr-1", "guardrailVersion": "1"},
    ("bedrock", "performance_config"): {"latency": "optimized"},
    ("bedrock", "service_tier"): {"type": "priority"},
    ("bedrock", "request_metadata"): {"team": "travel"},
}
BY_TYPE: dict[str, Any] = {"int": 1, "float": 0.5, "bool": True, "str": "user-1"}


def option_values(spec: ProviderSpec) -> list[tuple[str, Any]]:
    values: list[tuple[str, Any]] = []
    for option in spec.options:
        if option.enum:
            values += [(option.name, value) for value in option.enum]
            continue
        key = (spec.name, option.name)
        if key in REPRESENTATIVE:
            values.append((option.name, REPRESENTATIVE[key]))
            continue
        assert option.type in BY_TYPE, (
            f"{spec.name} option {option.name!r} ({option.type}) needs a value in REPRESENTATIVE"
        )
        value = BY_TYPE[option.type]
        if isinstance(value, (int, float)) and option.min is not None:
            value = type(value)(max(value, option.min))
        values.append((option.name, value))
    return values


OPTION_CASES = [
    Case(name, f"option-{option}={value!r}", {"messages": [USER], option: value}, False)
    for name in sorted(SPECS)
    for option, value in option_values(SPECS[name])
]


@pytest.mark.parametrize("case", OPTION_CASES, ids=[case.id for case in OPTION_CASES])
def test_provider_option(case: Case) -> None:
    conforms(case)


# ------------------------------------------------------------------- embeddings, models


@pytest.mark.parametrize(
    "provider", sorted(name for name, spec in SPECS.items() if spec.endpoints.embeddings)
)
@pytest.mark.parametrize("inputs", ["one text", ["two", "texts"]])
def test_embeddings(provider: str, inputs: str | list[str]) -> None:
    spec = SPECS[provider]
    assert spec.endpoints.embeddings is not None
    call = config_of(spec).embeddings_call(inputs, model_of(spec), {})
    assert call.content is not None
    body = json.loads(call.content)
    name = documents.document_name(provider)
    path = documents.document_path(spec.endpoints.embeddings)
    problems = documents.operation(name, path, "post").errors(body)
    assert not problems, f"{provider} embeddings: {problems}\nbody: {body}"


@pytest.mark.parametrize(
    "provider", sorted(n for n, spec in SPECS.items() if spec.endpoints.models)
)
def test_models_listing(provider: str) -> None:
    spec = SPECS[provider]
    call = config_of(spec).models_call()
    assert call.method == "GET" and call.content is None
    assert spec.endpoints.models is not None
    found = documents.operation(documents.document_name(provider), spec.endpoints.models, "get")
    required = [p for p in found.spec.get("parameters") or () if p.get("required")]
    assert not [p for p in required if p.get("in") != "path"], required


def test_every_shape_is_checked_for_every_provider() -> None:
    def checked(provider: str) -> set[str]:
        return {case.shape for case in CASES if case.provider == provider}

    assert all(checked(name) == set(SHAPES) for name in SPECS)
    assert {p for p, _ in REFUSED} <= set(SPECS) and {s for _, s in REFUSED} <= set(SHAPES)


# ------------------------------------------------------------------- Anthropic thinking

THINKING = {"type": "enabled", "budget_tokens": 8000}
ANTHROPIC_CASES = [
    # the budget is spent from max_tokens: with none given, it is raised above the budget
    Case(
        "anthropic",
        "thinking_default_max_tokens",
        {"messages": [USER], "thinking": THINKING},
        False,
    ),
    Case(
        "anthropic",
        "thinking_structured_native",
        {"messages": [USER], "thinking": THINKING, "response_format": City},
        False,
    ),
    Case(
        "anthropic",
        "thinking_tools_auto",
        with_tools(thinking=THINKING, tool_choice="auto", max_tokens=16000),
        True,
    ),
    Case(
        "anthropic",
        "structured_forced_tool_model",
        {"messages": [USER], "model": "claude-sonnet-4-0", "response_format": City},
        False,
    ),
]
ANTHROPIC_REFUSED = [
    with_tools(thinking=THINKING, tool_choice="required"),
    with_tools(thinking=THINKING, tool_choice="get_weather"),
    {"messages": [USER], "thinking": THINKING, "max_tokens": 8000},
    {"messages": [USER], "thinking": THINKING, "response_format": "json"},
    {
        "messages": [USER],
        "model": "claude-sonnet-4-0",
        "thinking": THINKING,
        "response_format": City,
    },
]


@pytest.mark.parametrize("case", ANTHROPIC_CASES, ids=[case.shape for case in ANTHROPIC_CASES])
def test_anthropic_thinking(case: Case) -> None:
    conforms(case)


@pytest.mark.parametrize("fields", ANTHROPIC_REFUSED)
def test_anthropic_thinking_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(ProviderError, match="thinking"):
        chat_body(SPECS["anthropic"], fields, stream=False)


# ------------------------------------------------------------------- conversations

# the opaque state in ANSWERED, by the provider it belongs to
THINKING_STATE = {
    "anthropic": ("EqQBsig", "EmwKAhgBopaque"),
    "openrouter": ("ErcBCkgICBACGAIi",),
    "openai_responses": ("gAAAAABoxC0",),
}


@pytest.mark.parametrize("provider", sorted(SPECS))
def test_each_provider_sends_back_its_own_thinking_state_alone(provider: str) -> None:
    fields, stream = SHAPES["thinking_history"]
    body = json.dumps(chat_body(SPECS[provider], fields, stream))
    for owner, tokens in THINKING_STATE.items():
        for token in tokens:
            assert (token in body) == (owner == provider), (owner, token)


# ------------------------------------------------------------------- unified reasoning


def reasoning_values(spec: ProviderSpec) -> list[Reasoning]:
    """Every shape of `reasoning=` the spec says the provider takes."""
    how = spec.reasoning
    assert how is not None
    values = [Reasoning(effort=effort) for effort in how.efforts]  # type: ignore[arg-type]
    if how.budget:
        values.append(Reasoning(budget_tokens=2048))
    if how.summary:
        values.append(Reasoning(effort=how.efforts[-1], summary="auto"))  # type: ignore[arg-type]
    if how.exclude:
        values.append(Reasoning(effort=how.efforts[-1], exclude=True))  # type: ignore[arg-type]
    if how.wire in ("anthropic_thinking", "ollama_think", "openrouter"):
        values.append(Reasoning())  # on, at the provider's default
    return values


def reasoning_fields(spec: ProviderSpec, value: Reasoning) -> dict[str, Any]:
    """A request with `value`, on a model that takes it (the spec's `effort_models`)."""
    fields: dict[str, Any] = {"messages": [USER], "reasoning": value}
    how = spec.reasoning
    assert how is not None
    if how.effort_models and value.budget_tokens is None and value.effort != "none":
        fields["model"] = how.effort_models[0]
    return fields


REASONING_CASES = [
    Case(name, f"reasoning-{value!r}", reasoning_fields(SPECS[name], value), stream)
    for name in sorted(SPECS)
    if SPECS[name].reasoning is not None
    for value in reasoning_values(SPECS[name])
    for stream in (False, True)
]


@pytest.mark.parametrize("case", REASONING_CASES, ids=[case.id for case in REASONING_CASES])
def test_unified_reasoning(case: Case) -> None:
    conforms(case)


def test_reasoning_with_structured_output_keeps_both_in_output_config() -> None:
    case = Case(
        "anthropic",
        "reasoning_effort_structured",
        {
            "messages": [USER],
            "model": "claude-opus-4-6",
            "reasoning": "high",
            "response_format": City,
        },
        False,
    )
    conforms(case)
    body = chat_body(SPECS["anthropic"], case.fields, stream=False)
    assert body["output_config"]["effort"] == "high"
    assert body["output_config"]["format"]["type"] == "json_schema"
    assert body["thinking"] == {"type": "adaptive"}


# ------------------------------------------------------------------- token counting

COUNTED_SHAPES = [
    "text",
    "history",
    "tools_json_schema",
    "tool_choice_auto",
    "tool_results",
    "image_bytes",
    "structured_pydantic",
]
COUNTING_CASES = [
    (name, shape)
    for name in sorted(SPECS)
    if SPECS[name].endpoints.count_tokens is not None and name in documents.DOCUMENTS
    for shape in COUNTED_SHAPES
]


@pytest.mark.parametrize(("provider", "shape"), COUNTING_CASES)
def test_token_count_request(provider: str, shape: str) -> None:
    spec = SPECS[provider]
    counting = spec.endpoints.count_tokens
    assert counting is not None
    config = config_of(spec)
    fields = dict(SHAPES[shape][0])
    if spec.reasoning is not None and spec.reasoning.budget:
        fields["reasoning"] = Reasoning(budget_tokens=2048)
    elif spec.reasoning is not None:
        fields["reasoning"] = Reasoning(effort="low")
    call = config.count_tokens_call(config.request(None, fields))
    assert call.method == "POST" and call.content is not None
    body = json.loads(call.content)
    name = documents.document_name(provider)
    problems = documents.operation(name, counting.path, "post").errors(body)
    assert not problems, f"{provider} {shape} token count: {problems}\nbody: {body}"
    assert "reasoning" in body or "thinking" in body


SERVICE_COUNTING_CASES = [
    (name, shape)
    for name in sorted(SPECS)
    if SPECS[name].endpoints.count_tokens is not None and name in service_models.SERVICE_MODELS
    for shape in COUNTED_SHAPES
]


@pytest.mark.parametrize(("provider", "shape"), SERVICE_COUNTING_CASES)
def test_token_count_request_against_the_service_model(provider: str, shape: str) -> None:
    spec = SPECS[provider]
    config = config_of(spec)
    fields = {
        **SHAPES[shape][0],
        "options": {"thinking": {"type": "enabled", "budget_tokens": 1024}},
    }
    call = config.count_tokens_call(config.request(None, fields))
    assert call.method == "POST" and call.content is not None
    assert call.url.endswith("/count-tokens")
    body = json.loads(call.content)
    problems = service_models.errors(
        provider, body, model=model_of(spec), stream=False, counting=True
    )
    assert not problems, f"{provider} {shape} token count: {problems}\nbody: {body}"
    assert "additionalModelRequestFields" in body["input"]["converse"]


def test_every_counting_provider_with_a_document_is_checked() -> None:
    assert {p for p, _ in COUNTING_CASES} == {"anthropic", "openai_responses"}


def test_openrouter_reasoning_keys_are_ones_openrouter_documents() -> None:
    """The chat document names `effort` and `summary` in `reasoning`; the same document's
    ReasoningConfig adds `enabled` and `max_tokens` (and the shared recordings show the chat
    endpoint taking `enabled`); `exclude` is in OpenRouter's reasoning guide alone."""
    name = "openrouter.openapi.yaml"
    chat = documents.operation(name, "/chat/completions", "post").body_schema
    documented = {
        key
        for schema in documents.field_schemas(name, chat, ["reasoning"])
        for key in documents.property_names(name, schema)
    }
    config = documents.load(name)["components"]["schemas"]["ReasoningConfig"]
    documented |= documents.property_names(name, config) | {"exclude"}
    spec = SPECS["openrouter"]
    for value in reasoning_values(spec):
        sent = chat_body(spec, reasoning_fields(spec, value), stream=False)["reasoning"]
        assert set(sent) <= documented, (value, sent)
