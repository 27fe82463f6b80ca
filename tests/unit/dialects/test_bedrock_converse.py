"""The Bedrock Converse dialect: request bodies, responses, the event-stream parser and the
writer, on values built here and on the shared recordings (as data)."""

from __future__ import annotations

import base64
import functools
import json
from typing import Any

import httpx
import modelwire
import pytest
import yaml
from modelwire import (
    CompletionRequest,
    ImagePart,
    Message,
    NamedToolChoice,
    TextPart,
    Tool,
    ToolCall,
)
from modelwire._core.stream import StreamState
from modelwire._framing import EventStreamDecoder
from modelwire.dialects.base import Answer, ToolCallText
from modelwire.dialects.bedrock_converse import DIALECT, WRITER
from modelwire.errors import (
    RequestValidationError,
    StreamDecodeError,
    StreamEventError,
    UnexpectedResponseError,
)
from modelwire.providers.bedrock import SPEC
from modelwire.types import Usage

from tests.cassettes.converted import converted_part_2


def body(**fields: Any) -> dict[str, Any]:
    fields.setdefault("model", "us.amazon.nova-micro-v1:0")
    return DIALECT.build_request(CompletionRequest(**fields), SPEC, stream=False)


def parse_stream(data: bytes, reads: int = 7) -> modelwire.CompletionResponse:
    state = StreamState(
        EventStreamDecoder(),
        DIALECT.stream_parser(SPEC),
        lambda response: response,
        provider="bedrock",
        status_code=200,
        request_id=None,
        attempts=1,
        hooks=modelwire.Hooks(),
    )
    for start in range(0, len(data), reads):
        for event in state.decoder.feed(data[start : start + reads]):
            chunk = state.parser.parse(event)
            if chunk is not None:
                state.add(chunk)
    state.tail()
    return state.finish()


def bedrock_client(answer: Any, *, asynchronous: bool = False) -> Any:
    if asynchronous:
        http: Any = httpx.AsyncClient(transport=httpx.MockTransport(answer))
        return modelwire.AsyncBedrock(api_key="key", region="us-east-1", http_client=http)
    http = httpx.Client(transport=httpx.MockTransport(answer))
    return modelwire.Bedrock(api_key="key", region="us-east-1", http_client=http, max_retries=0)


# --------------------------------------------------------------------------- requests


def test_system_blocks_inference_config_and_no_model_in_the_body() -> None:
    sent = body(
        messages=[Message.system("Be brief."), Message.user("Hi"), Message.system("And kind.")],
        max_tokens=64,
        temperature=0.2,
        top_p=0.9,
        stop=["END"],
    )
    assert sent == {
        "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
        "system": [{"text": "Be brief."}, {"text": "And kind."}],
        "inferenceConfig": {
            "maxTokens": 64,
            "temperature": 0.2,
            "topP": 0.9,
            "stopSequences": ["END"],
        },
    }


def test_tools_tool_choice_and_a_tool_round_trip() -> None:
    weather = Tool(name="weather", description="The weather.", parameters={"type": "object"})
    sent = body(
        messages=[
            Message.user("Weather in Paris?"),
            Message.assistant("Looking.", [ToolCall(id="t1", name="weather", arguments={"c": 1})]),
            Message.tool("t1", '{"temp": 20}'),
            Message.user("Thanks"),
        ],
        tools=[weather],
        tool_choice=NamedToolChoice(name="weather"),
    )
    assert sent["toolConfig"] == {
        "tools": [
            {
                "toolSpec": {
                    "name": "weather",
                    "description": "The weather.",
                    "inputSchema": {"json": {"type": "object"}},
                }
            }
        ],
        "toolChoice": {"tool": {"name": "weather"}},
    }
    assert sent["messages"][1:] == [
        {
            "role": "assistant",
            "content": [
                {"text": "Looking."},
                {"toolUse": {"toolUseId": "t1", "name": "weather", "input": {"c": 1}}},
            ],
        },
        # the tool result and the next user text are one user turn: turns alternate
        {
            "role": "user",
            "content": [
                {"toolResult": {"toolUseId": "t1", "content": [{"text": '{"temp": 20}'}]}},
                {"text": "Thanks"},
            ],
        },
    ]


@pytest.mark.parametrize(
    ("choice", "wire"), [("auto", {"auto": {}}), ("required", {"any": {}}), (None, None)]
)
def test_tool_choice_kinds(choice: Any, wire: Any) -> None:
    sent = body(messages=[Message.user("x")], tools=[Tool(name="f")], tool_choice=choice)
    assert sent["toolConfig"].get("toolChoice") == wire


def test_tool_choice_none_is_refused_with_what_to_do() -> None:
    with pytest.raises(RequestValidationError, match="no tool_choice 'none': leave tools= out"):
        body(messages=[Message.user("x")], tools=[Tool(name="f")], tool_choice="none")


def test_images_go_as_bytes_with_their_format() -> None:
    png = b"\x89PNG fake"
    data_url = "data:image/jpeg;base64," + base64.b64encode(b"jpeg").decode()
    sent = body(
        messages=[
            Message.user([TextPart(text="See"), ImagePart.from_bytes(png), ImagePart(url=data_url)])
        ]
    )
    assert sent["messages"][0]["content"] == [
        {"text": "See"},
        {"image": {"format": "png", "source": {"bytes": base64.b64encode(png).decode()}}},
        {"image": {"format": "jpeg", "source": {"bytes": base64.b64encode(b"jpeg").decode()}}},
    ]
    with pytest.raises(RequestValidationError, match="png, jpeg, gif and webp"):
        body(messages=[Message.user([ImagePart.from_bytes(b"x", media_type="image/tiff")])])


def test_an_image_url_is_refused_before_anything_is_sent() -> None:
    client = bedrock_client(lambda request: pytest.fail("nothing may be sent"))
    with pytest.raises(RequestValidationError, match="URL"):
        client.complete(messages=[Message.user([ImagePart(url="https://example.com/a.png")])])


def test_provider_items_carry_documents_cache_points_and_reasoning_back() -> None:
    document = {"document": {"format": "txt", "name": "notes", "source": {"bytes": "aGk="}}}
    reasoning = {"reasoningContent": {"reasoningText": {"text": "hmm", "signature": "sig"}}}
    sent = body(
        messages=[
            Message(
                role="system",
                content="Rules.",
                provider_items=[{"cachePoint": {"type": "default"}}],
            ),
            Message(role="user", content="Read this", provider_items=[document]),
            Message(role="assistant", content="Done.", provider_items=[reasoning]),
            Message.user("Next"),
        ]
    )
    assert sent["system"] == [{"text": "Rules."}, {"cachePoint": {"type": "default"}}]
    assert sent["messages"][0]["content"] == [{"text": "Read this"}, document]
    # the reasoning block goes first in its turn, as the model produced it
    assert sent["messages"][1]["content"] == [reasoning, {"text": "Done."}]


def test_options_go_to_their_wire_places_and_structured_output_forces_a_tool() -> None:
    sent = body(
        messages=[Message.user("x")],
        options={
            "thinking": {"type": "enabled", "budget_tokens": 1024},
            "guardrail_config": {"guardrailIdentifier": "g", "guardrailVersion": "1"},
        },
        response_format={"type": "json_schema", "name": "City", "json_schema": {"type": "object"}},
    )
    assert sent["additionalModelRequestFields"] == {
        "thinking": {"type": "enabled", "budget_tokens": 1024}
    }
    assert sent["guardrailConfig"] == {"guardrailIdentifier": "g", "guardrailVersion": "1"}
    assert sent["toolConfig"]["toolChoice"] == {"tool": {"name": "City"}}
    assert sent["toolConfig"]["tools"][0]["toolSpec"]["name"] == "City"


# --------------------------------------------------------------------------- responses


def test_a_whole_response_text_tools_reasoning_usage_and_stop_reason() -> None:
    response = DIALECT.parse_response(
        {
            "output": {
                "message": {
                    "role": "assistant",
                    "content": [
                        {
                            "reasoningContent": {
                                "reasoningText": {"text": "think", "signature": "s"}
                            }
                        },
                        {"text": "Hi"},
                        {"toolUse": {"toolUseId": "t", "name": "f", "input": {"a": 1}}},
                    ],
                }
            },
            "stopReason": "tool_use",
            "usage": {
                "inputTokens": 3,
                "outputTokens": 4,
                "totalTokens": 7,
                "cacheReadInputTokens": 1,
                "cacheWriteInputTokens": 2,
            },
        },
        SPEC,
    )
    assert (response.content, response.reasoning, response.reasoning_signature) == (
        "Hi",
        "think",
        "s",
    )
    assert response.tool_calls == [ToolCall(id="t", name="f", arguments={"a": 1})]
    assert (response.finish_reason, response.raw_finish_reason) == ("tool_calls", "tool_use")
    assert response.usage == Usage(
        input_tokens=3, output_tokens=4, cache_read_tokens=1, cache_write_tokens=2
    )
    assert response.provider_items == [
        {"reasoningContent": {"reasoningText": {"text": "think", "signature": "s"}}}
    ]


@pytest.mark.parametrize(
    ("raw", "unified"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("guardrail_intervened", "content_filter"),
        ("content_filtered", "content_filter"),
        ("something_new", "other"),
    ],
)
def test_stop_reasons(raw: str, unified: str) -> None:
    response = DIALECT.parse_response(
        {"output": {"message": {"content": []}}, "stopReason": raw}, SPEC
    )
    assert (response.finish_reason, response.raw_finish_reason) == (unified, raw)


def test_a_body_without_output_is_a_typed_error() -> None:
    with pytest.raises(UnexpectedResponseError, match="output"):
        DIALECT.check_wire("response", {"stopReason": "end_turn"}, "bedrock")


# --------------------------------------------------------------------------- streams


def test_the_writer_and_the_parser_agree() -> None:
    answer = Answer(
        chunks=["Hel", "lo"],
        reasoning="think",
        reasoning_signature="sig",
        tool_calls=[ToolCallText(name="f", arguments='{"a": 1}', id="t1")],
        usage=Usage(input_tokens=5, output_tokens=6, cache_read_tokens=2),
        argument_chunk_size=3,
    )
    data = b"".join(event.data for event in WRITER.stream(answer))
    streamed = parse_stream(data)
    whole = DIALECT.parse_response(json.loads(WRITER.response(answer)), SPEC)
    for response in (streamed, whole):
        assert response.content == "Hello"
        assert (response.reasoning, response.reasoning_signature) == ("think", "sig")
        assert response.tool_calls == [ToolCall(id="t1", name="f", arguments={"a": 1})]
        assert response.finish_reason == "tool_calls"
        assert response.provider_items == [
            {"reasoningContent": {"reasoningText": {"text": "think", "signature": "sig"}}}
        ]
    assert streamed.usage == Usage(input_tokens=5, output_tokens=6, cache_read_tokens=2)


async def test_an_exception_message_mid_stream_is_a_typed_error_with_the_partial_answer() -> None:
    events = WRITER.stream(Answer(chunks=["par", "tial"]))
    data = b"".join(e.data for e in events[:3]) + WRITER.stream_error(
        "Too many tokens", error_type="ThrottlingException"
    )

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.raw_path == b"/model/us.amazon.nova-micro-v1%3A0/converse-stream"
        headers = {"content-type": WRITER.stream_content_type}
        return httpx.Response(200, headers=headers, content=data)

    messages = [Message.user("x")]
    client = bedrock_client(answer)
    with (
        pytest.raises(StreamEventError) as caught,
        client.stream_completion(messages=messages) as s,
    ):
        s.accumulate()
    async_client = bedrock_client(answer, asynchronous=True)
    with pytest.raises(StreamEventError) as caught_async:
        async with await async_client.stream_completion(messages=messages) as stream:
            await stream.accumulate()
    assert str(caught_async.value) == str(caught.value)
    assert caught_async.value.partial is not None
    assert caught_async.value.partial.content == "partial"
    error = caught.value
    assert error.error_type == "ThrottlingException"
    assert error.message == "Too many tokens"
    assert error.partial is not None and error.partial.content == "partial"


def test_a_stream_without_its_metadata_is_cut_short() -> None:
    events = WRITER.stream(Answer(chunks=["x"]))
    with pytest.raises(modelwire.StreamInterruptedError):
        parse_stream(b"".join(e.data for e in events[:-1]))


def test_a_malformed_event_is_a_typed_error() -> None:
    from modelwire._framing import event_stream_message

    bad = event_stream_message(
        {":event-type": "contentBlockDelta", ":message-type": "event"},
        b'{"contentBlockIndex": 0, "delta": {"text": 5}}',
    )
    with pytest.raises(StreamDecodeError, match="contentBlockDelta"):
        parse_stream(bad)


def test_redacted_reasoning_is_kept_for_the_next_turn() -> None:
    from modelwire._framing import event_stream_message

    def event(name: str, payload: dict[str, Any]) -> bytes:
        return event_stream_message(
            {":event-type": name, ":message-type": "event"}, json.dumps(payload).encode()
        )

    data = (
        event("messageStart", {"role": "assistant"})
        + event(
            "contentBlockDelta",
            {"contentBlockIndex": 0, "delta": {"reasoningContent": {"redactedContent": "b64"}}},
        )
        + event("contentBlockStop", {"contentBlockIndex": 0})
        + event("messageStop", {"stopReason": "end_turn"})
        + event("metadata", {"usage": {"inputTokens": 1, "outputTokens": 1}})
    )
    response = parse_stream(data)
    assert response.provider_items == [{"reasoningContent": {"redactedContent": "b64"}}]
    assert response.reasoning is None


# --------------------------------------------------------------------------- the recordings

RECORDINGS = converted_part_2("bedrock")


@functools.cache
def _interactions() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(RECORDINGS.glob("*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        found += [(path.stem, interaction) for interaction in data["interactions"]]
    return found


def _recorded(kind: str) -> list[tuple[str, Any]]:
    found = []
    for name, interaction in _interactions():
        uri = interaction["request"]["uri"]
        if interaction["response"]["status"]["code"] == 200 and uri.endswith(kind):
            found.append((name, interaction["response"]["body"]["string"]))
    return found


def test_every_recorded_stream_parses_to_its_end() -> None:
    streams = _recorded("/converse-stream")
    assert len(streams) >= 4
    for name, data in streams:
        response = parse_stream(data, reads=13)
        assert response.finish_reason is not None, name
        assert response.usage is not None and response.usage.input_tokens > 0, name


def test_every_recorded_answer_fits_the_wire_model_and_parses() -> None:
    answers = _recorded("/converse")
    assert len(answers) >= 30
    for name, data in answers:
        content = json.loads(data)
        DIALECT.check_wire("response", content, "bedrock")
        response = DIALECT.parse_response(content, SPEC)
        assert response.finish_reason is not None, name


# --------------------------------------------------------------------------- token counting


def test_count_tokens_sends_the_converse_input_and_reads_input_tokens() -> None:
    request = CompletionRequest(
        model="m",
        messages=[Message.system("Brief."), Message.user("Hi")],
        max_tokens=9,
        tools=[Tool(name="f")],
    )
    body = DIALECT.build_token_count_request(request, SPEC)
    converse = body["input"]["converse"]
    assert set(converse) == {"messages", "system", "toolConfig"}  # no inferenceConfig
    assert converse["system"] == [{"text": "Brief."}]
    assert DIALECT.parse_token_count({"inputTokens": 12}, SPEC).input_tokens == 12
    with pytest.raises(UnexpectedResponseError, match="no inputTokens number"):
        DIALECT.parse_token_count({"input_tokens": 12}, SPEC)


async def test_count_tokens_goes_to_the_models_count_tokens_path_sync_and_async() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.raw_path == b"/model/us.amazon.nova-micro-v1%3A0/count-tokens"
        return httpx.Response(200, json={"inputTokens": 7})

    messages = [Message.user("Hi")]
    assert bedrock_client(answer).count_tokens(messages=messages).input_tokens == 7
    counted = await bedrock_client(answer, asynchronous=True).count_tokens(messages=messages)
    assert counted.input_tokens == 7
