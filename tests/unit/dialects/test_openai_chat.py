"""The OpenAI chat completions dialect (`modelwire.dialects.openai_chat`): the request body
built from a unified request and a spec, a response body parsed, and the stream parser fed
one event at a time (fast path, usage-only chunk, [DONE], error chunks, malformed events)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from modelwire import CapabilityError, DocumentPart, ImagePart, Tool
from modelwire._core.accumulate import Accumulator
from modelwire._framing import ServerSentEvent
from modelwire.dialects.openai_chat import DIALECT, OpenAIStreamParser
from modelwire.errors import StreamDecodeError, StreamEventError, UnexpectedResponseError
from modelwire.providers import deepseek, llamacpp, openai, openrouter
from modelwire.spec import ProviderSpec
from modelwire.types import (
    CacheControl,
    CompletionRequest,
    CompletionResponse,
    Message,
    NamedToolChoice,
    ResponseFormat,
    StreamingChunk,
    TextPart,
    ThinkingPart,
    ToolCall,
    ToolCallDelta,
    Usage,
)

from tests.cassettes.converted import shared_source_dir
from tests.conformance import documents
from tests.unit.support import (
    KEYS,
    OPENAI_TEXT,
    PNG,
    Weather,
    Wire,
    image_message,
    json_answer,
    no_io,
    tool_history,
)

HI = [Message.user("hi")]


def spec_with(base: ProviderSpec = openai.SPEC, **sections: dict[str, Any]) -> ProviderSpec:
    """`base` with some fields of its `capabilities` or `limits` changed."""
    update = {
        name: getattr(base, name).model_copy(update=values) for name, values in sections.items()
    }
    return base.model_copy(update=update)


def build(
    spec: ProviderSpec = openai.SPEC, *, stream: bool = False, **fields: Any
) -> dict[str, Any]:
    request = CompletionRequest(
        model=fields.pop("model", "gpt-4o-mini"), **{"messages": HI, **fields}
    )
    return DIALECT.build_request(request, spec, stream=stream)


# --------------------------------------------------------------------------- the request


def test_the_smallest_request_is_model_and_messages() -> None:
    assert build() == {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def test_messages_of_every_role() -> None:
    call = ToolCall(id="call_9", name="lookup", arguments={"q": "x", "n": 2})
    body = build(
        messages=[
            Message.system("Be brief."),
            Message(role="user", content="hello", name="ada"),
            Message.assistant("Let me look.", tool_calls=[call]),
            Message.tool("call_9", "found it", name="lookup"),
            Message(role="assistant", content="Done.", reasoning="I looked it up."),
        ]
    )
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hello", "name": "ada"},
        {
            "role": "assistant",
            "content": "Let me look.",
            "tool_calls": [
                {
                    "id": "call_9",
                    "type": "function",
                    "function": {"name": "lookup", "arguments": '{"q":"x","n":2}'},
                }
            ],
        },
        # a tool result carries its call's id, not the tool's name
        {"role": "tool", "tool_call_id": "call_9", "content": "found it"},
        # reasoning from an earlier turn is not sent back to chat completions
        {"role": "assistant", "content": "Done."},
    ]


def test_an_assistant_turn_with_only_tool_calls_has_null_content() -> None:
    call = ToolCall(id="c1", name="lookup")
    (_, assistant, _) = build(
        messages=[
            Message.user("q"),
            Message.assistant("", tool_calls=[call]),
            Message.tool("c1", "r"),
        ]
    )["messages"]
    assert assistant["content"] is None
    assert assistant["tool_calls"][0]["function"]["arguments"] == "{}"


def test_content_parts_text_image_url_and_bytes_as_data_url() -> None:
    parts = [
        TextPart(text="Compare"),
        ImagePart(url="https://x.test/a.png"),
        ImagePart.from_bytes(PNG, media_type="image/jpeg"),
    ]
    (message,) = build(messages=[Message.user(parts)])["messages"]
    assert message["content"] == [
        {"type": "text", "text": "Compare"},
        {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}},
        {
            "type": "image_url",
            "image_url": {"url": "data:image/jpeg;base64," + ImagePart.from_bytes(PNG).base64()},
        },
    ]


def test_a_tool_result_given_as_parts_is_sent_as_its_text() -> None:
    parts = [TextPart(text="part one, "), TextPart(text="part two")]
    call = ToolCall(id="c1", name="lookup")
    body = build(
        messages=[
            Message.user("q"),
            Message.assistant("", tool_calls=[call]),
            Message(role="tool", tool_call_id="c1", content=parts),
        ]
    )
    assert body["messages"][2] == {
        "role": "tool",
        "tool_call_id": "c1",
        "content": "part one, part two",
    }


def test_sampling_fields_only_when_set_zero_included() -> None:
    body = build(temperature=0.0, top_p=0.5, stop="END", seed=7, parallel_tool_calls=False)
    assert (body["temperature"], body["top_p"], body["stop"], body["seed"]) == (
        0.0,
        0.5,
        ["END"],
        7,
    )
    assert body["parallel_tool_calls"] is False
    assert not {"temperature", "top_p", "stop", "seed", "parallel_tool_calls"} & set(build())


def test_max_tokens_goes_under_the_specs_field() -> None:
    # OpenAI's newer models take max_completion_tokens; llama.cpp the classic max_tokens
    assert openai.SPEC.limits.max_tokens_field == "max_completion_tokens"
    body = build(openai.SPEC, max_tokens=50)
    assert body["max_completion_tokens"] == 50 and "max_tokens" not in body
    body = build(llamacpp.SPEC, max_tokens=50)
    assert body["max_tokens"] == 50 and "max_completion_tokens" not in body


def test_max_tokens_default_from_the_spec_and_absent_without_one() -> None:
    spec = spec_with(limits={"default_max_tokens": 256})
    assert build(spec)["max_completion_tokens"] == 256
    assert build(spec, max_tokens=9)["max_completion_tokens"] == 9
    assert "max_completion_tokens" not in build(openai.SPEC)


def test_tools_with_strict_only_when_given() -> None:
    loose = Tool(name="find", description="Find a thing.", parameters={"type": "object"})
    strict = Tool(name="get", parameters={"type": "object", "properties": {}}, strict=True)
    assert build(tools=[loose, strict])["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "find",
                "description": "Find a thing.",
                "parameters": {"type": "object"},
            },
        },
        {
            "type": "function",
            "function": {
                "name": "get",
                "description": "",
                # a strict tool's parameters are sent in the strict form the API requires
                "parameters": {
                    "type": "object",
                    "properties": {},
                    "additionalProperties": False,
                    "required": [],
                },
                "strict": True,
            },
        },
    ]


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        (NamedToolChoice(name="find"), {"type": "function", "function": {"name": "find"}}),
        ("find", {"type": "function", "function": {"name": "find"}}),  # a bare tool name
    ],
)
def test_tool_choice(choice: Any, wire: Any) -> None:
    tools = [Tool(name="find")]
    assert build(tools=tools, tool_choice=choice)["tool_choice"] == wire


def test_no_tools_and_no_tool_choice_keys_by_default() -> None:
    assert not {"tools", "tool_choice"} & set(build())


def test_response_format_json_schema_where_the_spec_has_it() -> None:
    fmt = ResponseFormat.from_model(Weather)
    sent = build(response_format=fmt)["response_format"]
    assert sent["type"] == "json_schema"
    assert (sent["json_schema"]["name"], sent["json_schema"]["strict"]) == ("Weather", True)
    # the strict form: closed, every property required, the default left out
    schema = sent["json_schema"]["schema"]
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["city", "unit"]
    assert schema["properties"]["unit"] == {"title": "Unit", "type": "string"}
    loose = ResponseFormat(name="any", json_schema={"type": "object"}, strict=False)
    assert build(response_format=loose)["response_format"]["json_schema"]["strict"] is False


def test_response_format_json_mode_with_the_schema_where_the_spec_has_no_json_schema() -> None:
    assert llamacpp.SPEC.capabilities.structured_output == "json_object"
    body = build(llamacpp.SPEC, response_format=ResponseFormat.from_model(Weather))
    assert body["response_format"] == {"type": "json_object", "schema": Weather.model_json_schema()}


def test_response_format_json_object_is_json_mode_everywhere() -> None:
    assert build(response_format="json")["response_format"] == {"type": "json_object"}
    assert build(llamacpp.SPEC, response_format="json")["response_format"] == {
        "type": "json_object"
    }


def test_stream_flag_and_stream_options_only_when_the_spec_says_stream_usage() -> None:
    assert openai.SPEC.capabilities.stream_usage and not llamacpp.SPEC.capabilities.stream_usage
    body = build(openai.SPEC, stream=True)
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    body = build(llamacpp.SPEC, stream=True)
    assert body["stream"] is True and "stream_options" not in body
    assert not {"stream", "stream_options"} & set(build(openai.SPEC, stream=False))


def test_options_at_their_wire_path_then_extra_body_last() -> None:
    spec = openai.SPEC.model_copy(
        update={
            "options": [
                *openai.SPEC.options,
                openai.SPEC.options[0].model_copy(update={"name": "nested", "wire": "a.b.c"}),
            ]
        }
    )
    body = build(spec, options={"user": "u-1", "nested": 1}, extra_body={"model": "other", "x": 1})
    assert body["user"] == "u-1"
    assert body["a"] == {"b": {"c": 1}}
    assert (body["model"], body["x"]) == ("other", 1)  # extra_body wins over every field


# --------------------------------------------------------------------------- the response


def answer(message: dict[str, Any], finish: str | None = "stop", **body: Any) -> dict[str, Any]:
    return {
        "id": "c1",
        "model": "m",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        **body,
    }


def test_parse_text_response() -> None:
    body = answer(
        {"role": "assistant", "content": "hello"},
        usage={"prompt_tokens": 5, "completion_tokens": 2},
    )
    response = DIALECT.parse_response(body, openai.SPEC)
    assert (response.id, response.model, response.content) == ("c1", "m", "hello")
    assert (response.finish_reason, response.raw_finish_reason) == ("stop", "stop")
    assert response.usage == Usage(input_tokens=5, output_tokens=2)
    assert response.tool_calls == [] and response.reasoning is None
    assert response.raw is body


@pytest.mark.parametrize(
    ("raw", "finish"),
    [
        ("stop", "stop"),
        ("length", "length"),
        ("tool_calls", "tool_calls"),
        ("function_call", "tool_calls"),
        ("content_filter", "content_filter"),
        ("error", "error"),
        ("something_new", "other"),
        (None, None),
    ],
)
def test_finish_reason_mapping(raw: str | None, finish: str | None) -> None:
    response = DIALECT.parse_response(answer({"content": "x"}, raw), openai.SPEC)
    assert (response.finish_reason, response.raw_finish_reason) == (finish, raw)


def test_null_content_and_no_choices_parse_to_empty() -> None:
    assert DIALECT.parse_response(answer({"content": None}), openai.SPEC).content == ""
    empty = DIALECT.parse_response({"id": "c2", "choices": []}, openai.SPEC)
    assert (empty.id, empty.content, empty.finish_reason, empty.usage) == ("c2", "", None, None)


def test_parse_tool_calls_with_missing_ids_and_odd_arguments() -> None:
    calls = [
        {"id": "a", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}},
        {"type": "function", "function": {"name": "g", "arguments": "not json"}},
        {"type": "function", "function": {"name": "h", "arguments": "[1, 2]"}},
        {"type": "function", "function": {"name": "k", "arguments": ""}},
    ]
    response = DIALECT.parse_response(
        answer({"content": None, "tool_calls": calls}, "tool_calls"), openai.SPEC
    )
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [
        ("a", "f", {"x": 1}),
        ("call_1", "g", {"_raw": "not json"}),  # kept, not lost
        ("call_2", "h", {"_value": [1, 2]}),
        ("call_3", "k", {}),
    ]


def test_usage_details_reasoning_and_cached_tokens() -> None:
    usage = {
        "prompt_tokens": 100,
        "completion_tokens": 40,
        "completion_tokens_details": {"reasoning_tokens": 30},
        "prompt_tokens_details": {"cached_tokens": 64},
    }
    response = DIALECT.parse_response(answer({"content": "x"}, usage=usage), openai.SPEC)
    assert response.usage == Usage(
        input_tokens=100, output_tokens=40, reasoning_tokens=30, cache_read_tokens=64
    )
    assert response.usage.total_tokens == 140


@pytest.mark.parametrize(
    ("message", "reasoning"),
    [
        ({"content": "x", "reasoning_content": "via llama.cpp"}, "via llama.cpp"),
        ({"content": "x", "reasoning": "via OpenRouter"}, "via OpenRouter"),
        (
            {"content": "x", "reasoning_details": [{"text": "one, "}, {"summary": "two"}, {}]},
            "one, two",
        ),
        ({"content": "x", "reasoning_details": [{}]}, None),
        ({"content": "x"}, None),
    ],
)
def test_reasoning_in_each_of_its_spellings(message: dict[str, Any], reasoning: str | None) -> None:
    assert DIALECT.parse_response(answer(message), openai.SPEC).reasoning == reasoning


def test_wire_check_of_a_response_without_choices() -> None:
    DIALECT.check_wire("response", answer({"content": "x"}), "openai")
    with pytest.raises(
        UnexpectedResponseError, match=r"response .*choices: Field required"
    ) as info:
        DIALECT.check_wire("response", {"id": "c1"}, "openai")
    assert info.value.provider == "openai" and info.value.body == {"id": "c1"}


# --------------------------------------------------------------------------- the stream parser


def event(data: Any) -> ServerSentEvent:
    return ServerSentEvent(data if isinstance(data, bytes) else json.dumps(data).encode())


def delta_event(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> ServerSentEvent:
    return event(
        {
            "id": "c1",
            "model": "gpt-4o-mini",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
    )


DONE = ServerSentEvent(b"[DONE]")


def test_fast_path_text_delta() -> None:
    parser = OpenAIStreamParser()
    data = {
        "id": "c1",
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": {"content": "Hel"}}],
    }
    chunk = parser.parse(event(data))
    assert chunk == StreamingChunk(content="Hel", model="gpt-4o-mini", id="c1", raw=data)
    assert parser.model == "gpt-4o-mini" and not parser.finished


def test_fast_path_drops_metadata_of_the_wrong_type() -> None:
    chunk = OpenAIStreamParser().parse(
        event({"id": 7, "model": 8, "choices": [{"delta": {"content": "x"}}]})
    )
    assert chunk is not None and (chunk.content, chunk.model, chunk.id) == ("x", None, None)


def test_done_is_the_final_chunk_with_what_came_before() -> None:
    parser = OpenAIStreamParser()
    parser.parse(delta_event({"role": "assistant", "content": "Hi"}))
    last = parser.parse(delta_event({}, "length"))
    assert last is not None and (last.finish_reason, last.raw_finish_reason) == ("length", "length")
    assert not last.is_final and not parser.finished
    final = parser.parse(DONE)
    assert parser.finished
    assert final == StreamingChunk(
        is_final=True, model="gpt-4o-mini", finish_reason="length", raw_finish_reason="length"
    )


def test_usage_only_chunk_then_done() -> None:
    parser = OpenAIStreamParser()
    parser.parse(delta_event({"content": "Hi"}, "stop"))
    usage = {"prompt_tokens": 9, "completion_tokens": 1, "total_tokens": 10}
    data = {"id": "c1", "model": "gpt-4o-mini", "choices": [], "usage": usage}
    chunk = parser.parse(event(data))
    assert chunk == StreamingChunk(
        model="gpt-4o-mini", usage=Usage(input_tokens=9, output_tokens=1), id="c1", raw=data
    )
    final = parser.parse(DONE)
    assert final is not None and final.usage == Usage(input_tokens=9, output_tokens=1)
    assert final.finish_reason == "stop"


def test_usage_on_the_finish_chunk_and_under_x_groq() -> None:
    parser = OpenAIStreamParser()
    chunk = parser.parse(
        delta_event({}, "stop", x_groq={"usage": {"prompt_tokens": 3, "completion_tokens": 4}})
    )
    assert chunk is not None and chunk.usage == Usage(input_tokens=3, output_tokens=4)
    assert chunk.finish_reason == "stop"
    final = parser.parse(DONE)
    assert final is not None and final.usage == Usage(input_tokens=3, output_tokens=4)


def test_a_text_delta_carrying_usage_leaves_the_fast_path() -> None:
    # the fast path would drop the usage: a delta with x_groq (or usage) takes the full one
    parser = OpenAIStreamParser()
    groq_usage = {"x_groq": {"usage": {"prompt_tokens": 1, "completion_tokens": 2}}}
    chunk = parser.parse(delta_event({"content": "x"}, **groq_usage))
    assert chunk is not None and (chunk.content, chunk.usage) == (
        "x",
        Usage(input_tokens=1, output_tokens=2),
    )
    chunk = parser.parse(
        delta_event({"content": "y"}, usage={"prompt_tokens": 3, "completion_tokens": 4})
    )
    assert chunk is not None and chunk.usage == Usage(input_tokens=3, output_tokens=4)


def test_a_chunk_with_neither_choices_nor_usage_yields_nothing() -> None:
    parser = OpenAIStreamParser()
    assert parser.parse(event({"id": "c1", "choices": []})) is None
    assert parser.parse(event({"id": "c1"})) is None
    assert parser.parse(event([1, 2])) is None  # JSON, but not an object
    assert not parser.finished


def test_tool_call_deltas() -> None:
    parser = OpenAIStreamParser()
    first = parser.parse(
        delta_event(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_a",
                        "type": "function",
                        "function": {"name": "f", "arguments": ""},
                    }
                ]
            }
        )
    )
    second = parser.parse(
        delta_event({"tool_calls": [{"index": 0, "function": {"arguments": '{"x":'}}]})
    )
    # some servers send the arguments as an object, and no index
    third = parser.parse(
        delta_event(
            {"tool_calls": [{"id": "call_b", "function": {"name": "g", "arguments": {"y": [1]}}}]}
        )
    )
    assert first is not None and second is not None and third is not None
    assert first.tool_calls == (ToolCallDelta(index=0, id="call_a", name="f", arguments=""),)
    assert second.tool_calls == (ToolCallDelta(index=0, arguments='{"x":'),)
    assert third.tool_calls == (
        ToolCallDelta(index=0, id="call_b", name="g", arguments='{"y":[1]}'),
    )


def test_tool_call_deltas_beside_an_empty_content() -> None:
    delta = {"content": "", "tool_calls": [{"index": 0, "id": "c", "function": {"name": "f"}}]}
    chunk = OpenAIStreamParser().parse(delta_event(delta))
    assert chunk is not None and chunk.tool_calls == (ToolCallDelta(index=0, id="c", name="f"),)


@pytest.mark.parametrize("key", ["reasoning_content", "reasoning"])
@pytest.mark.parametrize("content", [{}, {"content": ""}], ids=["no-content", "empty-content"])
def test_reasoning_deltas(key: str, content: dict[str, str]) -> None:
    # servers send reasoning with an empty content beside it: never a text delta
    chunk = OpenAIStreamParser().parse(delta_event({**content, key: "thinking..."}))
    assert chunk is not None and (chunk.reasoning, chunk.content) == ("thinking...", "")


def test_reasoning_details_delta() -> None:
    details = {"content": "", "reasoning_details": [{"text": "a"}, {"summary": "b"}]}
    chunk = OpenAIStreamParser().parse(delta_event(details))
    assert chunk is not None and chunk.reasoning == "ab"


def test_an_error_object_in_a_chunk_raises_a_stream_event_error() -> None:
    data = {
        "id": "c1",
        "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": None}],
        "error": {"message": "upstream overloaded", "type": "server_error", "code": 502},
    }
    with pytest.raises(StreamEventError, match="upstream overloaded") as info:
        OpenAIStreamParser().parse(event(data))
    assert (info.value.error_type, info.value.error_code) == ("server_error", "502")
    assert info.value.body == data


def test_an_error_without_a_message_is_still_named() -> None:
    with pytest.raises(StreamEventError, match=r'"code": "E42"'):
        OpenAIStreamParser().parse(event({"error": {"code": "E42"}}))


def test_finish_reason_error_raises() -> None:
    with pytest.raises(StreamEventError, match="reported an error mid-stream"):
        OpenAIStreamParser().parse(delta_event({}, "error"))


def test_invalid_json_is_a_decode_error() -> None:
    with pytest.raises(StreamDecodeError, match="not valid JSON"):
        OpenAIStreamParser().parse(event(b'{"choices": [{"delta": '))
    with pytest.raises(StreamDecodeError, match="not valid JSON or not UTF-8"):
        OpenAIStreamParser().parse(event(b'{"x": "\xff"}'))


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"choices": [{"delta": {"content": 5}, "finish_reason": "stop"}]}, "delta.content is int"),
        ({"choices": [{"delta": {}, "finish_reason": 1}]}, "finish_reason is int"),
        ({"choices": [{"delta": {"reasoning": ["a"]}}]}, "delta.reasoning is list"),
        (
            {"choices": [{"delta": {"tool_calls": [{"index": "0"}]}}]},
            r"tool_calls\[0\]\.index is str",
        ),
        (
            {"choices": [{"delta": {"tool_calls": [{"index": True}]}}]},
            r"tool_calls\[0\]\.index is bool",
        ),
        ({"choices": [{"delta": {"tool_calls": [{"id": 3}]}}]}, "tool_calls.id is int"),
        (
            {"choices": [{"delta": {"tool_calls": [{"function": {"name": 3}}]}}]},
            "tool_calls.function.name is int",
        ),
        (
            {"choices": [{"delta": {"tool_calls": [{"function": {"arguments": 3}}]}}]},
            "arguments is int",
        ),
        ({"choices": ["not an object"]}, "chat.completion.chunk shape"),
        ({"choices": [{"delta": "text"}]}, "chat.completion.chunk shape"),
    ],
)
def test_a_chunk_of_the_wrong_shape_is_a_decode_error(data: dict[str, Any], problem: str) -> None:
    with pytest.raises(StreamDecodeError, match=problem) as info:
        OpenAIStreamParser().parse(event(data))
    assert "chat.completion.chunk shape" in info.value.message
    assert info.value.body == json.dumps(data)[:200]


def test_a_whole_stream_accumulates() -> None:
    parser, accumulator = OpenAIStreamParser(), Accumulator()
    events = [
        delta_event({"role": "assistant", "content": ""}),
        delta_event({"content": "The answer"}),
        delta_event({"content": " is"}),
        delta_event(
            {
                "tool_calls": [
                    {"index": 0, "id": "t", "function": {"name": "f", "arguments": '{"a"'}}
                ]
            }
        ),
        delta_event({"tool_calls": [{"index": 0, "function": {"arguments": ": 1}"}}]}),
        delta_event({}, "tool_calls"),
        event({"id": "c1", "choices": [], "usage": {"prompt_tokens": 2, "completion_tokens": 3}}),
        DONE,
    ]
    for item in events:
        chunk = parser.parse(item)
        if chunk is not None:
            accumulator.add(chunk)
    response = accumulator.snapshot()
    assert parser.finished
    assert (response.content, response.model, response.id) == ("The answer is", "gpt-4o-mini", "c1")
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [("t", "f", {"a": 1})]
    assert response.finish_reason == "tool_calls"
    assert response.usage == Usage(input_tokens=2, output_tokens=3)


# --------------------------------------------------------------------------- through the client


def test_tool_round_trip_openai_wire() -> None:
    wire = Wire(json_answer(OPENAI_TEXT))
    wire.client("openai", **KEYS["openai"]).complete(
        model="gpt-4o-mini",
        messages=tool_history(),
        tools=[Tool.from_model(Weather)],
        tool_choice="Weather",
    )
    body = wire.body
    assert body["tools"][0]["function"]["name"] == "Weather"
    assert body["tools"][0]["function"]["parameters"]["required"] == ["city"]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "Weather"}}
    assistant, result = body["messages"][2], body["messages"][3]
    assert assistant["tool_calls"][0]["function"] == {
        "name": "Weather",
        "arguments": '{"city":"Paris"}',
    }
    assert result == {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 21}'}


def test_parallel_tool_calls_are_parsed() -> None:
    answer = {
        **OPENAI_TEXT,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "a",
                            "type": "function",
                            "function": {"name": "Weather", "arguments": '{"city":"Oslo"}'},
                        },
                        {
                            "id": "b",
                            "type": "function",
                            "function": {"name": "Weather", "arguments": '{"city":"Rome"}'},
                        },
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
    }
    wire = Wire(json_answer(answer))
    response = wire.client("openai", **KEYS["openai"]).complete(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "both"}],
        tools=[Tool.from_model(Weather)],
    )
    assert [(c.id, c.arguments["city"]) for c in response.tool_calls] == [
        ("a", "Oslo"),
        ("b", "Rome"),
    ]
    assert response.finish_reason == "tool_calls"


def test_structured_output_openai_json_schema() -> None:
    answer = {
        **OPENAI_TEXT,
        "choices": [
            {"index": 0, "message": {"content": '{"city":"Oslo"}'}, "finish_reason": "stop"}
        ],
    }
    wire = Wire(json_answer(answer))
    response = wire.client("openai", **KEYS["openai"]).complete(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], response_format=Weather
    )
    assert response.parsed == Weather(city="Oslo")
    fmt = wire.body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "Weather"


def test_structured_output_llamacpp_uses_json_mode_with_schema() -> None:
    answer = {
        **OPENAI_TEXT,
        "choices": [
            {"index": 0, "message": {"content": '{"city":"Oslo"}'}, "finish_reason": "stop"}
        ],
    }
    wire = Wire(json_answer(answer))
    response = wire.client("llamacpp").complete(
        messages=[{"role": "user", "content": "x"}], response_format=Weather
    )
    assert response.parsed == Weather(city="Oslo")
    assert wire.body["response_format"]["type"] == "json_object"
    assert wire.body["response_format"]["schema"]["required"] == ["city"]


def test_images_in_each_dialect_openai() -> None:
    wire = Wire(json_answer(OPENAI_TEXT))
    wire.client("openai", **KEYS["openai"]).complete(
        model="gpt-4o", messages=image_message(ImagePart(url="https://x.test/a.png"))
    )
    assert wire.body["messages"][0]["content"][1] == {
        "type": "image_url",
        "image_url": {"url": "https://x.test/a.png"},
    }


def test_reasoning_is_kept_apart_in_responses_openai() -> None:
    answer = {
        **OPENAI_TEXT,
        "choices": [
            {
                "index": 0,
                "message": {"content": "42", "reasoning_content": "hmm"},
                "finish_reason": "stop",
            }
        ],
    }
    response = (
        Wire(json_answer(answer))
        .client("lmstudio")
        .complete(model="qwen3", messages=[{"role": "user", "content": "x"}])
    )
    assert (response.content, response.reasoning) == ("42", "hmm")


def test_the_fast_path_agrees_with_the_full_path() -> None:
    from modelwire._framing import ServerSentEvent
    from modelwire.dialects.openai_chat import OpenAIStreamParser

    plain = b'{"id":"c1","model":"m","choices":[{"index":0,"delta":{"content":"tok"}}]}'
    # the same delta with a harmless extra field that sends it down the full path
    full = b'{"id":"c1","model":"m","x_groq":{},"choices":[{"index":0,"delta":{"content":"tok"}}]}'
    fast_chunk = OpenAIStreamParser().parse(ServerSentEvent(plain))
    full_chunk = OpenAIStreamParser().parse(ServerSentEvent(full))
    assert fast_chunk is not None and full_chunk is not None
    assert (fast_chunk.content, fast_chunk.model, fast_chunk.id) == ("tok", "m", "c1")
    full_chunk.raw = fast_chunk.raw
    assert fast_chunk == full_chunk


# --------------------------------------------------------------------------- spec-driven wire keys


def test_the_seed_goes_under_the_specs_seed_field() -> None:
    assert build(seed=7)["seed"] == 7
    body = build(spec_with(limits={"seed_field": "random_seed"}), seed=7)
    assert body["random_seed"] == 7 and "seed" not in body
    assert "random_seed" not in build(spec_with(limits={"seed_field": "random_seed"}))


def test_json_mode_without_the_schema_where_the_spec_says_so() -> None:
    fmt = ResponseFormat.from_model(Weather)
    bare = spec_with(
        llamacpp.SPEC,
        capabilities={"structured_output": "json_object", "schema_in_json_mode": False},
    )
    assert build(bare, response_format=fmt)["response_format"] == {"type": "json_object"}
    assert "schema" in build(llamacpp.SPEC, response_format=fmt)["response_format"]


def test_earlier_reasoning_is_sent_back_only_under_the_specs_field() -> None:
    history = [
        Message.user("17 * 19?"),
        Message(role="assistant", content="323", reasoning="17 * 19 = 323"),
        Message.user("and times 2?"),
    ]
    assert all("reasoning_content" not in m for m in build(messages=history)["messages"])
    spec = spec_with(capabilities={"reasoning_history_field": "reasoning_content"})
    sent = build(spec, messages=history)["messages"]
    assert sent[1] == {"role": "assistant", "content": "323", "reasoning_content": "17 * 19 = 323"}
    assert all("reasoning_content" not in m for m in (sent[0], sent[2]))


# --------------------------------------------------------------------------- content as parts

THINKING_PARTS = [
    {
        "type": "thinking",
        "thinking": [{"type": "text", "text": "Look "}, {"type": "text", "text": "both ways."}],
    },
    {"type": "text", "text": "Cross at the "},
    {"type": "reference", "reference_ids": [1]},
    {"type": "text", "text": "lights."},
]


def test_content_given_as_typed_parts_splits_into_answer_and_reasoning() -> None:
    body = answer({"role": "assistant", "content": THINKING_PARTS})
    DIALECT.check_wire("response", body)
    parsed = DIALECT.parse_response(body, openai.SPEC)
    assert parsed.content == "Cross at the lights."
    assert parsed.reasoning == "Look both ways."


def test_a_thinking_part_given_as_a_string() -> None:
    parts = [{"type": "thinking", "thinking": "hmm"}, {"type": "text", "text": "ok"}]
    parsed = DIALECT.parse_response(answer({"content": parts}), openai.SPEC)
    assert (parsed.content, parsed.reasoning) == ("ok", "hmm")


def test_a_content_part_of_the_wrong_shape_fails_the_wire_check() -> None:
    body = answer({"role": "assistant", "content": [{"text": "no type"}]})
    with pytest.raises(UnexpectedResponseError, match="content"):
        DIALECT.check_wire("response", body, "mistral")


def test_stream_deltas_with_content_parts() -> None:
    parser = OpenAIStreamParser()
    thinking = parser.parse(delta_event({"content": THINKING_PARTS[:1]}))
    assert thinking is not None
    assert (thinking.content, thinking.reasoning) == ("", "Look both ways.")
    text = parser.parse(delta_event({"content": THINKING_PARTS[1:]}))
    assert text is not None and (text.content, text.reasoning) == ("Cross at the lights.", "")


@pytest.mark.parametrize(
    "content",
    [
        [{"type": "text", "text": 3}],
        ["text"],
        {"type": "text"},
        [{"type": "thinking", "thinking": [{"type": "text", "text": []}]}],
    ],
)
def test_stream_content_parts_of_the_wrong_shape_are_a_decode_error(content: Any) -> None:
    with pytest.raises(StreamDecodeError, match=r"delta\.content"):
        OpenAIStreamParser().parse(delta_event({"content": content}))


# --------------------------------------------------------------------------- documents

PDF = b"%PDF-1.4 tiny"


def test_documents_a_pdf_as_a_file_part_and_plain_text_as_text() -> None:
    parts = [
        DocumentPart.from_bytes(PDF, filename="paper.pdf"),
        DocumentPart.from_bytes(PDF, title="Untitled scan"),
        DocumentPart(url="data:application/pdf;base64,JVBERi0x"),
        DocumentPart.from_text("seven hills", filename="notes.txt"),
        TextPart(text="Compare them."),
    ]
    (message,) = build(messages=[Message.user(parts)])["messages"]
    data_url = "data:application/pdf;base64," + DocumentPart.from_bytes(PDF).base64()
    assert message["content"] == [
        {"type": "file", "file": {"file_data": data_url, "filename": "paper.pdf"}},
        # OpenAI needs a file name: the title, else a made-up one
        {"type": "file", "file": {"file_data": data_url, "filename": "Untitled scan"}},
        {
            "type": "file",
            "file": {
                "file_data": "data:application/pdf;base64,JVBERi0x",
                "filename": "document.pdf",
            },
        },
        {"type": "text", "text": '<document name="notes.txt">\nseven hills\n</document>'},
        {"type": "text", "text": "Compare them."},
    ]


def test_a_document_by_url_is_refused_before_sending() -> None:
    wire = Wire(no_io)
    with pytest.raises(CapabilityError, match="cannot fetch documents: download it and pass"):
        wire.client("openai", api_key="k").complete(
            messages=[Message.user([DocumentPart(url="https://x.test/a.pdf")])]
        )
    assert wire.requests == []


# --------------------------------------------------------------------------- conversations


needs_cassettes = pytest.mark.usefixtures("shared_cassettes")


def openrouter_recording(name: str) -> list[dict[str, Any]]:
    import yaml

    path = shared_source_dir() / "openrouter" / f"test_openrouter__{name}.yaml"
    interactions: list[dict[str, Any]] = yaml.safe_load(path.read_text())["interactions"]
    return interactions


def accepted_by(spec: ProviderSpec, body: dict[str, Any]) -> None:
    name = documents.document_name(spec.name)
    problems = documents.operation(name, spec.endpoints.chat, "post").errors(body)
    assert not problems, problems


def stream_of(text: str, spec: ProviderSpec) -> CompletionResponse:
    from modelwire._framing import SSEDecoder

    decoder, parser, accumulator = SSEDecoder(), DIALECT.stream_parser(spec), Accumulator()
    for sse_event in decoder.feed(text.encode()) + decoder.flush():
        chunk = parser.parse(sse_event)
        if chunk is not None:
            accumulator.add(chunk)
    return accumulator.snapshot()


def next_turn(response: CompletionResponse, spec: ProviderSpec) -> dict[str, Any]:
    return build(
        spec, messages=[Message.user("first"), response.to_message(), Message.user("next")]
    )


@needs_cassettes
def test_openrouter_reasoning_details_go_back_as_they_came() -> None:
    (exchange,) = openrouter_recording("test_openrouter_map_messages_reasoning")
    message = exchange["response"]["parsed_body"]["choices"][0]["message"]
    response = DIALECT.parse_response(exchange["response"]["parsed_body"], openrouter.SPEC)
    (thinking, text) = response.parts
    (detail,) = message["reasoning_details"]
    assert isinstance(thinking, ThinkingPart) and thinking.provider == "openrouter"
    assert (thinking.text, thinking.signature) == (detail["text"], detail["signature"])
    assert text == TextPart(text=message["content"])
    body = next_turn(response, openrouter.SPEC)
    assert body["messages"][1] == {
        "role": "assistant",
        "content": message["content"],
        "reasoning_details": message["reasoning_details"],
    }
    accepted_by(openrouter.SPEC, body)


@needs_cassettes
def test_an_openrouter_stream_accumulates_its_reasoning_details_with_the_signature() -> None:
    (exchange,) = openrouter_recording("test_openrouter_streaming_reasoning")
    text = exchange["response"]["body"]["string"]
    response = stream_of(text, openrouter.SPEC)
    events = [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: {")]
    details = [
        d for e in events for c in e["choices"] for d in c["delta"].get("reasoning_details") or ()
    ]
    signature = next(d["signature"] for d in details if d.get("signature"))
    (thinking, answer) = response.parts
    assert isinstance(thinking, ThinkingPart)
    assert thinking.text == "".join(d.get("text") or "" for d in details)
    assert (thinking.signature, thinking.provider) == (signature, "openrouter")
    assert answer == TextPart(text=response.content)
    sent = next_turn(response, openrouter.SPEC)["messages"][1]["reasoning_details"]
    assert sent == [
        {
            "type": "reasoning.text",
            "format": "anthropic-claude-v1",
            "index": 0,
            "text": thinking.text,
            "signature": signature,
        }
    ]
    accepted_by(openrouter.SPEC, next_turn(response, openrouter.SPEC))


def test_encrypted_and_summary_details_are_parts_too() -> None:
    details = [
        {
            "type": "reasoning.summary",
            "summary": "Thought briefly.",
            "format": "openai-responses-v1",
            "index": 0,
        },
        {
            "type": "reasoning.encrypted",
            "data": "gAAAAB...",
            "format": "openai-responses-v1",
            "index": 1,
        },
    ]
    response = DIALECT.parse_response(
        answer({"role": "assistant", "content": "Hi", "reasoning_details": details}),
        openrouter.SPEC,
    )
    assert [(p.text, p.redacted) for p in response.parts if isinstance(p, ThinkingPart)] == [
        ("Thought briefly.", None),
        ("", "gAAAAB..."),
    ]
    assert next_turn(response, openrouter.SPEC)["messages"][1]["reasoning_details"] == details


def test_reasoning_details_go_back_only_to_the_provider_that_sent_them() -> None:
    details = [{"type": "reasoning.text", "text": "t", "signature": "s", "index": 0}]
    response = DIALECT.parse_response(
        answer({"role": "assistant", "content": "Hi", "reasoning_details": details}),
        openrouter.SPEC,
    )
    assert "reasoning_details" not in next_turn(response, openai.SPEC)["messages"][1]


def test_deepseek_reasoning_content_is_read_but_not_sent_back() -> None:
    """DeepSeek's docs: reasoning_content must not be sent in input messages."""
    body = answer({"role": "assistant", "content": "4", "reasoning_content": "2+2=4"})
    response = DIALECT.parse_response(body, deepseek.SPEC)
    assert response.parts == [ThinkingPart(text="2+2=4", provider="deepseek"), TextPart(text="4")]
    sent = next_turn(response, deepseek.SPEC)["messages"][1]
    assert sent == {"role": "assistant", "content": "4"}


def test_a_reasoning_stream_accumulates_into_the_parts_complete_gives() -> None:
    parser = OpenAIStreamParser("deepseek")
    accumulator = Accumulator()
    for data in (
        delta_event({"role": "assistant", "reasoning_content": "2+2"}),
        delta_event({"reasoning_content": "=4"}),
        delta_event({"content": "4"}),
        delta_event({}, finish="stop"),
        DONE,
    ):
        chunk = parser.parse(data)
        if chunk is not None:
            accumulator.add(chunk)
    streamed = accumulator.snapshot()
    whole = DIALECT.parse_response(
        answer({"role": "assistant", "content": "4", "reasoning_content": "2+2=4"}), deepseek.SPEC
    )
    assert streamed.parts == whole.parts


def test_cache_breakpoints_go_where_the_chat_api_takes_them() -> None:
    messages = [
        Message.system([TextPart(text="A long policy ...", cache=CacheControl(ttl="1h"))]),
        Message.system("Be brief."),
        Message.user([TextPart(text="Question?", cache=True)]),
    ]
    body = build(openrouter.SPEC, messages=messages, model="anthropic/claude-sonnet-4.5")
    assert body["messages"] == [
        {
            "role": "system",
            "content": [
                {
                    "type": "text",
                    "text": "A long policy ...",
                    "cache_control": {"type": "ephemeral", "ttl": "1h"},
                }
            ],
        },
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Question?", "cache_control": {"type": "ephemeral"}}
            ],
        },
    ]
    accepted_by(openrouter.SPEC, body)
    # OpenAI caches prefixes by itself: the breakpoints are not sent
    plain = build(messages=messages)
    assert "cache_control" not in json.dumps(plain)
    accepted_by(openai.SPEC, plain)


def test_prompt_cache_key_and_retention_are_request_options() -> None:
    body = build(options={"prompt_cache_key": "tenant-7", "prompt_cache_retention": "24h"})
    assert (body["prompt_cache_key"], body["prompt_cache_retention"]) == ("tenant-7", "24h")
    accepted_by(openai.SPEC, body)


def test_a_tool_result_as_text_parts_and_a_failed_one() -> None:
    body = build(
        messages=[
            *tool_history()[:3],
            Message.tool("call_1", [TextPart(text="Sunny, "), TextPart(text="21°C")]),
            Message.tool("call_2", "city not found", is_error=True),
        ]
    )
    # the API has no error flag: the result's text says it
    assert body["messages"][-2:] == [
        {"role": "tool", "tool_call_id": "call_1", "content": "Sunny, 21°C"},
        {"role": "tool", "tool_call_id": "call_2", "content": "city not found"},
    ]


def test_an_image_in_a_tool_result_is_refused_before_sending() -> None:
    from modelwire.errors import RequestValidationError

    wire = Wire(json_answer(OPENAI_TEXT))
    client = wire.client("openai", **KEYS["openai"])
    with pytest.raises(RequestValidationError, match="only text in a tool result"):
        client.complete(
            messages=[
                *tool_history()[:3],
                Message.tool("call_1", [TextPart(text="chart:"), ImagePart.from_bytes(PNG)]),
            ]
        )
    assert wire.requests == []
