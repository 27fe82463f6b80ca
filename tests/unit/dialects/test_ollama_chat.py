"""The Ollama native dialect: request mapping, response parsing, and the NDJSON stream parser
driven by real recorded bytes from Ollama servers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from modelwire import CapabilityError, DocumentPart
from modelwire._core.accumulate import Accumulator
from modelwire._core.validation import check_request
from modelwire._framing import NDJSONDecoder, ServerSentEvent
from modelwire.dialects.ollama_chat import DIALECT, OllamaStreamParser
from modelwire.errors import StreamDecodeError, StreamEventError
from modelwire.spec import ProviderSpec
from modelwire.testing import AsyncMockProvider
from modelwire.types import (
    CompletionRequest,
    CompletionResponse,
    ImagePart,
    Message,
    ResponseFormat,
    StreamingChunk,
    TextPart,
    Tool,
    ToolCall,
)
from pydantic import BaseModel

from tests.cassettes import importer
from tests.unit.support import (
    OLLAMA_TEXT,
    PNG,
    Weather,
    Wire,
    image_message,
    json_answer,
    no_io,
    tool_history,
)

yaml = pytest.importorskip("yaml")

# the shared recordings as their projects wrote them; a test marked needs_cassettes fails
# (never skips) when the shared folder is missing
OLLAMA = importer.default_source_dir() / "ollama-native"
needs_cassettes = pytest.mark.usefixtures("shared_cassettes")


def make_spec(**overrides: Any) -> ProviderSpec:
    data: dict[str, Any] = {
        "name": "ollama",
        "display_name": "Ollama",
        "class_name": "Ollama",
        "dialect": "ollama_chat",
        "base_url": "http://localhost:11434",
        "auth": {"type": "none", "required": False},
        "endpoints": {"chat": "/api/chat", "models": "/api/tags", "embeddings": "/api/embed"},
        "stream_format": "ndjson",
        "capabilities": {"embeddings": True, "reasoning": True, "image_urls": False},
        "options": [
            {"name": "num_ctx", "type": "int", "wire": "options.num_ctx"},
            {"name": "top_k", "type": "int", "wire": "options.top_k"},
            {"name": "keep_alive", "type": "str | int"},
            {"name": "think", "type": "bool"},
        ],
    }
    data.update(overrides)
    return ProviderSpec.model_validate(data)


SPEC = make_spec()


SPEC_FILE = Path(__file__).resolve().parents[3] / "spec" / "providers" / "ollama.yaml"


@pytest.mark.skipif(not SPEC_FILE.is_file(), reason="no spec/providers/ollama.yaml")
def test_with_the_shipped_spec_file() -> None:
    from modelwire.spec import read_spec_file

    spec = read_spec_file(SPEC_FILE)
    assert spec.dialect == "ollama_chat" and spec.stream_format == "ndjson"
    body = DIALECT.build_request(
        CompletionRequest(
            model="llama3.2",
            messages=[Message.user("x")],
            temperature=0.1,
            options={"num_ctx": 4096, "min_p": 0.05, "keep_alive": 0, "think": False},
        ),
        spec,
        stream=False,
    )
    assert body["options"] == {"temperature": 0.1, "num_ctx": 4096, "min_p": 0.05}
    assert body["keep_alive"] == 0
    assert body["think"] is False
    assert body["stream"] is False


def build(
    stream: bool = False, spec: ProviderSpec = SPEC, checked: bool = True, **kw: Any
) -> dict[str, Any]:
    """The wire body a client sends: checked before it is built, as a client does
    (`checked=False` shows what the dialect alone makes of a request)."""
    kw.setdefault("model", "llama3.2")
    request = CompletionRequest(**kw)
    if checked:
        check_request(spec, request, stream=stream)
    return DIALECT.build_request(request, spec, stream=stream)


# =========================================================================== request


def test_messages_and_explicit_stream_flag() -> None:
    messages = [Message.system("Be brief."), Message.user("Hi")]
    body = build(messages=messages)
    assert body == {
        "model": "llama3.2",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
        ],
        "stream": False,
    }
    assert build(stream=True, messages=messages)["stream"] is True


def test_images_are_base64_on_the_message() -> None:
    body = build(
        messages=[
            Message.user(
                [
                    TextPart(text="What is "),
                    ImagePart.from_bytes(b"\x89PNG"),
                    TextPart(text="this?"),
                    ImagePart(url="data:image/jpeg;base64,/9j/AAA="),
                ]
            )
        ]
    )
    assert body["messages"] == [
        {"role": "user", "content": "What is this?", "images": ["iVBORw==", "/9j/AAA="]}
    ]


def test_url_images_are_a_capability_error_naming_the_fix() -> None:
    with pytest.raises(CapabilityError, match="bytes"):
        build(messages=[Message.user([ImagePart(url="https://example.com/cat.png")])])


def test_tool_round_trip() -> None:
    body = build(
        checked=False,
        messages=[
            Message.user("Weather?"),
            Message.assistant(
                tool_calls=[
                    ToolCall(id="call_0", name="get_weather", arguments={"city": "Paris"}),
                    ToolCall(id="call_1", name="get_time", arguments={}),
                ]
            ),
            Message.tool("call_0", "18C"),  # name found from the call's id
            Message.tool("call_1", "noon", name="get_time"),
            Message.tool("unknown", "?"),  # no name known: no tool_name
        ],
    )
    assert body["messages"][1:] == [
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
                {"function": {"name": "get_time", "arguments": {}}},
            ],
        },
        {"role": "tool", "content": "18C", "tool_name": "get_weather"},
        {"role": "tool", "content": "noon", "tool_name": "get_time"},
        {"role": "tool", "content": "?"},
    ]


@needs_cassettes
def test_tool_history_matches_recorded_request() -> None:
    """The ollama-python client's own shape for a tool round (arguments as an object)."""
    cassette = yaml.safe_load(
        (OLLAMA / "openllmetry" / "test_ollama_chat_tool_calls_legacy.yaml").read_text()
    )
    recorded = json.loads(cassette["interactions"][0]["request"]["body"])
    body = build(
        model="llama3.1",
        messages=[
            Message.assistant(
                tool_calls=[
                    ToolCall(
                        id="call_0",
                        name="get_current_weather",
                        arguments={"location": "San Francisco"},
                    )
                ]
            ),
            Message.tool("call_0", "The weather in San Francisco is 70 degrees and sunny."),
        ],
    )
    ours = [{k: v for k, v in m.items() if k != "tool_name"} for m in body["messages"]]
    assert ours == recorded["messages"]
    assert body["messages"][1]["tool_name"] == "get_current_weather"
    assert body["stream"] is recorded["stream"] is False


def test_assistant_reasoning_is_sent_as_thinking() -> None:
    message = Message.assistant("4")
    message.reasoning = "2+2=4"
    body = build(messages=[Message.user("2+2?"), message])
    assert body["messages"][1] == {"role": "assistant", "content": "4", "thinking": "2+2=4"}


def test_sampling_goes_under_options() -> None:
    body = build(
        messages=[Message.user("x")],
        temperature=0,
        top_p=0.5,
        seed=42,
        stop=["\n\n"],
        max_tokens=50,
    )
    assert body["options"] == {
        "temperature": 0,
        "top_p": 0.5,
        "seed": 42,
        "stop": ["\n\n"],
        "num_predict": 50,
    }
    for key in ("temperature", "top_p", "seed", "stop", "max_tokens"):
        assert key not in body


@needs_cassettes
def test_sampling_matches_recorded_request() -> None:
    (request, _, _), *_ = read_httprr(OLLAMA / "langchaingo" / "TestClient_GenerateChat.httprr")
    recorded = json.loads(request.partition(b"\r\n\r\n")[2])
    body = build(
        model="gemma3:1b",
        messages=[Message.user("Hello, how are you?")],
        max_tokens=50,
        temperature=0,
    )
    assert body["options"] == recorded["options"]
    assert body["messages"] == recorded["messages"]


def test_tools_and_tool_choice() -> None:
    tool = Tool(
        name="weather",
        description="Current weather",
        parameters={"type": "object", "properties": {"city": {"type": "string"}}},
    )
    body = build(messages=[Message.user("x")], tools=[tool], tool_choice="required")
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "weather",
                "description": "Current weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ]
    assert "tool_choice" not in body
    named = build(messages=[Message.user("x")], tools=[tool], tool_choice="weather")
    assert "tool_choice" not in named and len(named["tools"]) == 1
    # "none": the only way to keep Ollama from calling tools is not to offer them
    assert "tools" not in build(messages=[Message.user("x")], tools=[tool], tool_choice="none")


class Answer(BaseModel):
    answer: int


def test_response_format() -> None:
    body = build(messages=[Message.user("x")], response_format=Answer)
    assert body["format"] == Answer.model_json_schema()
    assert build(messages=[Message.user("x")], response_format="json")["format"] == "json"
    no_schema = ResponseFormat(type="json_schema")
    assert build(messages=[Message.user("x")], response_format=no_schema)["format"] == "json"


def test_options_at_their_wire_path_then_extra_body() -> None:
    body = build(
        messages=[Message.user("x")],
        temperature=0.2,
        options={"num_ctx": 8192, "top_k": 20, "keep_alive": "5m", "think": True},
        extra_body={"raw": True},
    )
    assert body["options"] == {"temperature": 0.2, "num_ctx": 8192, "top_k": 20}
    assert body["keep_alive"] == "5m"
    assert body["think"] is True
    assert body["raw"] is True


def test_max_tokens_default_from_spec() -> None:
    spec = make_spec(limits={"default_max_tokens": 256})
    assert build(messages=[Message.user("x")], spec=spec)["options"] == {"num_predict": 256}


# =========================================================================== response


def load_vcr(path: Path) -> list[dict[str, Any]]:
    interactions: list[dict[str, Any]] = yaml.safe_load(path.read_text())["interactions"]
    return interactions


@needs_cassettes
def test_parse_recorded_chat_response() -> None:
    (interaction,) = load_vcr(OLLAMA / "openllmetry" / "test_ollama_chat_legacy.yaml")
    body = json.loads(interaction["response"]["body"]["string"])
    DIALECT.check_wire("response", body)
    response = DIALECT.parse_response(body, SPEC)
    assert response.model == "llama3"
    assert response.content.startswith("A joke about OpenTelemetry!\n\nWhy did")
    assert response.content == body["message"]["content"]
    assert response.finish_reason == "stop" and response.raw_finish_reason == "stop"
    assert response.usage is not None
    assert (response.usage.input_tokens, response.usage.output_tokens) == (17, 66)
    assert response.tool_calls == []
    assert response.reasoning is None
    assert response.raw is body


@needs_cassettes
def test_parse_recorded_generate_response() -> None:
    (interaction,) = load_vcr(OLLAMA / "openllmetry" / "test_ollama_generation_legacy.yaml")
    body = json.loads(interaction["response"]["body"]["string"])
    DIALECT.check_wire("response", body)
    response = DIALECT.parse_response(body, SPEC)
    assert response.content == body["response"]
    assert response.content.startswith("A niche topic!")
    assert response.usage is not None
    assert (response.usage.input_tokens, response.usage.output_tokens) == (17, 63)


@needs_cassettes
def test_parse_recorded_parallel_tool_calls() -> None:
    body = json.loads((OLLAMA / "prism" / "generate-text-with-multiple-tools-1.json").read_text())
    DIALECT.check_wire("response", body)
    response = DIALECT.parse_response(body, SPEC)
    assert response.tool_calls == [
        ToolCall(
            id="call_0", name="search", arguments={"query": "time of Detroit Tigers game today"}
        ),
        ToolCall(id="call_1", name="weather", arguments={"city": "Detroit"}),
    ]
    assert response.content == ""
    # Ollama says "stop" even when the model called tools
    assert response.finish_reason == "tool_calls"
    assert response.raw_finish_reason == "stop"
    assert response.usage is not None
    assert (response.usage.input_tokens, response.usage.output_tokens) == (235, 111)


@needs_cassettes
def test_parse_recorded_thinking_response() -> None:
    body = json.loads((OLLAMA / "prism" / "text-with-thinking-enabled-1.json").read_text())
    DIALECT.check_wire("response", body)
    response = DIALECT.parse_response(body, SPEC)
    assert response.content == "Got it! How can I help you with your test?"
    assert response.reasoning is not None
    assert response.reasoning.startswith('User just says "Test prompt".')


@pytest.mark.parametrize(
    ("raw", "finish"),
    [("stop", "stop"), ("length", "length"), ("load", "other"), ("unload", "other")],
)
def test_done_reason_mapping(raw: str, finish: str) -> None:
    body = {"model": "m", "message": {"role": "assistant", "content": ""}, "done_reason": raw}
    response = DIALECT.parse_response(body, SPEC)
    assert response.finish_reason == finish
    assert response.raw_finish_reason == raw
    assert response.usage is None  # no counters in the body


def test_parse_response_tool_call_with_function_index_and_id() -> None:
    body = {
        "model": "m",
        "message": {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"function": {"index": 0, "name": "a", "arguments": {"x": 1}}},
                {"id": "call_abc", "function": {"index": 1, "name": "b", "arguments": {}}},
            ],
        },
        "done": True,
        "done_reason": "stop",
    }
    response = DIALECT.parse_response(body, SPEC)
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [
        ("call_0", "a", {"x": 1}),
        ("call_abc", "b", {}),
    ]


def test_parse_models() -> None:
    body = {
        "models": [
            {
                "name": "llama3.2:latest",
                "model": "llama3.2:latest",
                "modified_at": "2025-05-04T17:37:44.706015396-07:00",
                "size": 2019393189,
                "digest": "a80c4f17acd5",
                "details": {"family": "llama", "parameter_size": "3.2B"},
            },
            {"name": "nomic-embed-text:latest", "model": "nomic-embed-text:latest"},
        ]
    }
    DIALECT.check_wire("models", body)
    models = DIALECT.parse_models(body, SPEC)
    assert [m.id for m in models] == ["llama3.2:latest", "nomic-embed-text:latest"]
    assert models[0].created is None
    assert models[0].raw["details"]["family"] == "llama"


@needs_cassettes
def test_parse_recorded_embeddings() -> None:
    body = json.loads((OLLAMA / "prism" / "embeddings-input-1.json").read_text())
    DIALECT.check_wire("embeddings", body)
    response = DIALECT.parse_embeddings(body, SPEC)
    assert response.model == body["model"]
    assert len(response.embeddings) == 1 and len(response.embeddings[0]) == 1024
    assert response.embeddings[0][0] == pytest.approx(-0.003966682)
    assert response.usage is not None
    assert response.usage.input_tokens == body["prompt_eval_count"]

    exchanges = read_httprr(OLLAMA / "langchaingo" / "TestCreateEmbedding.httprr")
    assert len(exchanges) == 4
    for request, _, raw in exchanges:
        sent = json.loads(request.partition(b"\r\n\r\n")[2])
        body = json.loads(raw)
        DIALECT.check_wire("embeddings", body)
        response = DIALECT.parse_embeddings(body, SPEC)
        inputs = sent["input"] if isinstance(sent["input"], list) else [sent["input"]]
        assert len(response.embeddings) == len(inputs)
        assert all(len(vector) == 768 for vector in response.embeddings)


@needs_cassettes
def test_parse_recorded_legacy_embedding() -> None:
    (interaction,) = load_vcr(OLLAMA / "openllmetry" / "test_ollama_embeddings_legacy.yaml")
    body = json.loads(interaction["response"]["body"]["string"])
    response = DIALECT.parse_embeddings(body, SPEC)
    assert len(response.embeddings) == 1 and len(response.embeddings[0]) == 4096


def test_embeddings_request() -> None:
    assert DIALECT.build_embeddings_request(["a", "b"], "nomic-embed-text", {}) == {
        "model": "nomic-embed-text",
        "input": ["a", "b"],
    }


# =========================================================================== streaming


def read_httprr(path: Path) -> list[tuple[bytes, bytes, bytes]]:
    """(request, response head, de-chunked response body) per exchange of a httprr trace."""
    data = path.read_bytes()
    header, _, rest = data.partition(b"\n")
    assert header == b"httprr trace v1"
    exchanges = []
    while rest:
        sizes, _, rest = rest.partition(b"\n")
        n, m = map(int, sizes.split())
        request, response, rest = rest[:n], rest[n : n + m], rest[n + m :]
        head, _, body = response.partition(b"\r\n\r\n")
        if b"transfer-encoding: chunked" in head.lower():
            out = b""
            while True:
                size_line, _, body = body.partition(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    break
                out += body[:size]
                body = body[size + 2 :]
            body = out
        exchanges.append((request, head, body))
    return exchanges


def decode(data: bytes, piece: int | None = None) -> list[ServerSentEvent]:
    decoder = NDJSONDecoder()
    if piece is None:
        events = decoder.feed(data)
    else:
        events = []
        for start in range(0, len(data), piece):
            events.extend(decoder.feed(data[start : start + piece]))
    return events + decoder.flush()


def run(events: list[ServerSentEvent]) -> tuple[OllamaStreamParser, list[StreamingChunk]]:
    parser = DIALECT.stream_parser(SPEC)
    chunks = [c for c in map(parser.parse, events) if c is not None]
    return parser, chunks


def fold(chunks: list[StreamingChunk]) -> CompletionResponse:
    accumulator = Accumulator()
    for chunk in chunks:
        accumulator.add(chunk)
    return accumulator.snapshot()


def records(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.splitlines() if line.strip()]


@needs_cassettes
def test_recorded_text_stream() -> None:
    (interaction,) = load_vcr(OLLAMA / "openllmetry" / "test_ollama_streaming_chat_legacy.yaml")
    assert json.loads(interaction["request"]["body"])["stream"] is True
    data = interaction["response"]["body"]["string"].encode("utf-8")
    expected = "".join(r["message"]["content"] for r in records(data))
    parser, chunks = run(decode(data))
    assert parser.finished
    assert len(chunks) == 50  # 49 content records and the final one
    assert sum(c.is_final for c in chunks) == 1 and chunks[-1].is_final
    assert all(c.model == "llama3" and isinstance(c.raw, dict) for c in chunks)
    response = fold(chunks)
    assert response.content == expected
    assert response.content.startswith("Why did the OpenTelemetry agent go to therapy?\n\n")
    assert "it's a bit of a stretch" in response.content
    assert response.finish_reason == "stop" and response.raw_finish_reason == "stop"
    assert response.usage is not None
    assert (response.usage.input_tokens, response.usage.output_tokens) == (17, 50)
    assert fold(run(decode(data, piece=5))[1]) == response


@needs_cassettes
def test_recorded_thinking_stream() -> None:
    data = (OLLAMA / "prism" / "stream-with-thinking-enabled-1.sse").read_bytes()
    parsed = records(data)
    parser, chunks = run(decode(data))
    assert parser.finished
    response = fold(chunks)
    assert response.reasoning == "".join(r["message"].get("thinking", "") for r in parsed)
    assert response.reasoning is not None
    assert response.reasoning.startswith('The user says "Test prompt".')
    assert response.content == "".join(r["message"]["content"] for r in parsed)
    assert response.content.endswith(" specific you need.")
    assert response.model == "gpt-oss"
    assert response.finish_reason == "stop"
    assert response.usage is not None
    assert (response.usage.input_tokens, response.usage.output_tokens) == (69, 76)


@needs_cassettes
def test_recorded_tool_stream() -> None:
    data = (OLLAMA / "prism" / "stream-with-tools-1.sse").read_bytes()
    parser, chunks = run(decode(data))
    assert parser.finished
    deltas = [d for c in chunks for d in c.tool_calls]
    # the first call has no function.index, the second says index 1
    assert [(d.index, d.id, d.name) for d in deltas] == [
        (0, "call_0", "weather"),
        (1, "call_1", "search"),
    ]
    assert json.loads(deltas[0].arguments) == {"city": "Detroit"}
    response = fold(chunks)
    assert response.tool_calls == [
        ToolCall(id="call_0", name="weather", arguments={"city": "Detroit"}),
        ToolCall(id="call_1", name="search", arguments={"query": "Detroit Tigers game time today"}),
    ]
    assert response.finish_reason == "tool_calls"
    assert response.raw_finish_reason == "stop"
    assert response.usage is not None
    assert (response.usage.input_tokens, response.usage.output_tokens) == (218, 306)


@needs_cassettes
def test_recorded_length_stream_with_utf8_split_across_reads() -> None:
    """gemma3: options.num_predict=50 → done_reason "length"; U+2019 and an emoji in raw UTF-8."""
    (_, head, data), *_ = read_httprr(OLLAMA / "langchaingo" / "TestClient_GenerateChat.httprr")
    assert b"application/x-ndjson" in head
    expected = "".join(r["message"]["content"] for r in records(data))
    assert "😊" in expected and "\u2019" in expected
    for piece in (None, 1, 3):
        parser, chunks = run(decode(data, piece))
        assert parser.finished
        response = fold(chunks)
        assert response.content == expected
        assert response.finish_reason == "length" and response.raw_finish_reason == "length"
        assert response.usage is not None
        assert (response.usage.input_tokens, response.usage.output_tokens) == (15, 50)


@needs_cassettes
def test_recorded_generate_stream() -> None:
    (_, _, data), *_ = read_httprr(OLLAMA / "langchaingo" / "TestClient_GenerateStream.httprr")
    parser, chunks = run(decode(data))
    assert parser.finished
    response = fold(chunks)
    assert response.content == "".join(r["response"] for r in records(data))
    assert "5" in response.content
    assert response.usage is not None
    assert (response.usage.input_tokens, response.usage.output_tokens) == (16, 22)


@needs_cassettes
def test_recorded_json_mode_stream_concatenates_to_json() -> None:
    (_, _, data), *_ = read_httprr(OLLAMA / "langchaingo" / "TestWithFormat.httprr")
    response = fold(run(decode(data))[1])
    assert isinstance(json.loads(response.content), dict)


def ndjson(*items: dict[str, Any]) -> list[ServerSentEvent]:
    return [ServerSentEvent(json.dumps(item).encode()) for item in items]


def test_final_record_content_is_kept() -> None:
    parser, chunks = run(
        ndjson(
            {"model": "m", "message": {"role": "assistant", "content": "Hello"}, "done": False},
            {"model": "m", "message": {"role": "assistant", "content": ""}, "done": False},
            {
                "model": "m",
                "message": {"role": "assistant", "content": " world", "thinking": "!"},
                "done": True,
                "done_reason": "stop",
                "prompt_eval_count": 3,
                "eval_count": 2,
            },
        )
    )
    assert len(chunks) == 2  # the empty record made no chunk
    final = chunks[-1]
    assert parser.finished and final.is_final
    assert final.content == " world" and final.reasoning == "!"
    response = fold(chunks)
    assert response.content == "Hello world"
    assert response.usage is not None and response.usage.total_tokens == 5


def test_tool_call_indexes_never_collide() -> None:
    _, chunks = run(
        ndjson(
            {
                "model": "m",
                "message": {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [
                        {"function": {"name": "a", "arguments": {}}},
                        {"function": {"name": "b", "arguments": {"k": "v"}}},
                    ],
                },
                "done": False,
            },
            {
                "model": "m",
                "message": {
                    "role": "assistant",
                    "content": "",
                    # numbered from 0 again by the server: must not merge with "a"
                    "tool_calls": [{"function": {"index": 0, "name": "c", "arguments": {}}}],
                },
                "done": True,
                "done_reason": "stop",
            },
        )
    )
    response = fold(chunks)
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [
        ("call_0", "a", {}),
        ("call_1", "b", {"k": "v"}),
        ("call_2", "c", {}),
    ]
    assert response.finish_reason == "tool_calls"


def test_error_record_raises() -> None:
    parser = DIALECT.stream_parser(SPEC)
    with pytest.raises(StreamEventError, match="model requires more system memory") as info:
        parser.parse(ServerSentEvent(b'{"error":"model requires more system memory"}'))
    assert info.value.body == {"error": "model requires more system memory"}
    assert not parser.finished


def test_broken_record_is_a_decode_error() -> None:
    with pytest.raises(StreamDecodeError):
        DIALECT.stream_parser(SPEC).parse(ServerSentEvent(b'{"model": "m", "mess'))


def test_stream_without_done_is_not_finished() -> None:
    parser, chunks = run(
        ndjson({"model": "m", "message": {"role": "assistant", "content": "Hi"}, "done": False})
    )
    assert not parser.finished
    assert fold(chunks).content == "Hi"


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        ({"message": {"role": "assistant", "tool_calls": [None]}}, "tool_calls[0] is NoneType"),
        ({"message": {"tool_calls": {"function": {}}}}, "message.tool_calls is dict, not a list"),
        (
            {"message": {"tool_calls": [{"function": {"name": 5}}]}},
            "message.tool_calls[0].function.name is int, not a string",
        ),
        ({"message": {"tool_calls": [{"function": [1]}]}}, "tool_calls[0].function is list"),
        ({"message": {"tool_calls": [{"id": 3, "function": {}}]}}, "tool_calls[0].id is int"),
        ({"message": {"content": 5}}, "message.content is int, not a string"),
        ({"message": {"content": "", "thinking": [1]}}, "message.thinking is list"),
        ({"done": True, "done_reason": []}, "done_reason is list, not a string"),
        ({"done": True, "eval_count": "4"}, "eval_count is str, not an int"),
        ({"done": True, "prompt_eval_count": 2.5}, "prompt_eval_count is float"),
        ({"thinking": [None]}, "thinking is list, not a string"),
        ({"response": [None]}, "response is list, not a string"),
    ],
)
def test_record_of_the_wrong_shape_is_a_decode_error(record: dict[str, Any], problem: str) -> None:
    parser = DIALECT.stream_parser(SPEC)
    with pytest.raises(StreamDecodeError, match=r"Ollama.* record does not have") as info:
        parser.parse(ServerSentEvent(json.dumps(record).encode()))
    assert problem in info.value.message
    assert not parser.finished


def test_model_of_the_wrong_type_is_dropped() -> None:
    parser, chunks = run(
        ndjson(
            {"model": 5, "message": {"content": "Hi"}, "done": False},
            {"model": [None], "done": True, "done_reason": "stop", "eval_count": 1},
        )
    )
    assert parser.finished and all(c.model is None for c in chunks)
    response = fold(chunks)
    assert (response.model, response.content, response.finish_reason) == (None, "Hi", "stop")


def test_tool_call_odd_index_and_arguments_stay_typed() -> None:
    _, chunks = run(
        ndjson(
            {
                "message": {
                    "tool_calls": [
                        # a bool is not a server-given index: the counter numbers it
                        {"function": {"index": True, "name": "a", "arguments": [1, 2]}},
                        {"function": {"name": "b", "arguments": '{"k": 1}'}},
                    ]
                },
                "done": True,
                "done_reason": "stop",
            }
        )
    )
    deltas = chunks[0].tool_calls
    assert [(d.index, d.id, d.name, d.arguments) for d in deltas] == [
        (0, "call_0", "a", "[1,2]"),
        (1, "call_1", "b", '{"k": 1}'),
    ]
    assert fold(chunks).tool_calls[1].arguments == {"k": 1}


# --------------------------------------------------------------------------- through the client


def test_tool_round_trip_ollama_wire() -> None:
    wire = Wire(json_answer(OLLAMA_TEXT))
    wire.client("ollama").complete(
        model="llama3.2", messages=tool_history(), tools=[Tool.from_model(Weather)]
    )
    body = wire.body
    assert body["messages"][2]["tool_calls"] == [
        {"function": {"name": "Weather", "arguments": {"city": "Paris"}}}
    ]
    assert body["messages"][3]["role"] == "tool"
    assert body["stream"] is False


def test_structured_output_ollama_format() -> None:
    answer = {**OLLAMA_TEXT, "message": {"role": "assistant", "content": '{"city": "Rome"}'}}
    wire = Wire(json_answer(answer))
    response = wire.client("ollama").complete(
        model="llama3.2", messages=[{"role": "user", "content": "x"}], response_format=Weather
    )
    assert response.parsed == Weather(city="Rome")
    assert wire.body["format"]["properties"]["city"]["type"] == "string"


def test_images_in_each_dialect_ollama() -> None:
    wire = Wire(json_answer(OLLAMA_TEXT))
    wire.client("ollama").complete(model="llava", messages=image_message(ImagePart.from_bytes(PNG)))
    assert wire.body["messages"][0]["images"] == [ImagePart.from_bytes(PNG).base64()]


def test_embeddings_ollama() -> None:
    wire = Wire(
        json_answer(
            {"model": "nomic-embed-text", "embeddings": [[0.5, 0.25]], "prompt_eval_count": 2}
        )
    )
    result = wire.client("ollama").embed("hello", model="nomic-embed-text")
    assert result.embeddings == [[0.5, 0.25]]
    assert wire.requests[0].url.path == "/api/embed"


def test_documents_are_refused_before_any_request_is_sent() -> None:
    wire = Wire(no_io)
    with pytest.raises(CapabilityError, match="Ollama takes no documents: send its text"):
        wire.client("ollama").complete(
            messages=[Message.user([DocumentPart.from_text("notes"), TextPart(text="Sum up.")])]
        )
    assert wire.requests == []


async def test_documents_are_refused_before_any_request_is_sent_async() -> None:
    client = AsyncMockProvider(dialect_of="ollama")
    message = Message.user([DocumentPart.from_bytes(b"%PDF-1"), TextPart(text="Sum up.")])
    with pytest.raises(CapabilityError, match="Ollama takes no documents"):
        await client.complete(messages=[message])
    with pytest.raises(CapabilityError, match="Ollama takes no documents"):
        async with client.stream_completion(messages=[message]):
            raise AssertionError("the block must not run")
    assert client.requests == []
    await client.close()


# --------------------------------------------------------------------------- conversations


def test_thinking_is_a_part_whole_and_streamed_and_goes_back_as_text() -> None:
    from modelwire.types import TextPart, ThinkingPart

    whole = DIALECT.parse_response(
        {
            "model": "m",
            "message": {"role": "assistant", "content": "4", "thinking": "2+2=4"},
            "done": True,
            "done_reason": "stop",
        },
        SPEC,
    )
    assert whole.parts == [ThinkingPart(text="2+2=4", provider=SPEC.name), TextPart(text="4")]
    streamed = fold(
        run(
            ndjson(
                {"model": "m", "message": {"role": "assistant", "content": "", "thinking": "2+2"}},
                {"model": "m", "message": {"role": "assistant", "content": "", "thinking": "=4"}},
                {"model": "m", "message": {"role": "assistant", "content": "4"}},
                {"model": "m", "message": {"role": "assistant", "content": ""}, "done": True},
            )
        )[1]
    )
    assert streamed.parts == whole.parts
    body = build(messages=[Message.user("2+2?"), streamed.to_message(), Message.user("sure?")])
    assert body["messages"][1] == {"role": "assistant", "content": "4", "thinking": "2+2=4"}
    # another provider's thinking goes back as text too (Ollama keeps no signatures)
    foreign = Message(
        role="assistant",
        content=[ThinkingPart(text="hm", signature="s", provider="anthropic"), TextPart(text="4")],
    )
    sent = build(messages=[Message.user("q"), foreign])["messages"][1]
    assert sent == {"role": "assistant", "content": "4", "thinking": "hm"}
