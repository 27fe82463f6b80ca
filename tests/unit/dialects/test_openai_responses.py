"""The Responses dialect: the requests it builds (each checked against OpenAI's own
OpenAPI document, `CreateResponse`), the responses it reads (the shared recordings, as
data) and its stream parser over the named events."""

from __future__ import annotations

import functools
import json
from typing import Any

import jsonschema
import pytest
import referencing
import yaml
from modelwire import ImagePart, Tool
from modelwire._core.accumulate import Accumulator
from modelwire._core.validation import check_request
from modelwire._framing import ServerSentEvent, SSEDecoder
from modelwire.dialects.openai_responses import DIALECT, OpenAIResponsesStreamParser
from modelwire.errors import (
    RequestValidationError,
    ResponseFailedError,
    StreamDecodeError,
    StreamEventError,
    UnexpectedResponseError,
)
from modelwire.providers.openai_responses import SPEC
from modelwire.types import (
    CompletionRequest,
    CompletionResponse,
    Message,
    NamedToolChoice,
    ResponseFormat,
    TextPart,
    ToolCall,
)

from tests.cassettes.converted import shared_source_dir
from tests.conformance import documents
from tests.unit.support import PNG, Weather, tool_history

# where the recordings are, the official API documents are too (read at test time)
RECORDINGS = shared_source_dir() / "openai-responses"
OPENAPI = shared_source_dir().parent / "official-specs" / "openai.openapi.yaml"

HI = [Message.user("hi")]


def build(*, stream: bool = False, **fields: Any) -> dict[str, Any]:
    request = CompletionRequest(model=fields.pop("model", "gpt-5"), **{"messages": HI, **fields})
    check_request(SPEC, request, stream=stream)
    return DIALECT.build_request(request, SPEC, stream=stream)


# --------------------------------------------------------------------------- the official schema


@functools.cache
def create_response_validator() -> jsonschema.protocols.Validator:
    """A validator of `CreateResponse` bodies from OpenAI's OpenAPI document.

    The document's unions are `oneOf` with a `discriminator`: the server picks the branch
    by the discriminating property (`type`), so a body fits when it fits a branch that
    takes its `type`. Plain JSON Schema `oneOf` also fails a body that fits two branches
    (a user message is both an EasyInputMessage and an InputMessage), so a `oneOf` is read
    as: one of the branches its discriminator allows."""
    document = yaml.load(OPENAPI.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    resource = referencing.Resource.from_contents(
        document, default_specification=referencing.jsonschema.DRAFT202012
    )
    registry: referencing.Registry[Any] = referencing.Registry().with_resource(
        "urn:openai", resource
    )
    cls = jsonschema.validators.extend(
        jsonschema.Draft202012Validator, {"oneOf": documents.discriminated_one_of}
    )
    schema = {"$ref": "urn:openai#/components/schemas/CreateResponse"}
    validator: jsonschema.protocols.Validator = cls(schema, registry=registry)
    return validator


def assert_accepted(body: dict[str, Any]) -> None:
    errors = list(create_response_validator().iter_errors(body))
    assert not errors, [f"{list(e.absolute_path)}: {e.message[:300]}" for e in errors[:5]]


def test_the_validator_refuses_what_the_api_refuses() -> None:
    # the check itself can fail: a wrong role, a tool without a name, a number for text
    for wrong in (
        {"model": "gpt-5", "input": [{"role": "robot", "content": "hi"}]},
        {"model": "gpt-5", "input": "hi", "tools": [{"type": "function"}]},
        {"model": "gpt-5", "input": "hi", "max_output_tokens": "many"},
        {
            "model": "gpt-5",
            "input": [{"type": "function_call_output", "call_id": "c", "output": 7}],
        },
    ):
        assert list(create_response_validator().iter_errors(wrong)), wrong


# --------------------------------------------------------------------------- requests


def test_the_smallest_request() -> None:
    body = build()
    assert body == {"model": "gpt-5", "input": [{"role": "user", "content": "hi"}]}
    assert_accepted(body)


def test_system_messages_become_instructions() -> None:
    body = build(messages=[Message.system("Be brief."), Message.system("Be kind."), *HI])
    assert body["instructions"] == "Be brief.\n\nBe kind."
    assert all(item.get("role") != "system" for item in body["input"])
    assert_accepted(body)


def test_images_by_url_and_by_bytes() -> None:
    parts = [
        TextPart(text="What are these?"),
        ImagePart(url="https://example.com/cat.png"),
        ImagePart.from_bytes(PNG),
    ]
    body = build(messages=[Message.user(parts)])
    (message,) = body["input"]
    assert message["content"][0] == {"type": "input_text", "text": "What are these?"}
    assert message["content"][1]["image_url"] == "https://example.com/cat.png"
    assert message["content"][2]["image_url"].startswith("data:image/png;base64,")
    assert_accepted(body)


def test_tool_calls_and_results_are_items() -> None:
    body = build(messages=tool_history(), tools=[Tool.from_model(Weather)])
    assert body["instructions"] == "Be brief."
    assert body["input"][1:] == [
        {
            "type": "function_call",
            "call_id": "call_1",
            "name": "Weather",
            "arguments": '{"city":"Paris"}',
        },
        {"type": "function_call_output", "call_id": "call_1", "output": '{"temp": 21}'},
    ]
    assert_accepted(body)


def test_an_assistant_turn_with_text_and_a_call() -> None:
    call = ToolCall(id="call_9", name="Weather", arguments={"city": "Rome"})
    history = [*HI, Message.assistant("Let me look.", [call]), Message.tool("call_9", "sunny")]
    body = build(messages=history, tools=[Tool.from_model(Weather)])
    kinds = [item.get("type", item.get("role")) for item in body["input"]]
    assert kinds == ["user", "assistant", "function_call", "function_call_output"]
    assert_accepted(body)


def test_function_tools_strict_only_when_asked_and_tool_choice() -> None:
    tools = [Tool.from_model(Weather), Tool(name="strict_one", strict=True)]
    body = build(tools=tools, tool_choice=NamedToolChoice(name="Weather"))
    assert [t["strict"] for t in body["tools"]] == [False, True]
    assert body["tools"][0]["name"] == "Weather" and body["tools"][0]["type"] == "function"
    assert body["tool_choice"] == {"type": "function", "name": "Weather"}
    assert_accepted(body)
    for choice in ("auto", "none", "required"):
        body = build(tools=tools, tool_choice=choice)
        assert body["tool_choice"] == choice
        assert_accepted(body)


def test_structured_output_is_a_strict_json_schema_text_format() -> None:
    body = build(response_format=Weather)
    fmt = body["text"]["format"]
    assert fmt["type"] == "json_schema" and fmt["strict"] is True
    assert fmt["name"] == "Weather" and fmt["schema"] == Weather.model_json_schema()
    assert_accepted(body)
    body = build(response_format=ResponseFormat(type="json_object"))
    assert body["text"] == {"format": {"type": "json_object"}}
    assert_accepted(body)


def test_sampling_and_output_limit() -> None:
    # a model that takes sampling settings (the gpt-5 and o-series models refuse them)
    body = build(model="gpt-4.1", max_tokens=300, temperature=0.2, top_p=0.9)
    assert body["max_output_tokens"] == 300
    assert (body["temperature"], body["top_p"]) == (0.2, 0.9)
    assert "max_tokens" not in body and "max_completion_tokens" not in body
    assert_accepted(body)


def test_reasoning_and_conversation_state_are_opt_in_options() -> None:
    assert not {"store", "previous_response_id", "reasoning", "include"} & set(build())
    body = build(
        options={
            "reasoning_effort": "low",
            "reasoning_summary": "auto",
            "store": False,
            "include": ["reasoning.encrypted_content"],
            "previous_response_id": "resp_123",
            "verbosity": "low",
        },
        stream=True,
    )
    assert body["reasoning"] == {"effort": "low", "summary": "auto"}
    assert body["store"] is False and body["previous_response_id"] == "resp_123"
    assert body["include"] == ["reasoning.encrypted_content"]
    assert body["text"] == {"verbosity": "low"}
    assert body["stream"] is True
    assert_accepted(body)


def test_what_the_api_does_not_take_is_refused_before_sending() -> None:
    with pytest.raises(RequestValidationError, match="no stop sequences: leave stop= unset"):
        build(stop=["END"])
    with pytest.raises(RequestValidationError, match="no seed"):
        build(seed=1)
    with pytest.raises(RequestValidationError, match="reasoning_effort='huge' must be one of"):
        build(options={"reasoning_effort": "huge"})


def test_reasoning_items_go_back_with_their_encrypted_state() -> None:
    body = recorded_body("test_reasoning_summary_auto", 0)
    first = DIALECT.parse_response(body, SPEC)
    reasoning = [i for i in first.provider_items if i["type"] == "reasoning"]
    assert reasoning and reasoning[0]["encrypted_content"]
    history = [*HI, first.to_message(), Message.user("and then?")]
    request = build(messages=history, options={"store": False})
    sent = request["input"][1]
    assert sent == {
        "type": "reasoning",
        "id": reasoning[0]["id"],
        "summary": [{"type": "summary_text", "text": p["text"]} for p in reasoning[0]["summary"]],
        "encrypted_content": reasoning[0]["encrypted_content"],
    }
    assert request["input"][2] == {"role": "assistant", "content": first.content}
    assert_accepted(request)


def test_reasoning_without_encrypted_state_and_other_items_are_not_sent_back() -> None:
    items = [
        {"type": "reasoning", "id": "rs_1", "summary": []},
        {"type": "web_search_call", "id": "ws_1", "status": "completed"},
    ]
    message = Message(role="assistant", content="Done.", provider_items=items)
    body = build(messages=[*HI, message, Message.user("ok")])
    assert body["input"][1] == {"role": "assistant", "content": "Done."}
    assert len(body["input"]) == 3


# --------------------------------------------------------------------------- responses


def recorded(name: str) -> list[dict[str, Any]]:
    (path,) = RECORDINGS.glob(f"test_openai_responses__{name}.yaml")
    interactions: list[dict[str, Any]] = yaml.load(
        path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader
    )["interactions"]
    return interactions


def recorded_body(name: str, index: int) -> dict[str, Any]:
    body: dict[str, Any] = recorded(name)[index]["response"]["parsed_body"]
    DIALECT.check_wire("response", body)
    return body


@pytest.mark.usefixtures("shared_cassettes")
def test_a_recorded_tool_call() -> None:
    got = DIALECT.parse_response(
        recorded_body("test_openai_responses_model_simple_response_with_tool_call", 0), SPEC
    )
    assert [(c.id, c.name, c.arguments) for c in got.tool_calls] == [
        ("call_YfwRsW8sUxDKipwyhWTzOXCA", "get_capital", {"country": "PotatoLand"})
    ]
    assert (got.finish_reason, got.raw_finish_reason) == ("tool_calls", "completed")
    assert got.usage is not None
    assert (got.usage.input_tokens, got.usage.output_tokens) == (40, 18)
    assert (got.usage.cache_read_tokens, got.usage.reasoning_tokens) == (0, 0)
    assert got.provider_items == [] and got.content == ""


@pytest.mark.usefixtures("shared_cassettes")
def test_a_recorded_reasoning_summary_is_kept_apart_with_its_state() -> None:
    body = recorded_body("test_reasoning_summary_auto", 0)
    got = DIALECT.parse_response(body, SPEC)
    (item,) = [i for i in body["output"] if i["type"] == "reasoning"]
    summaries = [part["text"] for part in item["summary"]]
    assert summaries and got.reasoning == "\n\n".join(summaries)
    assert got.reasoning not in got.content and got.content
    assert got.provider_items == [item]
    assert (
        got.usage is not None
        and got.usage.reasoning_tokens
        == (body["usage"]["output_tokens_details"]["reasoning_tokens"])
    )
    assert got.finish_reason == "stop"


@pytest.mark.usefixtures("shared_cassettes")
def test_built_in_tool_items_are_kept() -> None:
    body = recorded_body("test_openai_responses_model_builtin_tools_web_search", 0)
    got = DIALECT.parse_response(body, SPEC)
    searches = [i for i in body["output"] if i["type"] == "web_search_call"]
    assert searches
    assert [i for i in got.provider_items if i["type"] == "web_search_call"] == searches
    texts = [
        part["text"]
        for item in body["output"]
        if item["type"] == "message"
        for part in item["content"]
        if part["type"] == "output_text"
    ]
    assert got.content == "".join(texts) and got.content


def response_body(**fields: Any) -> dict[str, Any]:
    text = {"type": "output_text", "text": "Hi", "annotations": []}
    message = {"type": "message", "id": "msg_1", "role": "assistant", "content": [text]}
    return {"id": "resp_1", "model": "gpt-5", "status": "completed", "output": [message], **fields}


@pytest.mark.parametrize(
    ("reason", "finish"),
    [("max_output_tokens", "length"), ("content_filter", "content_filter"), ("other", "other")],
)
def test_incomplete_keeps_its_reason(reason: str, finish: str) -> None:
    body = response_body(status="incomplete", incomplete_details={"reason": reason})
    got = DIALECT.parse_response(body, SPEC)
    assert (got.finish_reason, got.raw_finish_reason, got.content) == (finish, reason, "Hi")


def test_failed_raises_a_typed_error() -> None:
    error = {"code": "server_error", "message": "The model crashed."}
    with pytest.raises(ResponseFailedError, match="The model crashed") as info:
        DIALECT.parse_response(response_body(status="failed", error=error, output=[]), SPEC)
    assert info.value.error_code == "server_error" and info.value.provider == SPEC.name


def test_a_refusal_is_a_content_filter_finish_with_the_item_kept() -> None:
    refusal = {"type": "refusal", "refusal": "I can't help with that."}
    item = {"type": "message", "id": "msg_1", "role": "assistant", "content": [refusal]}
    got = DIALECT.parse_response(response_body(output=[item]), SPEC)
    assert (got.finish_reason, got.raw_finish_reason, got.content) == (
        "content_filter",
        "refusal",
        "",
    )
    assert got.provider_items == [item]


def test_a_body_without_output_is_an_unexpected_response() -> None:
    with pytest.raises(UnexpectedResponseError, match="output"):
        DIALECT.check_wire("response", {"id": "resp_1", "status": "completed"})


# --------------------------------------------------------------------------- streams


def event(name: str | None, data: dict[str, Any]) -> ServerSentEvent:
    payload = {"type": name, **data} if name else data
    return ServerSentEvent(json.dumps(payload).encode(), name or "message")


def run(events: list[ServerSentEvent]) -> tuple[CompletionResponse, OpenAIResponsesStreamParser]:
    parser = OpenAIResponsesStreamParser()
    accumulator = Accumulator()
    for item in events:
        chunk = parser.parse(item)
        if chunk is not None:
            accumulator.add(chunk)
    return accumulator.snapshot(), parser


CREATED = event("response.created", {"response": {"id": "resp_1", "model": "gpt-5"}})


def completed(**response: Any) -> ServerSentEvent:
    body = {"id": "resp_1", "model": "gpt-5", "status": "completed", "output": [], **response}
    return event("response.completed", {"response": body})


def test_a_stream_of_text_reasoning_and_a_call() -> None:
    call = {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "call_1",
        "name": "f",
        "arguments": "",
    }
    reasoning = {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "enc"}
    usage = {
        "input_tokens": 5,
        "output_tokens": 7,
        "input_tokens_details": {"cached_tokens": 2},
        "output_tokens_details": {"reasoning_tokens": 3},
    }
    got, parser = run(
        [
            CREATED,
            event(
                "response.reasoning_summary_text.delta",
                {"output_index": 0, "summary_index": 0, "delta": "Th"},
            ),
            event(
                "response.reasoning_summary_text.delta",
                {"output_index": 0, "summary_index": 0, "delta": "ink"},
            ),
            event(
                "response.reasoning_summary_text.delta",
                {"output_index": 0, "summary_index": 1, "delta": "More"},
            ),
            event("response.output_item.done", {"output_index": 0, "item": reasoning}),
            event("response.output_text.delta", {"output_index": 1, "delta": "Hel"}),
            event("response.output_text.delta", {"output_index": 1, "delta": "lo"}),
            event("response.output_item.added", {"output_index": 2, "item": call}),
            event("response.function_call_arguments.delta", {"output_index": 2, "delta": '{"a":'}),
            event("response.function_call_arguments.delta", {"output_index": 2, "delta": "1}"}),
            event(
                "response.output_item.done",
                {"output_index": 2, "item": {**call, "arguments": '{"a":1}'}},
            ),
            completed(usage=usage),
        ]
    )
    assert parser.finished
    assert (got.id, got.model, got.content) == ("resp_1", "gpt-5", "Hello")
    assert got.reasoning == "Think\n\nMore"
    assert [(c.id, c.name, c.arguments) for c in got.tool_calls] == [("call_1", "f", {"a": 1})]
    assert got.provider_items == [reasoning]
    assert (got.finish_reason, got.raw_finish_reason) == ("tool_calls", "completed")
    assert got.usage is not None
    assert (got.usage.cache_read_tokens, got.usage.reasoning_tokens) == (2, 3)


def test_a_call_sent_whole_at_its_end() -> None:
    call = {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "call_1",
        "name": "f",
        "arguments": '{"a":1}',
    }
    got, _ = run(
        [
            CREATED,
            event("response.output_item.done", {"output_index": 0, "item": call}),
            completed(),
        ]
    )
    assert [(c.id, c.arguments) for c in got.tool_calls] == [("call_1", {"a": 1})]


def test_incomplete_ends_the_stream_with_length() -> None:
    incomplete = {"status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}}
    ended = event("response.incomplete", {"response": {"id": "resp_1", **incomplete}})
    got, parser = run([CREATED, event("response.output_text.delta", {"delta": "Hi"}), ended])
    assert parser.finished
    assert (got.finish_reason, got.raw_finish_reason) == ("length", "max_output_tokens")


def test_a_stream_without_its_terminal_event_is_unfinished() -> None:
    got, parser = run([CREATED, event("response.output_text.delta", {"delta": "Hi"})])
    assert not parser.finished and got.content == "Hi"
    # OpenRouter's [DONE] does not finish a stream that never completed
    parser = OpenAIResponsesStreamParser()
    assert parser.parse(ServerSentEvent(b"[DONE]")) is None and not parser.finished


def test_failed_and_error_events_raise() -> None:
    failed = {
        "response": {"status": "failed", "error": {"code": "server_error", "message": "Boom"}}
    }
    with pytest.raises(StreamEventError, match="Boom") as info:
        run([CREATED, event("response.failed", failed)])
    assert info.value.error_code == "server_error"
    flat = {"code": "rate_limit_exceeded", "message": "Slow down", "param": None}
    with pytest.raises(StreamEventError, match="Slow down") as info:
        run([CREATED, event("error", flat)])
    assert info.value.error_code == "rate_limit_exceeded"


def test_events_without_names_are_read_by_their_type() -> None:
    # OpenRouter sends `data:` lines only; the payload's type names the event
    body = (
        b": OPENROUTER PROCESSING\n\n"
        b'data: {"type":"response.created","response":{"id":"gen-1","model":"m"}}\n\n'
        b'data: {"type":"response.reasoning_text.delta","output_index":0,"delta":"hm"}\n\n'
        b'data: {"type":"response.output_text.delta","output_index":1,"delta":"4"}\n\n'
        b'data: {"type":"response.completed","response":{"id":"gen-1","status":"completed"}}\n\n'
        b"data: [DONE]\n\n"
    )
    decoder = SSEDecoder()
    got, parser = run(decoder.feed(body) + decoder.flush())
    assert parser.finished and (got.content, got.reasoning, got.model) == ("4", "hm", "m")


@pytest.mark.parametrize(
    "bad",
    [
        event("response.output_text.delta", {"delta": 7}),
        event("response.function_call_arguments.delta", {"output_index": "0", "delta": "x"}),
        event("response.output_item.added", {"item": "not an item"}),
        ServerSentEvent(b"{not json", "response.output_text.delta"),
    ],
)
def test_a_malformed_event_is_a_typed_error(bad: ServerSentEvent) -> None:
    with pytest.raises(StreamDecodeError):
        OpenAIResponsesStreamParser().parse(bad)


@pytest.mark.usefixtures("shared_cassettes")
def test_recorded_streams_end_with_their_terminal_event() -> None:
    streams = [
        path
        for path in sorted(RECORDINGS.glob("*.yaml"))
        if path.stat().st_size < 300_000 and b"event: response.completed" in path.read_bytes()
    ]
    assert len(streams) >= 5
    for path in streams:
        for interaction in yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)[
            "interactions"
        ]:
            text = (interaction["response"].get("body") or {}).get("string")
            if not isinstance(text, str) or "event: response." not in text:
                continue
            decoder = SSEDecoder()
            got, parser = run(decoder.feed(text.encode()) + decoder.flush())
            assert parser.finished, path.name
            assert got.finish_reason in ("stop", "tool_calls"), path.name
