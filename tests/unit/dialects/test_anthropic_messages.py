"""The Anthropic Messages dialect: request mapping, response parsing, and the stream parser
driven by real recorded SSE bytes, checked against the official SDK's own accumulator."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any, cast

import pytest
from modelwire import DocumentPart
from modelwire._core.accumulate import Accumulator
from modelwire._core.validation import check_request
from modelwire._framing import ServerSentEvent, SSEDecoder
from modelwire.dialects.anthropic_messages import DIALECT, AnthropicStreamParser
from modelwire.dialects.base import parse_structured
from modelwire.errors import RequestValidationError, StreamDecodeError, StreamEventError
from modelwire.spec import ProviderSpec
from modelwire.types import (
    CacheControl,
    Citation,
    CompletionRequest,
    CompletionResponse,
    ImagePart,
    Message,
    NamedToolChoice,
    ResponseFormat,
    StreamingChunk,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCall,
)
from pydantic import BaseModel

from tests.cassettes.converted import shared_source_dir
from tests.unit.support import (
    ANTHROPIC_TEXT,
    KEYS,
    PNG,
    Weather,
    Wire,
    image_message,
    json_answer,
    tool_history,
)

yaml = pytest.importorskip("yaml")

# pydantic-ai's recordings as it wrote them (parametrised over while the module is
# collected, so a missing shared folder fails the collection, loudly)
ANTHROPIC = shared_source_dir() / "anthropic"
needs_cassettes = pytest.mark.usefixtures("shared_cassettes")


def make_spec(**overrides: Any) -> ProviderSpec:
    data: dict[str, Any] = {
        "name": "anthropic",
        "display_name": "Anthropic",
        "class_name": "Anthropic",
        "dialect": "anthropic_messages",
        "base_url": "https://api.anthropic.com",
        "auth": {"type": "header", "header": "x-api-key", "env": "ANTHROPIC_API_KEY"},
        "endpoints": {"chat": "/v1/messages", "models": "/v1/models"},
        "capabilities": {"structured_output": "tool", "reasoning": True},
        "limits": {"temperature": [0, 1], "max_tokens_required": True, "default_max_tokens": 4096},
        "options": [
            {"name": "top_k", "type": "int"},
            {"name": "thinking", "type": "dict"},
            {"name": "metadata", "type": "dict"},
            {"name": "service_tier", "type": "str", "enum": ["auto", "standard_only"]},
            {"name": "user_id", "type": "str", "wire": "metadata.user_id"},
        ],
    }
    data.update(overrides)
    return ProviderSpec.model_validate(data)


SPEC = make_spec()


SPEC_FILE = Path(__file__).resolve().parents[3] / "spec" / "providers" / "anthropic.yaml"


@pytest.mark.skipif(not SPEC_FILE.is_file(), reason="no spec/providers/anthropic.yaml")
def test_with_the_shipped_spec_file() -> None:
    from modelwire.spec import read_spec_file

    spec = read_spec_file(SPEC_FILE)
    assert spec.dialect == "anthropic_messages"
    body = DIALECT.build_request(
        CompletionRequest(
            model="claude-sonnet-4-5",
            messages=[Message.user("x")],
            options={"top_k": 3, "thinking": {"type": "enabled", "budget_tokens": 1024}},
        ),
        spec,
        stream=True,
    )
    assert body["max_tokens"] == spec.limits.default_max_tokens
    assert body["top_k"] == 3
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert body["stream"] is True


def test_wire_check_rejects_a_body_without_content() -> None:
    from modelwire.errors import ProviderError

    with pytest.raises(ProviderError, match="response"):
        DIALECT.check_wire("response", {"id": "msg_1", "stop_reason": "end_turn"})


def build(stream: bool = False, spec: ProviderSpec = SPEC, **kw: Any) -> dict[str, Any]:
    """The wire body a client sends: checked before it is built, as a client does."""
    kw.setdefault("model", "claude-sonnet-4-5")
    request = CompletionRequest(**kw)
    check_request(spec, request, stream=stream)
    return DIALECT.build_request(request, spec, stream=stream)


def blocks(content: Any) -> list[dict[str, Any]]:
    """Message content normalised to a block list (a lone text may be sent as a string)."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return list(content)


# =========================================================================== request


def test_system_messages_are_hoisted_as_blocks_in_order() -> None:
    body = build(
        messages=[
            Message.system("You are a code reviewer."),
            Message.user("Review `add`."),
            Message.assistant("Looks fine."),
            Message.system("Always include type annotations."),
            Message.user("Again."),
            Message.system("State the time complexity."),
        ]
    )
    # one text block each, not one string: each keeps its place (and a cache breakpoint)
    assert body["system"] == [
        {"type": "text", "text": "You are a code reviewer."},
        {"type": "text", "text": "Always include type annotations."},
        {"type": "text", "text": "State the time complexity."},
    ]
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert all(m["role"] != "system" for m in body["messages"])


def test_no_system_key_without_system_messages() -> None:
    assert "system" not in build(messages=[Message.user("hi")])


def test_consecutive_same_role_turns_are_merged() -> None:
    body = build(
        messages=[
            Message.user("one"),
            Message.user("two"),
            Message.system("sys in between does not break the run"),
            Message.user("three"),
            Message.assistant("a"),
            Message.assistant("b"),
        ]
    )
    assert body["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "one"},
                {"type": "text", "text": "two"},
                {"type": "text", "text": "three"},
            ],
        },
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
        },
    ]
    roles = [m["role"] for m in body["messages"]]
    assert all(a != b for a, b in itertools.pairwise(roles))


def test_a_single_text_turn_is_sent_as_a_string() -> None:
    body = build(messages=[Message.user("hello")])
    assert body["messages"] == [{"role": "user", "content": "hello"}]


def test_tool_round_trip_and_consecutive_results_in_one_user_turn() -> None:
    body = build(
        messages=[
            Message.user("Weather in Paris and Rome?"),
            Message.assistant(
                "Let me check.",
                tool_calls=[
                    ToolCall(id="toolu_1", name="weather", arguments={"city": "Paris"}),
                    ToolCall(id="toolu_2", name="weather", arguments={"city": "Rome"}),
                ],
            ),
            Message.tool("toolu_1", "18C"),
            Message.tool("toolu_2", "24C", name="weather"),
            Message.user("Which is warmer?"),
        ],
        tools=[Tool(name="weather", description="Weather", parameters={"type": "object"})],
    )
    assert body["messages"][1] == {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "Let me check."},
            {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Paris"}},
            {"type": "tool_use", "id": "toolu_2", "name": "weather", "input": {"city": "Rome"}},
        ],
    }
    assert body["messages"][2] == {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C"},
            {"type": "tool_result", "tool_use_id": "toolu_2", "content": "24C"},
            {"type": "text", "text": "Which is warmer?"},
        ],
    }
    assert len(body["messages"]) == 3
    assert body["tools"] == [
        {"name": "weather", "description": "Weather", "input_schema": {"type": "object"}}
    ]


def test_tool_results_go_first_in_their_user_turn() -> None:
    body = build(
        messages=[
            Message.assistant("", tool_calls=[ToolCall(id="t1", name="f", arguments={})]),
            Message.user("note first"),
            Message.tool("t1", "result"),
        ]
    )
    assert [b["type"] for b in body["messages"][1]["content"]] == ["tool_result", "text"]


def test_assistant_tool_call_without_text_has_no_empty_text_block() -> None:
    body = build(
        messages=[
            Message.user("go"),
            Message.assistant("", tool_calls=[ToolCall(id="t1", name="f", arguments={"a": 1})]),
        ]
    )
    assert body["messages"][1]["content"] == [
        {"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}}
    ]


def test_tool_message_without_id_is_a_clear_error() -> None:
    with pytest.raises(RequestValidationError, match="tool_call_id"):
        build(messages=[Message(role="tool", content="x")])


def test_assistant_reasoning_is_not_sent_back() -> None:
    message = Message.assistant("The answer is 4.")
    message.reasoning = "2+2 is 4"
    body = build(messages=[Message.user("2+2?"), message, Message.user("thanks")])
    assert "2+2 is 4" not in json.dumps(body)
    assert body["messages"][1] == {"role": "assistant", "content": "The answer is 4."}


@needs_cassettes
def test_tool_round_trip_matches_recorded_request() -> None:
    """The history of a real two-tool run, rebuilt from unified messages."""
    cassette = yaml.safe_load(
        (ANTHROPIC / "test_anthropic__test_anthropic_mixed_strict_tool_run.yaml").read_text()
    )
    recorded = cassette["interactions"][2]["request"]["parsed_body"]
    body = build(
        messages=[
            Message.system(recorded["system"]),
            Message.user("Use the registered tools and respond exactly as `Capital: <city>`."),
            Message.assistant(
                "I'll help you find the capital city using the available tools.",
                tool_calls=[ToolCall(id="toolu_01Ttepb9joVoQFHP568v7UAL", name="country_source")],
            ),
            Message.tool("toolu_01Ttepb9joVoQFHP568v7UAL", "Japan"),
            Message.assistant(
                tool_calls=[
                    ToolCall(
                        id="toolu_011j5uC2Tg3TZJo3nmLtJ8Mm",
                        name="capital_lookup",
                        arguments={"country": "Japan"},
                    )
                ]
            ),
            Message.tool("toolu_011j5uC2Tg3TZJo3nmLtJ8Mm", "Tokyo"),
        ],
        tools=[
            Tool(name=t["name"], description=t["description"], parameters=t["input_schema"])
            for t in recorded["tools"]
        ],
        tool_choice="auto",
    )
    assert body["system"] == recorded["system"]
    assert body["tool_choice"] == recorded["tool_choice"]
    assert [(m["role"], blocks(m["content"])) for m in body["messages"]] == [
        (
            m["role"],
            # pydantic-ai adds is_error=false; it is the API's default
            [{k: v for k, v in b.items() if k != "is_error"} for b in m["content"]],
        )
        for m in recorded["messages"]
    ]
    recorded_tools = [{k: v for k, v in t.items() if k != "strict"} for t in recorded["tools"]]
    assert body["tools"] == recorded_tools


def test_images_by_url_bytes_and_data_url() -> None:
    body = build(
        messages=[
            Message.user(
                [
                    TextPart(text="What is in these?"),
                    ImagePart(url="https://example.com/cat.png"),
                    ImagePart.from_bytes(b"\x89PNG", media_type="image/png"),
                    ImagePart(url="data:image/jpeg;base64,/9j/AAA="),
                ]
            )
        ]
    )
    assert body["messages"][0]["content"] == [
        {"type": "text", "text": "What is in these?"},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}},
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw=="},
        },
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/AAA="},
        },
    ]


TOOLS = [Tool(name="lookup", parameters={"type": "object", "properties": {}})]


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("auto", {"type": "auto"}),
        ("required", {"type": "any"}),
        ("none", {"type": "none"}),
        (NamedToolChoice(name="lookup"), {"type": "tool", "name": "lookup"}),
        ("lookup", {"type": "tool", "name": "lookup"}),
    ],
)
def test_tool_choice(choice: Any, wire: dict[str, Any]) -> None:
    body = build(messages=[Message.user("x")], tools=TOOLS, tool_choice=choice)
    assert body["tool_choice"] == wire


def test_no_tool_choice_key_by_default() -> None:
    assert "tool_choice" not in build(messages=[Message.user("x")], tools=TOOLS)


def test_parallel_tool_calls_false() -> None:
    body = build(messages=[Message.user("x")], tools=TOOLS, parallel_tool_calls=False)
    assert body["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}
    body = build(
        messages=[Message.user("x")], tools=TOOLS, tool_choice="required", parallel_tool_calls=False
    )
    assert body["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}
    body = build(
        messages=[Message.user("x")], tools=TOOLS, tool_choice="lookup", parallel_tool_calls=False
    )
    assert body["tool_choice"] == {
        "type": "tool",
        "name": "lookup",
        "disable_parallel_tool_use": True,
    }
    # parallel_tool_calls=True is Anthropic's default: nothing to send
    assert "tool_choice" not in build(
        messages=[Message.user("x")], tools=TOOLS, parallel_tool_calls=True
    )


def test_sampling_stop_and_max_tokens() -> None:
    body = build(
        messages=[Message.user("x")],
        temperature=0.3,
        top_p=0.9,
        stop="END",
        seed=7,
        max_tokens=100,
    )
    assert body["temperature"] == 0.3
    assert body["top_p"] == 0.9
    assert body["stop_sequences"] == ["END"]
    assert "stop" not in body
    assert "seed" not in body  # no Anthropic equivalent
    assert body["max_tokens"] == 100
    assert "stream" not in body


def test_max_tokens_defaults_from_spec_and_is_required() -> None:
    assert build(messages=[Message.user("x")])["max_tokens"] == 4096
    no_default = make_spec(limits={"max_tokens_required": True})
    with pytest.raises(RequestValidationError, match="max_tokens"):
        build(messages=[Message.user("x")], spec=no_default)


def test_stream_flag() -> None:
    assert build(stream=True, messages=[Message.user("x")])["stream"] is True


def test_options_at_their_wire_path_and_extra_body_last() -> None:
    body = build(
        messages=[Message.user("x")],
        options={
            "top_k": 40,
            "service_tier": "auto",
            "user_id": "u-1",
        },
        extra_body={"top_k": 5, "container": "c-1"},
    )
    assert body["service_tier"] == "auto"
    assert body["metadata"] == {"user_id": "u-1"}
    assert body["top_k"] == 5  # extra_body is merged last
    assert body["container"] == "c-1"


class Answer(BaseModel):
    city: str
    population: int


def test_response_format_becomes_a_forced_tool() -> None:
    body = build(messages=[Message.user("x")], tools=TOOLS, response_format=Answer)
    assert body["tools"][0]["name"] == "lookup"
    assert body["tools"][1]["name"] == "Answer"
    assert body["tools"][1]["input_schema"] == Answer.model_json_schema()
    assert body["tool_choice"] == {"type": "tool", "name": "Answer"}
    assert "response_format" not in body

    body = build(messages=[Message.user("x")], response_format="json")
    assert body["tools"] == [
        {
            "name": "response",
            "description": body["tools"][0]["description"],
            "input_schema": {"type": "object"},
        }
    ]
    assert body["tool_choice"] == {"type": "tool", "name": "response"}


def test_structured_output_is_read_from_the_forced_tool() -> None:
    request = CompletionRequest(
        model="m", messages=[Message.user("x")], response_format=ResponseFormat.from_model(Answer)
    )
    response = DIALECT.parse_response(
        {
            "id": "msg_1",
            "model": "m",
            "content": [
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "Answer",
                    "input": {"city": "Tokyo", "population": 14000000},
                }
            ],
            "stop_reason": "tool_use",
            "usage": {"input_tokens": 1, "output_tokens": 2},
        },
        SPEC,
    )
    assert parse_structured(request, response) == Answer(city="Tokyo", population=14000000)


# =========================================================================== response


def test_parse_response_blocks_and_usage() -> None:
    body = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [
            {"type": "thinking", "thinking": "Let me think.", "signature": "sig-1"},
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "text", "text": "Hello "},
            {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}},
            {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []},
            {"type": "text", "text": "world", "citations": []},
            {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"x": 1}},
            {"type": "some_future_block", "whatever": True},
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 10,
            "output_tokens": 20,
            "cache_read_input_tokens": 3,
            "cache_creation_input_tokens": 4,
        },
    }
    response = DIALECT.parse_response(body, SPEC)
    assert response.id == "msg_1"
    assert response.model == "claude-sonnet-4-5"
    assert response.content == "Hello world"
    assert response.reasoning == "Let me think."
    assert response.reasoning_signature == "sig-1"
    assert response.tool_calls == [ToolCall(id="toolu_1", name="f", arguments={"x": 1})]
    assert response.finish_reason == "tool_calls"
    assert response.raw_finish_reason == "tool_use"
    assert response.usage is not None
    assert (response.usage.input_tokens, response.usage.output_tokens) == (10, 20)
    assert response.usage.cache_read_tokens == 3
    assert response.usage.cache_write_tokens == 4
    assert response.raw is body


@pytest.mark.parametrize(
    ("raw", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("pause_turn", "other"),
        ("something_new", "other"),
    ],
)
def test_stop_reason_mapping(raw: str, finish: str) -> None:
    response = DIALECT.parse_response({"content": [], "stop_reason": raw}, SPEC)
    assert response.finish_reason == finish
    assert response.raw_finish_reason == raw


def recorded_messages() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(ANTHROPIC.glob("*.yaml")):
        for i, interaction in enumerate(yaml.safe_load(path.read_text())["interactions"]):
            body = interaction["response"].get("parsed_body")
            if isinstance(body, dict) and body.get("type") == "message":
                found.append((f"{path.stem}#{i}", body))
    return found


RECORDED = recorded_messages()


@needs_cassettes
@pytest.mark.parametrize("body", [b for _, b in RECORDED], ids=[n[-70:] for n, _ in RECORDED])
def test_parse_recorded_response(body: dict[str, Any]) -> None:
    DIALECT.check_wire("response", body)  # the generated wire model accepts real bodies
    response = DIALECT.parse_response(body, SPEC)
    content = body["content"]
    assert response.content == "".join(b["text"] for b in content if b["type"] == "text")
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [
        (b["id"], b["name"], b["input"]) for b in content if b["type"] == "tool_use"
    ]
    thinking = [b for b in content if b["type"] == "thinking"]
    assert response.reasoning == ("".join(b["thinking"] for b in thinking) or None)
    if thinking:
        assert response.reasoning_signature == thinking[-1]["signature"]
    assert response.raw_finish_reason == body["stop_reason"]
    assert (
        response.finish_reason
        == {"end_turn": "stop", "tool_use": "tool_calls"}[body["stop_reason"]]
    )
    usage = body["usage"]
    assert response.usage is not None
    assert response.usage.input_tokens == usage["input_tokens"]
    assert response.usage.output_tokens == usage["output_tokens"]
    assert response.usage.cache_read_tokens == usage["cache_read_input_tokens"]
    assert response.usage.cache_write_tokens == usage["cache_creation_input_tokens"]


@needs_cassettes
def test_recorded_server_tool_blocks_are_not_text_or_tool_calls() -> None:
    by_name = dict(RECORDED)
    body = by_name["test_native_tool_search_vcr__test_anthropic_native_tool_search#0"]
    types = [b["type"] for b in body["content"]]
    assert "server_tool_use" in types and "tool_search_tool_result" in types
    response = DIALECT.parse_response(body, SPEC)
    assert [c.name for c in response.tool_calls] == [
        b["name"] for b in body["content"] if b["type"] == "tool_use"
    ]
    assert all(not c.id.startswith("srvtoolu_") for c in response.tool_calls)


def test_parse_models() -> None:
    body = {
        "data": [
            {
                "type": "model",
                "id": "claude-sonnet-4-5-20250929",
                "display_name": "Claude Sonnet 4.5",
                "created_at": "2025-09-29T00:00:00Z",
            },
            {
                "type": "model",
                "id": "claude-haiku-4-5",
                "display_name": "Claude Haiku 4.5",
                "created_at": "2025-10-01T00:00:00Z",
            },
        ],
        "has_more": False,
        "first_id": "claude-sonnet-4-5-20250929",
        "last_id": "claude-haiku-4-5",
    }
    DIALECT.check_wire("models", body)
    models = DIALECT.parse_models(body, SPEC)
    assert [m.id for m in models] == ["claude-sonnet-4-5-20250929", "claude-haiku-4-5"]
    assert all(m.created is None for m in models)
    assert models[0].raw["display_name"] == "Claude Sonnet 4.5"


# =========================================================================== streaming


def sse(*events: tuple[str, dict[str, Any]]) -> list[ServerSentEvent]:
    return [ServerSentEvent(json.dumps(data).encode(), name) for name, data in events]


def run(events: list[ServerSentEvent]) -> tuple[AnthropicStreamParser, list[StreamingChunk]]:
    parser = DIALECT.stream_parser(SPEC)
    chunks = [c for c in map(parser.parse, events) if c is not None]
    return parser, chunks


def fold(chunks: list[StreamingChunk]) -> CompletionResponse:
    accumulator = Accumulator()
    for chunk in chunks:
        accumulator.add(chunk)
    return accumulator.snapshot()


def message_start(**usage: Any) -> tuple[str, dict[str, Any]]:
    return (
        "message_start",
        {
            "type": "message_start",
            "message": {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": "claude-x",
                "content": [],
                "stop_reason": None,
                "usage": {"input_tokens": 10, "output_tokens": 1, **usage},
            },
        },
    )


def block_start(index: int, block: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return (
        "content_block_start",
        {"type": "content_block_start", "index": index, "content_block": block},
    )


def delta(index: int, d: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d})


def stop(index: int) -> tuple[str, dict[str, Any]]:
    return ("content_block_stop", {"type": "content_block_stop", "index": index})


def message_delta(reason: str, **usage: Any) -> tuple[str, dict[str, Any]]:
    return (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": reason, "stop_sequence": None},
            "usage": usage,
        },
    )


MESSAGE_STOP = ("message_stop", {"type": "message_stop"})
PING = ("ping", {"type": "ping"})


def test_stream_tool_ordinals_are_not_block_indexes() -> None:
    parser, chunks = run(
        sse(
            message_start(cache_read_input_tokens=5),
            block_start(0, {"type": "text", "text": "Hi"}),
            PING,
            delta(0, {"type": "text_delta", "text": " there"}),
            stop(0),
            block_start(1, {"type": "tool_use", "id": "toolu_a", "name": "f", "input": {}}),
            delta(1, {"type": "input_json_delta", "partial_json": ""}),
            delta(1, {"type": "input_json_delta", "partial_json": '{"x": '}),
            delta(1, {"type": "input_json_delta", "partial_json": "1}"}),
            stop(1),
            block_start(
                2, {"type": "server_tool_use", "id": "srv_1", "name": "web_search", "input": {}}
            ),
            delta(2, {"type": "input_json_delta", "partial_json": '{"query": "q"}'}),
            stop(2),
            block_start(3, {"type": "tool_use", "id": "toolu_b", "name": "g", "input": {}}),
            delta(3, {"type": "input_json_delta", "partial_json": '{"y": 2}'}),
            stop(3),
            message_delta("tool_use", output_tokens=42),
            MESSAGE_STOP,
        )
    )
    tool_indexes = [d.index for c in chunks for d in c.tool_calls]
    assert set(tool_indexes) == {0, 1}
    assert parser.finished
    final = chunks[-1]
    assert final.is_final and final.finish_reason == "tool_calls"
    assert final.raw_finish_reason == "tool_use"
    assert all(c.model == "claude-x" for c in chunks)
    assert all(isinstance(c.raw, dict) for c in chunks)
    response = fold(chunks)
    assert response.content == "Hi there"
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [
        ("toolu_a", "f", {"x": 1}),
        ("toolu_b", "g", {"y": 2}),
    ]
    assert response.id == "msg_1"
    assert response.usage is not None
    assert (response.usage.input_tokens, response.usage.output_tokens) == (10, 42)
    assert response.usage.cache_read_tokens == 5


def test_stream_thinking_and_signature() -> None:
    _, chunks = run(
        sse(
            message_start(),
            block_start(0, {"type": "thinking", "thinking": "", "signature": ""}),
            delta(0, {"type": "thinking_delta", "thinking": "Hmm, "}),
            delta(0, {"type": "thinking_delta", "thinking": "four."}),
            delta(0, {"type": "signature_delta", "signature": "EqQB..."}),
            stop(0),
            block_start(1, {"type": "redacted_thinking", "data": "opaque"}),
            stop(1),
            block_start(2, {"type": "text", "text": "", "citations": []}),
            delta(2, {"type": "citations_delta", "citation": {"type": "char_location"}}),
            delta(2, {"type": "text_delta", "text": "4"}),
            stop(2),
            message_delta("end_turn", output_tokens=9),
            MESSAGE_STOP,
        )
    )
    response = fold(chunks)
    assert response.reasoning == "Hmm, four."
    assert response.reasoning_signature == "EqQB..."
    assert response.content == "4"
    assert response.finish_reason == "stop"


def test_stream_usage_later_non_null_values_win() -> None:
    _, chunks = run(
        sse(
            message_start(cache_creation_input_tokens=7, cache_read_input_tokens=0),
            message_delta(
                "end_turn",
                output_tokens=30,
                input_tokens=None,
                cache_read_input_tokens=11,
                output_tokens_details={"thinking_tokens": 12},
            ),
            MESSAGE_STOP,
        )
    )
    usage = chunks[-1].usage
    assert usage is not None
    assert usage.input_tokens == 10  # kept from message_start: the delta's was null
    assert usage.output_tokens == 30
    assert usage.cache_write_tokens == 7
    assert usage.cache_read_tokens == 11
    assert usage.reasoning_tokens == 12


def test_stream_tool_input_given_whole_at_block_start() -> None:
    _, chunks = run(
        sse(
            message_start(),
            block_start(0, {"type": "tool_use", "id": "t", "name": "f", "input": {"a": [1]}}),
            stop(0),
            message_delta("tool_use", output_tokens=3),
            MESSAGE_STOP,
        )
    )
    assert fold(chunks).tool_calls == [ToolCall(id="t", name="f", arguments={"a": [1]})]


def test_stream_error_event_raises() -> None:
    parser = DIALECT.stream_parser(SPEC)
    parser.parse(sse(message_start())[0])
    data = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    with pytest.raises(StreamEventError) as info:
        parser.parse(ServerSentEvent(json.dumps(data).encode(), "error"))
    assert info.value.message == "Overloaded"
    assert info.value.error_type == "overloaded_error"
    assert info.value.body == data
    assert not parser.finished


def test_stream_ping_and_unknown_events_are_skipped() -> None:
    parser, chunks = run(
        [
            ServerSentEvent(b'{"type": "ping"}', "ping"),
            *sse(
                ("message", {"type": "ping"}),
                ("brand_new_event", {"type": "brand_new_event", "x": 1}),
                delta(0, {"type": "brand_new_delta", "x": 1}),
            ),
        ]
    )
    assert chunks == []
    assert not parser.finished


def test_stream_without_message_stop_is_not_finished() -> None:
    parser, chunks = run(sse(message_start(), block_start(0, {"type": "text", "text": "Hi"})))
    assert not parser.finished
    assert not any(c.is_final for c in chunks)
    assert fold(chunks).content == "Hi"


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (
            {"type": "content_block_start", "index": [], "content_block": {"type": "tool_use"}},
            "index is list, not an int",
        ),
        ({"type": "content_block_start", "content_block": 1.0}, "content_block is float"),
        (
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": 5},
            },
            "content_block.text is int",
        ),
        (
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "tool_use", "name": 1},
            },
            "content_block.name is int",
        ),
        ({"type": "content_block_delta", "delta": [None]}, "delta is list, not an object"),
        (
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": 5}},
            "delta.text is int, not a string",
        ),
        (
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "thinking_delta", "thinking": {}},
            },
            "delta.thinking is dict",
        ),
        (
            {"type": "content_block_delta", "index": {}, "delta": {"type": "input_json_delta"}},
            "index is dict, not an int",
        ),
        ({"type": "content_block_stop", "index": [0]}, "index is list"),
        ({"type": "message_start", "message": 1.0}, "message is float, not an object"),
        (
            {"type": "message_start", "message": {"usage": {"input_tokens": "10"}}},
            "message.usage.input_tokens is str, not an int",
        ),
        ({"type": "message_delta", "delta": [None]}, "delta is list"),
        ({"type": "message_delta", "delta": {"stop_reason": []}}, "delta.stop_reason is list"),
        (
            {"type": "message_delta", "usage": {"output_tokens_details": True}},
            "usage.output_tokens_details is bool, not an object",
        ),
        (
            {"type": "message_delta", "usage": {"output_tokens": True}},
            "usage.output_tokens is bool, not an int",
        ),
    ],
)
def test_stream_event_of_the_wrong_shape_is_a_decode_error(
    data: dict[str, Any], problem: str
) -> None:
    parser = DIALECT.stream_parser(SPEC)
    with pytest.raises(StreamDecodeError) as info:
        parser.parse(ServerSentEvent(json.dumps(data).encode(), data["type"]))
    assert f"the Anthropic '{data['type']}' event" in info.value.message
    assert problem in info.value.message


def test_stream_malformed_usage_leaves_the_totals_as_they_were() -> None:
    parser = DIALECT.stream_parser(SPEC)
    parser.parse(sse(message_start())[0])
    bad = {"type": "message_delta", "delta": {"stop_reason": "end_turn"}}
    bad["usage"] = {"output_tokens": 7, "cache_read_input_tokens": 1.5}
    with pytest.raises(StreamDecodeError, match=r"usage\.cache_read_input_tokens is float"):
        parser.parse(ServerSentEvent(json.dumps(bad).encode(), "message_delta"))
    final = parser.parse(sse(MESSAGE_STOP)[0])
    assert final is not None and final.usage is not None
    assert (final.usage.output_tokens, final.usage.cache_read_tokens) == (1, None)
    assert final.finish_reason is None  # the malformed event changed nothing


def test_stream_metadata_of_the_wrong_type_is_dropped() -> None:
    start = {"type": "message_start", "message": {"id": [None], "model": 5, "usage": {}}}
    parser, chunks = run(
        sse(
            ("message_start", start),
            delta(0, {"type": "text_delta", "text": "Hi"}),
            message_delta("end_turn", output_tokens=2),
            MESSAGE_STOP,
        )
    )
    assert parser.finished
    assert all(c.id is None and c.model is None for c in chunks)
    response = fold(chunks)
    assert (response.id, response.model, response.content) == (None, None, "Hi")


def test_stream_error_event_with_odd_fields_is_still_a_typed_error() -> None:
    data = {"type": "error", "error": {"type": ["overloaded_error"], "message": 5}}
    with pytest.raises(StreamEventError) as info:
        DIALECT.stream_parser(SPEC).parse(ServerSentEvent(json.dumps(data).encode(), "error"))
    assert info.value.message == "5"
    assert info.value.error_type == "['overloaded_error']"


# --------------------------------------------------------------------------- recordings


def recorded_streams() -> list[tuple[str, bytes]]:
    found = []
    for path in sorted(ANTHROPIC.glob("*stream*.yaml")):
        for i, interaction in enumerate(yaml.safe_load(path.read_text())["interactions"]):
            body = interaction["response"].get("body") or {}
            text = body.get("string") if isinstance(body, dict) else None
            if text and "event: message_start" in text:
                found.append((f"{path.stem}#{i}", text.encode("utf-8")))
    return found


STREAMS = recorded_streams()


def decode(data: bytes, piece: int | None = None) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    if piece is None:
        events = decoder.feed(data)
    else:
        events = []
        for start in range(0, len(data), piece):
            events.extend(decoder.feed(data[start : start + piece]))
    return events + decoder.flush()


def sdk_message(events: list[ServerSentEvent]) -> Any:
    """The official SDK's accumulation of the same events."""
    from anthropic._models import construct_type
    from anthropic.lib.streaming._messages import accumulate_event
    from anthropic.types import RawMessageStreamEvent

    snapshot: Any = None
    json_bufs: dict[int, bytes] = {}
    for event in events:
        data = json.loads(event.data)
        if data["type"] == "ping":
            continue
        # construct_type is how the SDK's own stream builds events: lenient, so the
        # beta-only blocks in these recordings (mcp_tool_use, advisor_tool_result) load
        parsed = cast(
            RawMessageStreamEvent, construct_type(type_=RawMessageStreamEvent, value=data)
        )
        snapshot = accumulate_event(event=parsed, current_snapshot=snapshot, json_bufs=json_bufs)
    return snapshot


@needs_cassettes
def test_recordings_were_found() -> None:
    assert len(STREAMS) >= 6


@needs_cassettes
@pytest.mark.parametrize("data", [d for _, d in STREAMS], ids=[n[-70:] for n, _ in STREAMS])
def test_recorded_stream_matches_official_sdk(data: bytes) -> None:
    pytest.importorskip("anthropic")
    events = decode(data)
    parser, chunks = run(events)
    assert parser.finished
    assert chunks[-1].is_final and sum(c.is_final for c in chunks) == 1
    ours = fold(chunks)
    sdk = sdk_message(events)

    assert ours.id == sdk.id
    assert ours.model == sdk.model
    assert all(c.model == sdk.model for c in chunks)
    assert all(isinstance(c.raw, dict) for c in chunks)
    assert ours.content == "".join(b.text for b in sdk.content if b.type == "text")
    assert [(c.id, c.name, c.arguments) for c in ours.tool_calls] == [
        (b.id, b.name, b.input) for b in sdk.content if b.type == "tool_use"
    ]
    thinking = [b for b in sdk.content if b.type == "thinking"]
    assert ours.reasoning == ("".join(b.thinking for b in thinking) or None)
    assert ours.reasoning_signature == (thinking[-1].signature if thinking else None)
    assert ours.raw_finish_reason == sdk.stop_reason
    assert ours.finish_reason == DIALECT.finish_reason(sdk.stop_reason)
    assert ours.usage is not None
    assert ours.usage.input_tokens == sdk.usage.input_tokens
    assert ours.usage.output_tokens == sdk.usage.output_tokens
    assert ours.usage.cache_read_tokens == sdk.usage.cache_read_input_tokens
    assert ours.usage.cache_write_tokens == sdk.usage.cache_creation_input_tokens

    # the same bytes cut into small network reads give the same result
    assert fold(run(decode(data, piece=7))[1]) == ours


@needs_cassettes
def test_recorded_tool_search_stream() -> None:
    """Text, a server tool (with its own input_json_delta), its result, text, a tool_use."""
    streams = dict(STREAMS)
    data = streams["test_tool_search__test_anthropic_native_tool_search_streaming#0"]
    _, chunks = run(decode(data))
    deltas = [d for c in chunks for d in c.tool_calls]
    # the tool_use is content block 4 but the first client tool call: index 0
    assert {d.index for d in deltas} == {0}
    assert deltas[0].id == "toolu_01EFn5wTNBYA8Reni8rbmnHT"
    assert all("query" not in d.arguments for d in deltas)  # server tool input left out
    response = fold(chunks)
    assert response.tool_calls == [
        ToolCall(
            id="toolu_01EFn5wTNBYA8Reni8rbmnHT",
            name="get_exchange_rate",
            arguments={"from_currency": "USD", "to_currency": "EUR"},
        )
    ]
    assert response.content == (
        "Let me search for a tool that can provide current exchange rate information."
        "I found the right tool! Let me fetch the current USD to EUR exchange rate for you."
    )
    assert response.finish_reason == "tool_calls"
    assert response.usage is not None
    assert (response.usage.input_tokens, response.usage.output_tokens) == (1591, 175)


@needs_cassettes
def test_recorded_advisor_stream_usage_is_overridden_by_message_delta() -> None:
    streams = dict(STREAMS)
    data = streams["test_anthropic__test_anthropic_advisor_tool_stream#0"]
    _, chunks = run(decode(data))
    start_usage = chunks[0].usage
    assert start_usage is not None and start_usage.input_tokens == 1128
    response = fold(chunks)
    assert response.usage is not None
    assert response.usage.input_tokens == 2411  # message_delta's total wins
    assert response.usage.output_tokens == 145
    assert response.usage.reasoning_tokens == 47
    # a thinking block with only a signature (no thinking text)
    assert response.reasoning is None
    assert response.reasoning_signature is not None
    assert response.reasoning_signature.startswith("EpADCokB")
    assert response.content.endswith("The answer is **4**.")


@needs_cassettes
def test_recorded_web_search_stream_ignores_citations_and_server_blocks() -> None:
    streams = dict(STREAMS)
    data = streams["test_anthropic__test_anthropic_model_web_search_tool_stream#0"]
    _, chunks = run(decode(data))
    response = fold(chunks)
    assert response.tool_calls == []
    assert "high around 76°F (24°C)" in response.content
    assert response.reasoning is not None
    assert response.reasoning.startswith("The user is asking about the weather")
    assert response.usage is not None and response.usage.input_tokens == 22397


@needs_cassettes
def test_recorded_redacted_thinking_stream_has_no_reasoning() -> None:
    streams = dict(STREAMS)
    data = streams["test_anthropic__test_anthropic_model_thinking_part_redacted_stream#0"]
    response = fold(run(decode(data))[1])
    assert response.reasoning is None and response.reasoning_signature is None
    assert response.content.startswith("I notice that you've sent what")


# --------------------------------------------------------------------------- through the client


def test_tool_round_trip_anthropic_wire() -> None:
    wire = Wire(json_answer(ANTHROPIC_TEXT))
    wire.client("anthropic", **KEYS["anthropic"]).complete(
        messages=tool_history(), tools=[Tool.from_model(Weather)], tool_choice="required"
    )
    body = wire.body
    assert body["system"] == "Be brief."
    assert body["tool_choice"] == {"type": "any"}
    assert body["tools"][0]["input_schema"]["properties"]["city"] == {
        "title": "City",
        "type": "string",
    }
    assert body["messages"][1]["content"] == [
        {"type": "tool_use", "id": "call_1", "name": "Weather", "input": {"city": "Paris"}}
    ]
    assert body["messages"][2]["role"] == "user"
    assert body["messages"][2]["content"][0]["type"] == "tool_result"
    assert body["messages"][2]["content"][0]["tool_use_id"] == "call_1"
    assert body["max_tokens"] == 4096  # Anthropic needs it: the spec's default fills it


def test_structured_output_anthropic_forced_tool() -> None:
    answer = {
        **ANTHROPIC_TEXT,
        "content": [{"type": "tool_use", "id": "t1", "name": "Weather", "input": {"city": "Lima"}}],
        "stop_reason": "tool_use",
    }
    wire = Wire(json_answer(answer))
    # a model from before Anthropic's structured outputs: the spec names its prefix
    response = wire.client("anthropic", **KEYS["anthropic"]).complete(
        messages=[{"role": "user", "content": "x"}],
        response_format=Weather,
        model="claude-sonnet-4-0",
    )
    assert response.parsed == Weather(city="Lima")
    assert wire.body["tool_choice"] == {"type": "tool", "name": "Weather"}
    assert "output_config" not in wire.body


def test_structured_output_anthropic_native() -> None:
    answer = {**ANTHROPIC_TEXT, "content": [{"type": "text", "text": '{"city": "Lima"}'}]}
    wire = Wire(json_answer(answer))
    response = wire.client("anthropic", **KEYS["anthropic"]).complete(
        messages=[{"role": "user", "content": "x"}],
        response_format=Weather,
        thinking={"type": "enabled", "budget_tokens": 2048},
    )
    assert response.parsed == Weather(city="Lima")
    fmt = wire.body["output_config"]["format"]
    assert fmt["type"] == "json_schema" and fmt["schema"]["additionalProperties"] is False
    assert "tools" not in wire.body and "tool_choice" not in wire.body


def test_structured_output_anthropic_json_mode_and_loose_schemas_use_a_tool() -> None:
    call = {"type": "tool_use", "id": "t1", "name": "response", "input": {"a": 1}}
    answer = {**ANTHROPIC_TEXT, "content": [call], "stop_reason": "tool_use"}
    for fmt in ("json", {"json_schema": {"type": "object"}, "strict": False}):
        wire = Wire(json_answer(answer))
        response = wire.client("anthropic", **KEYS["anthropic"]).complete(
            messages=[{"role": "user", "content": "x"}], response_format=fmt
        )
        assert response.parsed == {"a": 1}
        assert wire.body["tool_choice"] == {"type": "tool", "name": "response"}
        assert "output_config" not in wire.body


def test_max_tokens_is_raised_above_a_thinking_budget_when_not_given() -> None:
    thinking = {"type": "enabled", "budget_tokens": 8000}
    assert build(messages=[Message.user("x")], options={"thinking": thinking})["max_tokens"] == (
        8000 + 4096
    )
    small = {"type": "enabled", "budget_tokens": 1024}
    assert build(messages=[Message.user("x")], options={"thinking": small})["max_tokens"] == 4096
    given = build(messages=[Message.user("x")], options={"thinking": thinking}, max_tokens=9000)
    assert given["max_tokens"] == 9000


def test_images_in_each_dialect_anthropic() -> None:
    wire = Wire(json_answer(ANTHROPIC_TEXT))
    wire.client("anthropic", **KEYS["anthropic"]).complete(
        messages=image_message(ImagePart.from_bytes(PNG))
    )
    source = wire.body["messages"][0]["content"][1]["source"]
    assert source["type"] == "base64" and source["media_type"] == "image/png"


def test_reasoning_is_kept_apart_in_responses_anthropic() -> None:
    answer = {
        **ANTHROPIC_TEXT,
        "content": [
            {"type": "thinking", "thinking": "Let me think.", "signature": "sig"},
            {"type": "text", "text": "42"},
        ],
    }
    response = (
        Wire(json_answer(answer))
        .client("anthropic", **KEYS["anthropic"])
        .complete(messages=[{"role": "user", "content": "x"}])
    )
    assert (response.content, response.reasoning, response.reasoning_signature) == (
        "42",
        "Let me think.",
        "sig",
    )


# --------------------------------------------------------------------------- documents

PDF = b"%PDF-1.4 tiny"
DOCUMENTS = make_spec(
    capabilities={"structured_output": "tool", "documents": True, "document_urls": True}
)


def test_documents_as_document_blocks_base64_text_and_url() -> None:
    body = build(
        spec=DOCUMENTS,
        messages=[
            Message.user(
                [
                    DocumentPart.from_bytes(PDF, filename="paper.pdf"),
                    DocumentPart(url="data:application/pdf;base64,JVBERi0x", title="T" * 600),
                    DocumentPart.from_text("seven hills", title="Notes"),
                    DocumentPart(url="https://example.com/a.pdf"),
                    TextPart(text="Compare them."),
                ]
            )
        ],
    )
    encoded = DocumentPart.from_bytes(PDF).base64()
    assert body["messages"][0]["content"] == [
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": encoded},
            "title": "paper.pdf",
        },
        {
            "type": "document",
            # a data: URL goes as its bytes; the title is cut at the documented 500 characters
            "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0x"},
            "title": "T" * 500,
        },
        {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": "seven hills"},
            "title": "Notes",
        },
        {"type": "document", "source": {"type": "url", "url": "https://example.com/a.pdf"}},
        {"type": "text", "text": "Compare them."},
    ]


def test_a_document_outside_a_user_message_is_refused() -> None:
    with pytest.raises(RequestValidationError, match="give it in a user message"):
        build(
            spec=DOCUMENTS,
            messages=[
                Message(role="system", content=[DocumentPart.from_text("rules")]),
                Message.user("hi"),
            ],
        )


# =========================================================================== conversations

MESSAGES_OPERATION = ("anthropic.openapi.yaml", "/v1/messages", "post")
# what a request block of each kind takes from the response block it came from (responses
# add keys a request refuses: a tool_use's `caller`, a citation's `file_id`)
REQUEST_KEYS = {
    "text": ("type", "text", "citations"),
    "thinking": ("type", "thinking", "signature"),
    "redacted_thinking": ("type", "data"),
    "tool_use": ("type", "id", "name", "input"),
}


def as_request_block(block: dict[str, Any]) -> dict[str, Any]:
    out = {k: block[k] for k in REQUEST_KEYS[block["type"]] if k in block}
    if not out.get("citations"):
        out.pop("citations", None)
    if out.get("citations"):
        out["citations"] = [
            {k: v for k, v in c.items() if k != "file_id"} for c in block["citations"]
        ]
    return out


def assert_accepted_by_anthropic(body: dict[str, Any]) -> None:
    from tests.conformance import documents

    problems = documents.operation(*MESSAGES_OPERATION).errors(body)
    assert not problems, problems


def next_turn(response: CompletionResponse, spec: ProviderSpec = SPEC) -> dict[str, Any]:
    """The request after `response`: its assistant turn, and a new user turn."""
    messages = [Message.user("first"), response.to_message(), Message.user("next")]
    return build(messages=messages, spec=spec, max_tokens=2048)


def test_parse_response_keeps_every_part_in_order() -> None:
    body = {
        "content": [
            {"type": "thinking", "thinking": "Let me think.", "signature": "sig-1"},
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "text", "text": "Hello "},
            {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}},
            {"type": "text", "text": "world", "citations": [WEB_CITATION]},
        ],
        "stop_reason": "end_turn",
    }
    response = DIALECT.parse_response(body, SPEC)
    assert response.parts == [
        ThinkingPart(text="Let me think.", signature="sig-1", provider="anthropic"),
        ThinkingPart(redacted="opaque", provider="anthropic"),
        TextPart(text="Hello "),
        TextPart(text="world", citations=[DIALECT_CITATION]),
    ]
    # the next turn sends the same blocks back, server blocks aside
    sent = next_turn(response)["messages"][1]["content"]
    assert sent == [as_request_block(b) for b in body["content"] if b["type"] in REQUEST_KEYS]


WEB_CITATION = {
    "type": "web_search_result_location",
    "cited_text": "Highs of 76°F",
    "url": "https://weather.example/sf",
    "title": "SF weather",
    "encrypted_index": "Eo8BCioIBxgC",
}
DIALECT_CITATION = Citation(
    type="web_search_result_location",
    cited_text="Highs of 76°F",
    url="https://weather.example/sf",
    title="SF weather",
    native=WEB_CITATION,
)


def test_a_char_location_citation_is_read_and_sent_back_without_file_id() -> None:
    citation = {
        "type": "char_location",
        "cited_text": "The grass is green.",
        "document_index": 0,
        "document_title": "Facts",
        "start_char_index": 0,
        "end_char_index": 20,
        "file_id": None,
    }
    body = {"content": [{"type": "text", "text": "Green.", "citations": [citation]}]}
    response = DIALECT.parse_response(body, SPEC)
    (part,) = response.parts
    assert isinstance(part, TextPart) and part.citations is not None
    (read,) = part.citations
    assert (read.type, read.cited_text, read.title, read.document_index) == (
        "char_location",
        "The grass is green.",
        "Facts",
        0,
    )
    assert (read.start, read.end) == (0, 20)
    request = next_turn(response)
    sent = request["messages"][1]["content"]
    assert sent == [
        {
            "type": "text",
            "text": "Green.",
            "citations": [as_request_block(body["content"][0])["citations"][0]],
        }
    ]
    assert "file_id" not in sent[0]["citations"][0]
    assert_accepted_by_anthropic(request)


@needs_cassettes
@pytest.mark.parametrize("body", [b for _, b in RECORDED], ids=[n[-70:] for n, _ in RECORDED])
def test_a_recorded_answer_goes_back_as_the_blocks_it_was(body: dict[str, Any]) -> None:
    response = DIALECT.parse_response(body, SPEC)
    request = next_turn(response)
    sent = request["messages"][1]["content"]
    expected = [
        as_request_block(b)
        for b in body["content"]
        if b["type"] in REQUEST_KEYS and (b["type"] != "text" or b["text"])
    ]
    if len(expected) == 1 and expected[0].keys() == {"type", "text"}:
        assert sent == expected[0]["text"]  # one plain text block is sent as a string
    else:
        assert sent == expected
    assert_accepted_by_anthropic(request)


@needs_cassettes
@pytest.mark.parametrize(
    "name",
    ["test_anthropic_model_thinking_part", "test_anthropic_model_thinking_part_redacted"],
)
def test_a_recorded_second_turn_is_rebuilt_from_the_first_answer(name: str) -> None:
    """pydantic-ai's second request of a thinking conversation, rebuilt from our parse of
    the first answer: the thinking (or redacted thinking) block goes back byte for byte."""
    first, second = yaml.safe_load((ANTHROPIC / f"test_anthropic__{name}.yaml").read_text())[
        "interactions"
    ][:2]
    recorded = second["request"]["parsed_body"]
    response = DIALECT.parse_response(first["response"]["parsed_body"], SPEC)
    question = recorded["messages"][0]["content"][0]["text"]
    follow_up = recorded["messages"][2]["content"][0]["text"]
    body = build(
        messages=[Message.user(question), response.to_message(), Message.user(follow_up)],
        model=recorded["model"],
        max_tokens=recorded["max_tokens"],
        options={"thinking": recorded["thinking"]},
    )
    assert body["messages"][1] == recorded["messages"][1]
    assert_accepted_by_anthropic(body)


def test_thinking_of_another_provider_is_not_sent_to_anthropic() -> None:
    """A signature is only good where it was made: another provider's thinking (and
    thinking without a signature) is dropped; its text is not sent either."""
    foreign = ThinkingPart(text="I reasoned.", signature="sig", provider="openrouter")
    unsigned = ThinkingPart(text="Plain reasoning.", provider="anthropic")
    message = Message.assistant()
    message.content = [foreign, unsigned, TextPart(text="Answer.")]
    body = build(messages=[Message.user("q"), message, Message.user("more")])
    assert body["messages"][1] == {"role": "assistant", "content": "Answer."}


def test_cache_breakpoints_on_system_tools_parts_and_tool_results() -> None:
    tool = Tool.from_model(Weather).model_copy(update={"cache": CacheControl(ttl="1h")})
    request = build(
        messages=[
            Message.system([TextPart(text="Be brief.", cache=True)]),
            Message.system("Use metric units."),
            Message.user(
                [
                    TextPart(text="A long document ...", cache=CacheControl(ttl="1h")),
                    TextPart(text="Sum it up."),
                ]
            ),
            Message.assistant(
                "", tool_calls=[ToolCall(id="t1", name="Weather", arguments={"city": "Oslo"})]
            ),
            Message.tool("t1", [TextPart(text="4°C", cache=True)]),
        ],
        tools=[tool],
    )
    assert request["system"] == [
        {"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "Use metric units."},
    ]
    assert request["tools"][0]["cache_control"] == {"type": "ephemeral", "ttl": "1h"}
    assert request["messages"][0]["content"] == [
        {
            "type": "text",
            "text": "A long document ...",
            "cache_control": {"type": "ephemeral", "ttl": "1h"},
        },
        {"type": "text", "text": "Sum it up."},
    ]
    (result,) = request["messages"][2]["content"]
    assert result["content"] == [
        {"type": "text", "text": "4°C", "cache_control": {"type": "ephemeral"}}
    ]
    assert_accepted_by_anthropic(request)


def test_a_tool_result_with_an_image_and_an_error_flag() -> None:
    request = build(
        messages=[
            Message.user("Screenshot the page."),
            Message.assistant("", tool_calls=[ToolCall(id="t1", name="shot", arguments={})]),
            Message.tool(
                "t1",
                [TextPart(text="Partial render:"), ImagePart.from_bytes(PNG)],
                is_error=True,
            ),
        ]
    )
    (result,) = request["messages"][2]["content"]
    assert result["is_error"] is True
    assert [b["type"] for b in result["content"]] == ["text", "image"]
    assert result["content"][1]["source"]["type"] == "base64"
    # a plain failed result: text and the flag
    plain = build(
        messages=[
            Message.user("go"),
            Message.assistant("", tool_calls=[ToolCall(id="t1", name="shot", arguments={})]),
            Message.tool("t1", "timed out", is_error=True),
        ]
    )["messages"][2]["content"][0]
    assert (plain["content"], plain["is_error"]) == ("timed out", True)
    ok = build(messages=tool_history())["messages"][2]["content"][0]
    assert "is_error" not in ok
    assert_accepted_by_anthropic(request)


def test_stream_parts_thinking_redacted_text_and_citations() -> None:
    events = sse(
        message_start(input_tokens=5, output_tokens=1),
        block_start(0, {"type": "thinking", "thinking": "", "signature": ""}),
        delta(0, {"type": "thinking_delta", "thinking": "Hmm, "}),
        delta(0, {"type": "thinking_delta", "thinking": "four."}),
        delta(0, {"type": "signature_delta", "signature": "sig-a"}),
        stop(0),
        block_start(1, {"type": "redacted_thinking", "data": "opaque"}),
        stop(1),
        block_start(2, {"type": "text", "text": ""}),
        delta(2, {"type": "text_delta", "text": "It is "}),
        stop(2),
        block_start(3, {"type": "text", "text": "", "citations": []}),
        delta(3, {"type": "citations_delta", "citation": WEB_CITATION}),
        delta(3, {"type": "text_delta", "text": "76°F"}),
        stop(3),
        block_start(4, {"type": "thinking", "thinking": "", "signature": ""}),
        delta(4, {"type": "thinking_delta", "thinking": "Then a tool."}),
        delta(4, {"type": "signature_delta", "signature": "sig-b"}),
        stop(4),
        block_start(5, {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}),
        delta(5, {"type": "input_json_delta", "partial_json": '{"x": 1}'}),
        stop(5),
        message_delta("tool_use", output_tokens=9),
        ("message_stop", {"type": "message_stop"}),
    )
    response = fold(run(events)[1])
    assert response.parts == [
        ThinkingPart(text="Hmm, four.", signature="sig-a", provider="anthropic"),
        ThinkingPart(redacted="opaque", provider="anthropic"),
        TextPart(text="It is "),
        TextPart(text="76°F", citations=[DIALECT_CITATION]),
        ThinkingPart(text="Then a tool.", signature="sig-b", provider="anthropic"),
    ]
    assert (response.content, response.reasoning) == ("It is 76°F", "Hmm, four.Then a tool.")
    assert response.reasoning_signature == "sig-b"
    sent = next_turn(response)["messages"][1]["content"]
    assert sent == [
        {"type": "thinking", "thinking": "Hmm, four.", "signature": "sig-a"},
        {"type": "redacted_thinking", "data": "opaque"},
        {"type": "text", "text": "It is "},
        {"type": "text", "text": "76°F", "citations": [WEB_CITATION]},
        {"type": "thinking", "thinking": "Then a tool.", "signature": "sig-b"},
        {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"x": 1}},
    ]


def test_stream_citation_of_the_wrong_shape_is_a_decode_error() -> None:
    events = sse(
        message_start(),
        block_start(0, {"type": "text", "text": "", "citations": "many"}),
    )
    with pytest.raises(StreamDecodeError, match="citations"):
        run(events)


def sdk_parts(sdk: Any) -> list[Any]:
    """The SDK's blocks as modelwire's parts would hold them."""
    parts: list[Any] = []
    for block in sdk.content:
        if block.type == "thinking":
            parts.append(
                ThinkingPart(
                    text=block.thinking, signature=block.signature or None, provider="anthropic"
                )
            )
        elif block.type == "redacted_thinking":
            parts.append(ThinkingPart(redacted=block.data, provider="anthropic"))
        elif block.type == "text":
            citations = [c.to_dict() for c in block.citations or ()]
            parts.append((block.text, citations))
    return parts


def our_parts(response: CompletionResponse) -> list[Any]:
    return [
        (p.text, [c.native for c in p.citations or ()]) if isinstance(p, TextPart) else p
        for p in response.parts
    ]


@needs_cassettes
@pytest.mark.parametrize("data", [d for _, d in STREAMS], ids=[n[-70:] for n, _ in STREAMS])
def test_recorded_stream_parts_match_the_official_sdk(data: bytes) -> None:
    """Thinking with its signature, redacted thinking and text with its citations, as
    anthropic-sdk-python accumulates them from the same bytes."""
    pytest.importorskip("anthropic")
    events = decode(data)
    ours = fold(run(events)[1])
    assert our_parts(ours) == sdk_parts(sdk_message(events))


@needs_cassettes
def test_recorded_redacted_thinking_stream_goes_back_whole() -> None:
    streams = dict(STREAMS)
    data = streams["test_anthropic__test_anthropic_model_thinking_part_redacted_stream#0"]
    response = fold(run(decode(data))[1])
    (redacted, *_) = response.parts
    assert isinstance(redacted, ThinkingPart) and redacted.redacted
    request = next_turn(response)
    assert request["messages"][1]["content"][0] == {
        "type": "redacted_thinking",
        "data": redacted.redacted,
    }
    assert_accepted_by_anthropic(request)


@needs_cassettes
def test_recorded_web_search_stream_keeps_its_citations() -> None:
    streams = dict(STREAMS)
    data = streams["test_anthropic__test_anthropic_model_web_search_tool_stream#0"]
    response = fold(run(decode(data))[1])
    cited = [p for p in response.parts if isinstance(p, TextPart) and p.citations]
    assert cited
    citation = cited[0].citations[0] if cited[0].citations else None
    assert citation is not None and citation.type == "web_search_result_location"
    assert citation.url and citation.url.startswith("http") and citation.cited_text


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_a_thinking_and_tools_loop_sends_back_exactly_the_blocks_it_received(
    asynchronous: bool,
) -> None:
    """Anthropic requires the last assistant turn's thinking blocks in a tool loop with
    thinking on: `messages.append(response.to_message())` is all it takes."""
    import asyncio

    import httpx
    import modelwire

    first = {
        **ANTHROPIC_TEXT,
        "content": [
            {"type": "thinking", "thinking": "Need the weather.", "signature": "EqQBsig"},
            {"type": "redacted_thinking", "data": "EmwKAhgBopaque"},
            {"type": "text", "text": "Checking."},
            {"type": "tool_use", "id": "toolu_1", "name": "Weather", "input": {"city": "Oslo"}},
        ],
        "stop_reason": "tool_use",
    }
    answers = iter([first, ANTHROPIC_TEXT])
    wire = Wire(lambda request: httpx.Response(200, json=next(answers)))
    fields: dict[str, Any] = {
        "tools": [Tool.from_model(Weather)],
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "max_tokens": 2048,
    }
    messages: list[Any] = [Message.user("Weather in Oslo?")]

    def loop(response: CompletionResponse) -> None:
        messages.append(response.to_message())
        messages.append(Message.tool(response.tool_calls[0].id, "4°C"))

    if asynchronous:

        async def main() -> None:
            http = httpx.AsyncClient(transport=httpx.MockTransport(wire))
            async with modelwire.async_client(
                "anthropic", http_client=http, max_retries=0, **KEYS["anthropic"]
            ) as client:
                loop(await client.complete(messages=messages, **fields))
                await client.complete(messages=messages, **fields)

        asyncio.run(main())
    else:
        client = wire.client("anthropic", **KEYS["anthropic"])
        loop(client.complete(messages=messages, **fields))
        client.complete(messages=messages, **fields)
    body = wire.body
    assert body["messages"][1] == {"role": "assistant", "content": first["content"]}
    assert body["messages"][2]["content"][0]["tool_use_id"] == "toolu_1"
    assert_accepted_by_anthropic(body)
