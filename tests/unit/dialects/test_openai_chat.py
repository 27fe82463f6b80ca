"""The OpenAI chat completions dialect (`modelwire.dialects.openai_chat`)."""

from __future__ import annotations

from modelwire import ImagePart, Tool

from tests.unit.support import (
    KEYS,
    OPENAI_TEXT,
    Weather,
    Wire,
    image_message,
    json_answer,
    tool_history,
)


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
