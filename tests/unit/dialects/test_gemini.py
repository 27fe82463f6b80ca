"""The Gemini dialect: request mapping (through a real client on an in-memory transport),
response parsing, thought signatures carried back on their parts, and the stream parser
over recorded bytes from the shared recordings."""

from __future__ import annotations

import json
from typing import Any

import httpx
import modelwire
import pytest
from modelwire._core.accumulate import Accumulator
from modelwire._framing import ServerSentEvent, SSEDecoder
from modelwire.dialects.gemini import DIALECT, PART_ITEM, GeminiStreamParser
from modelwire.errors import (
    RequestValidationError,
    StreamDecodeError,
    StreamEventError,
)
from modelwire.providers.gemini import SPEC
from modelwire.types import (
    CompletionResponse,
    ImagePart,
    Message,
    TextPart,
    ToolCall,
)

from tests.cassettes.converted import shared_source_dir
from tests.unit.support import PNG, Weather, Wire, json_answer

yaml = pytest.importorskip("yaml")

TEXT = {
    "candidates": [
        {
            "content": {"parts": [{"text": "Hello!"}], "role": "model"},
            "finishReason": "STOP",
            "index": 0,
        }
    ],
    "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 3, "totalTokenCount": 12},
    "modelVersion": "gemini-2.5-flash",
    "responseId": "r-1",
}


def body_of(answer: dict[str, Any] = TEXT, **fields: Any) -> dict[str, Any]:
    wire = Wire(json_answer(answer))
    client = wire.client("gemini", api_key="AIza-test")
    client.complete(**{"messages": [{"role": "user", "content": "Hi"}], **fields})
    return wire.body


def parse(body: dict[str, Any]) -> CompletionResponse:
    return DIALECT.parse_response(body, SPEC)


# --------------------------------------------------------------------------- requests


def test_the_model_goes_in_the_url_and_the_key_in_its_header() -> None:
    wire = Wire(json_answer(TEXT))
    client = wire.client("gemini/gemini-2.5-pro", api_key="AIza-test")
    client.complete(messages=[{"role": "user", "content": "Hi"}])
    request = wire.requests[-1]
    assert str(request.url) == (
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:generateContent"
    )
    assert request.headers["x-goog-api-key"] == "AIza-test"
    assert "model" not in wire.body and "authorization" not in request.headers


def test_system_turns_and_roles() -> None:
    body = body_of(
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello"},
            {"role": "user", "content": "Again"},
            {"role": "user", "content": "and again"},
        ]
    )
    assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "Hi"}]},
        {"role": "model", "parts": [{"text": "Hello"}]},
        # one role's run is one turn
        {"role": "user", "parts": [{"text": "Again"}, {"text": "and again"}]},
    ]


def test_generation_config_holds_the_sampling_fields_and_options() -> None:
    body = body_of(
        temperature=0.5,
        top_p=0.9,
        max_tokens=100,
        stop=["END"],
        seed=7,
        top_k=40,
        thinking_budget=1024,
        include_thoughts=True,
    )
    assert body["generationConfig"] == {
        "temperature": 0.5,
        "topP": 0.9,
        "maxOutputTokens": 100,
        "stopSequences": ["END"],
        "seed": 7,
        "topK": 40,
        "thinkingConfig": {"thinkingBudget": 1024, "includeThoughts": True},
    }
    assert "generationConfig" not in body_of()


def test_structured_output_is_a_json_mime_type_and_schema() -> None:
    json_text = json.loads(json.dumps(TEXT))
    json_text["candidates"][0]["content"]["parts"] = [{"text": '{"city": "Paris", "temp": 21}'}]
    config = body_of(json_text, response_format=Weather)["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseJsonSchema"] == Weather.model_json_schema()
    assert body_of(json_text, response_format="json")["generationConfig"] == {
        "responseMimeType": "application/json"
    }


@pytest.mark.parametrize(
    ("choice", "config"),
    [
        ("auto", {"mode": "AUTO"}),
        ("none", {"mode": "NONE"}),
        ("required", {"mode": "ANY"}),
        ("get_weather", {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}),
    ],
)
def test_tools_and_tool_choice(choice: str, config: dict[str, Any]) -> None:
    tool = {"name": "get_weather", "description": "Weather.", "parameters": {"type": "object"}}
    body = body_of(tools=[tool], tool_choice=choice)
    assert body["tools"] == [
        {
            "functionDeclarations": [
                {
                    "name": "get_weather",
                    "description": "Weather.",
                    "parametersJsonSchema": {"type": "object"},
                }
            ]
        }
    ]
    assert body["toolConfig"] == {"functionCallingConfig": config}


def test_images_are_inline_data_or_file_data() -> None:
    parts: list[TextPart | ImagePart] = [
        TextPart(text="What is this?"),
        ImagePart.from_bytes(PNG),
        ImagePart(url="gs://bucket/cat.jpg", media_type="image/jpeg"),
        ImagePart(url="data:image/webp;base64,AAAA"),
    ]
    body = body_of(messages=[Message.user(parts)])
    assert body["contents"][0]["parts"] == [
        {"text": "What is this?"},
        {"inlineData": {"mimeType": "image/png", "data": ImagePart.from_bytes(PNG).base64()}},
        {"fileData": {"mimeType": "image/jpeg", "fileUri": "gs://bucket/cat.jpg"}},
        {"inlineData": {"mimeType": "image/webp", "data": "AAAA"}},
    ]


def test_tool_results_answer_by_function_name() -> None:
    call = ToolCall(id="call_0", name="get_weather", arguments={"city": "Paris"})
    body = body_of(
        messages=[
            Message.user("Weather in Paris?"),
            Message.assistant(tool_calls=[call]),
            Message.tool("call_0", '{"temp": 21}'),
            Message.tool("call_0", "sunny"),
        ]
    )
    assert body["contents"][1] == {
        "role": "model",
        "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}],
    }
    # the name comes from the call the result answers; text that is not an object is wrapped
    assert body["contents"][2] == {
        "role": "user",
        "parts": [
            {"functionResponse": {"name": "get_weather", "response": {"temp": 21}}},
            {"functionResponse": {"name": "get_weather", "response": {"result": "sunny"}}},
        ],
    }


def test_a_stream_goes_to_stream_generate_content_with_alt_sse() -> None:
    events = event(
        {"candidates": [{"content": {"parts": [{"text": "Hi"}]}, "finishReason": "STOP"}]}
    )
    wire = Wire(lambda request: httpx.Response(200, content=events))
    client = wire.client("gemini", api_key="AIza-test")
    with client.stream_completion(messages=[{"role": "user", "content": "Hi"}]) as stream:
        assert stream.accumulate().content == "Hi"
    assert str(wire.requests[-1].url).endswith(
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    )


def test_a_model_is_needed_for_the_url() -> None:
    config_spec = SPEC.model_copy(update={"default_model": None})
    client = modelwire.Client(spec=config_spec, api_key="AIza-test")
    with pytest.raises(RequestValidationError, match="no model given"):
        client.complete(messages=[{"role": "user", "content": "Hi"}])


def test_too_many_stop_sequences_are_refused_before_sending() -> None:
    with pytest.raises(RequestValidationError):
        body_of(stop=["a", "b", "c", "d", "e", "f"])


# --------------------------------------------------------------------------- responses

SIGNED = {
    "candidates": [
        {
            "content": {
                "parts": [
                    {"text": "Let me think.", "thought": True},
                    {
                        "functionCall": {"name": "get_country", "args": {}},
                        "thoughtSignature": "c2ln",
                    },
                ],
                "role": "model",
            },
            "finishReason": "STOP",
            "index": 0,
        }
    ],
    "usageMetadata": {
        "promptTokenCount": 29,
        "candidatesTokenCount": 10,
        "thoughtsTokenCount": 202,
        "cachedContentTokenCount": 4,
    },
}


def test_text_usage_and_ids() -> None:
    response = parse(TEXT)
    assert (response.content, response.id, response.model) == ("Hello!", "r-1", "gemini-2.5-flash")
    assert (response.finish_reason, response.raw_finish_reason) == ("stop", "STOP")
    assert response.usage is not None
    assert (response.usage.input_tokens, response.usage.output_tokens) == (9, 3)


def test_thoughts_function_calls_and_their_signatures() -> None:
    response = parse(SIGNED)
    assert response.reasoning == "Let me think." and response.content == ""
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [
        ("call_0", "get_country", {})
    ]
    # Gemini says STOP when it calls a function: the unified reason says so
    assert (response.finish_reason, response.raw_finish_reason) == ("tool_calls", "STOP")
    # thoughts count as output, as OpenAI's reasoning tokens do
    assert response.usage is not None
    assert response.usage.output_tokens == 212
    assert (response.usage.reasoning_tokens, response.usage.cache_read_tokens) == (202, 4)
    assert response.provider_items == [
        {
            "type": PART_ITEM,
            "part": {
                "functionCall": {"name": "get_country", "args": {}},
                "thoughtSignature": "c2ln",
            },
        }
    ]


def test_a_signature_goes_back_on_the_part_it_came_with() -> None:
    signed_text = {
        "candidates": [{"content": {"parts": [{"text": "Paris.", "thoughtSignature": "dGV4dA=="}]}}]
    }
    history = [
        Message.user("Where?"),
        parse(SIGNED).to_message(),
        Message.tool("call_0", "France"),
        parse(signed_text).to_message(),
        Message.user("Thanks"),
    ]
    contents = body_of(messages=history)["contents"]
    assert contents[1] == {
        "role": "model",
        "parts": [
            {"functionCall": {"name": "get_country", "args": {}}, "thoughtSignature": "c2ln"}
        ],
    }
    assert contents[3] == {
        "role": "model",
        "parts": [{"text": "Paris.", "thoughtSignature": "dGV4dA=="}],
    }


@pytest.mark.parametrize(
    ("raw", "finish"),
    [
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("MALFORMED_FUNCTION_CALL", "error"),
        ("LANGUAGE", "other"),
        ("SOMETHING_NEW", "other"),
    ],
)
def test_finish_reasons_keep_the_raw_one(raw: str, finish: str) -> None:
    body = json.loads(json.dumps(TEXT))
    body["candidates"][0]["finishReason"] = raw
    response = parse(body)
    assert (response.finish_reason, response.raw_finish_reason) == (finish, raw)


def test_a_blocked_prompt_is_a_content_filter_finish() -> None:
    body = {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "usageMetadata": {}}
    response = parse(body)
    assert (response.content, response.finish_reason) == ("", "content_filter")
    assert response.raw_finish_reason == "PROHIBITED_CONTENT"


def test_models_drop_their_prefix_and_pages_follow_next_page_token() -> None:
    pages = [
        {
            "models": [{"name": "models/gemini-2.5-flash", "inputTokenLimit": 1048576}],
            "nextPageToken": "p2",
        },
        {"models": [{"name": "models/gemini-2.5-pro"}]},
    ]
    wire = Wire(lambda request: httpx.Response(200, json=pages[len(wire.requests) - 1]))
    models = wire.client("gemini", api_key="AIza-test").list_models()
    assert [(m.id, m.context_length) for m in models] == [
        ("gemini-2.5-flash", 1048576),
        ("gemini-2.5-pro", None),
    ]
    assert [str(r.url) for r in wire.requests] == [
        "https://generativelanguage.googleapis.com/v1beta/models?pageSize=1000",
        "https://generativelanguage.googleapis.com/v1beta/models?pageSize=1000&pageToken=p2",
    ]


def test_embeddings_are_one_batch_request() -> None:
    answer = {"embeddings": [{"values": [0.1, 0.2]}, {"values": [0.3, 0.4]}]}
    wire = Wire(json_answer(answer))
    got = wire.client("gemini", api_key="AIza-test").embed(["a", "b"], model="gemini-embedding-001")
    assert got.embeddings == [[0.1, 0.2], [0.3, 0.4]]
    assert str(wire.requests[-1].url).endswith("/models/gemini-embedding-001:batchEmbedContents")
    assert wire.body == {
        "requests": [
            {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "a"}]}},
            {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "b"}]}},
        ]
    }


# --------------------------------------------------------------------------- streams


def stream_of(body: bytes, read: int = 13) -> tuple[CompletionResponse, GeminiStreamParser]:
    decoder, parser, accumulator = SSEDecoder(), GeminiStreamParser(), Accumulator()
    for i in range(0, len(body), read):
        for event in decoder.feed(body[i : i + read]):
            chunk = parser.parse(event)
            if chunk is not None:
                accumulator.add(chunk)
    for event in decoder.flush():
        chunk = parser.parse(event)
        if chunk is not None:
            accumulator.add(chunk)
    return accumulator.snapshot(), parser


def event(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\r\n\r\n"


def test_an_error_event_mid_stream_is_typed() -> None:
    error = {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}
    parser = GeminiStreamParser()
    with pytest.raises(StreamEventError) as info:
        parser.parse(ServerSentEvent(json.dumps(error).encode()))
    assert (info.value.message, info.value.error_type) == (
        "The model is overloaded.",
        "UNAVAILABLE",
    )


@pytest.mark.parametrize(
    "payload",
    [
        {"candidates": {"content": {}}},
        {"candidates": [{"content": {"parts": [{"text": 5}]}}]},
        {"candidates": [{"content": {"parts": "text"}}]},
        {"usageMetadata": {"promptTokenCount": "9"}},
    ],
)
def test_a_malformed_event_is_a_typed_error(payload: dict[str, Any]) -> None:
    with pytest.raises(StreamDecodeError, match="Gemini stream event"):
        GeminiStreamParser().parse(ServerSentEvent(json.dumps(payload).encode()))


def test_a_stream_without_a_finish_reason_is_unfinished() -> None:
    body = event({"candidates": [{"content": {"parts": [{"text": "Hel"}]}}]})
    got, parser = stream_of(body)
    assert got.content == "Hel" and not parser.finished


# --------------------------------------------------------------------------- the recordings

GOOGLE = shared_source_dir() / "google"


def recorded_streams() -> list[tuple[str, int, dict[str, Any]]]:
    found = []
    for path in sorted(GOOGLE.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for index, interaction in enumerate(data["interactions"]):
            if ":streamGenerateContent" in interaction["request"]["uri"]:
                found.append((path.stem, index, interaction["response"]))
    return found


STREAMS = recorded_streams()


def test_the_recordings_hold_streams() -> None:
    assert len(STREAMS) >= 5


@pytest.mark.parametrize(("name", "index", "response"), STREAMS, ids=lambda v: str(v)[:60])
def test_recorded_streams_parse_in_any_split(
    name: str, index: int, response: dict[str, Any]
) -> None:
    body = response["body"]["string"]
    body = body if isinstance(body, bytes) else body.encode()
    whole, parser = stream_of(body, read=len(body) or 1)
    assert parser.finished
    # every split of the bytes into reads gives the same answer
    for read in (1, 7, 64):
        split, _ = stream_of(body, read=read)
        assert split.model_dump(exclude={"raw"}) == whole.model_dump(exclude={"raw"})
    # the text is the text parts' joined, thoughts apart
    texts, thoughts = [], []
    for line in body.split(b"\r\n"):
        if line.startswith(b"data: "):
            for candidate in json.loads(line[6:]).get("candidates") or ():
                for part in (candidate.get("content") or {}).get("parts") or ():
                    if "text" in part:
                        (thoughts if part.get("thought") else texts).append(part["text"])
    assert whole.content == "".join(texts)
    assert (whole.reasoning or "") == "".join(thoughts)


def test_a_recorded_signature_is_kept_and_sent_back() -> None:
    path = GOOGLE / "test_google__test_google_streaming_tool_call_thought_signature.yaml"
    first = yaml.safe_load(path.read_text(encoding="utf-8"))["interactions"][0]
    got, _ = stream_of(first["response"]["body"]["string"].encode())
    assert [c.name for c in got.tool_calls] == ["get_country"]
    [item] = got.provider_items
    assert item["part"]["thoughtSignature"].startswith("EpwICpkIAXLI2nxl")
    history = [
        Message.user("What is the capital of the user country? Call the tool"),
        got.to_message(),
    ]
    sent = body_of(messages=history)["contents"][1]["parts"][0]
    assert sent["thoughtSignature"] == item["part"]["thoughtSignature"]


# --------------------------------------------------------------------------- reasoning, counting


@pytest.mark.parametrize(
    ("reasoning", "thinking"),
    [
        ("high", {"thinkingLevel": "high"}),
        ("none", {"thinkingBudget": 0}),
        (
            modelwire.Reasoning(budget_tokens=2048, summary="auto"),
            {"thinkingBudget": 2048, "includeThoughts": True},
        ),
    ],
)
def test_reasoning_becomes_the_thinking_config(reasoning: Any, thinking: dict[str, Any]) -> None:
    body = body_of(reasoning=reasoning, max_tokens=64)
    assert body["generationConfig"] == {"maxOutputTokens": 64, "thinkingConfig": thinking}


def test_reasoning_and_gemini_own_thinking_option_together_are_refused() -> None:
    wire = Wire(json_answer(TEXT))
    with pytest.raises(modelwire.RequestValidationError, match="thinking_budget"):
        wire.client("gemini", api_key="AIza-test").complete(
            messages=[{"role": "user", "content": "Hi"}], reasoning="low", thinking_budget=10
        )
    assert wire.requests == []


def test_count_tokens_sends_the_whole_request_and_reads_total_tokens() -> None:
    wire = Wire(json_answer({"totalTokens": 31, "promptTokensDetails": []}))
    client = wire.client("gemini/gemini-2.5-flash", api_key="AIza-test")
    counted = client.count_tokens(
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        max_tokens=10,
    )
    assert counted.input_tokens == 31
    request = wire.requests[-1]
    assert str(request.url).endswith("/v1beta/models/gemini-2.5-flash:countTokens")
    inner = wire.body["generateContentRequest"]
    assert inner["model"] == "models/gemini-2.5-flash"
    assert inner["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert inner["contents"] == [{"role": "user", "parts": [{"text": "Hi"}]}]
    assert "generationConfig" not in inner


async def test_count_tokens_async_and_a_bad_answer_is_typed() -> None:
    wire = Wire(json_answer({"tokens": 3}))
    http = httpx.AsyncClient(transport=httpx.MockTransport(wire))
    async with modelwire.AsyncGemini(api_key="AIza-test", http_client=http) as client:
        with pytest.raises(modelwire.UnexpectedResponseError, match="totalTokens"):
            await client.count_tokens(messages=[{"role": "user", "content": "Hi"}])
    assert len(wire.requests) == 1


def test_the_key_comes_from_gemini_api_key_else_google_api_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.setenv("GOOGLE_API_KEY", "AIza-google")
    wire = Wire(json_answer(TEXT))
    wire.client("gemini").complete(messages=[{"role": "user", "content": "Hi"}])
    assert wire.requests[-1].headers["x-goog-api-key"] == "AIza-google"
    monkeypatch.setenv("GEMINI_API_KEY", "AIza-gemini")
    wire.client("gemini").complete(messages=[{"role": "user", "content": "Hi"}])
    assert wire.requests[-1].headers["x-goog-api-key"] == "AIza-gemini"
    monkeypatch.delenv("GEMINI_API_KEY")
    monkeypatch.delenv("GOOGLE_API_KEY")
    with pytest.raises(modelwire.ConfigurationError, match="GEMINI_API_KEY or GOOGLE_API_KEY"):
        wire.client("gemini")
