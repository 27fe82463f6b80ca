"""Tools, structured output, images, reasoning, model listing and embeddings, through the
real clients with an in-memory transport that records what went on the wire."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import modelwire
import pytest
from modelwire import (
    CapabilityError,
    ImagePart,
    Message,
    OutputValidationError,
    RequestValidationError,
    TextPart,
    Tool,
    ToolCall,
)
from pydantic import BaseModel


class Wire:
    """An httpx transport that answers from a function and keeps every request."""

    def __init__(self, answer: Callable[[httpx.Request], httpx.Response]) -> None:
        self.requests: list[httpx.Request] = []
        self._answer = answer

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self._answer(request)

    @property
    def body(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.requests[-1].content)
        return value

    def client(self, name: str, **kwargs: Any) -> Any:
        http = httpx.Client(transport=httpx.MockTransport(self))
        return modelwire.client(name, http_client=http, max_retries=0, **kwargs)


def json_answer(body: dict[str, Any]) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(200, json=body)


def no_io(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"no request may be sent: {request.url}")


OPENAI_TEXT = {
    "id": "c1",
    "model": "gpt-4o-mini",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1},
}
ANTHROPIC_TEXT = {
    "id": "m1",
    "model": "claude-sonnet-4-5",
    "content": [{"type": "text", "text": "hi"}],
    "stop_reason": "end_turn",
    "usage": {"input_tokens": 3, "output_tokens": 1},
}
OLLAMA_TEXT = {
    "model": "llama3.2",
    "message": {"role": "assistant", "content": "hi"},
    "done": True,
    "done_reason": "stop",
    "prompt_eval_count": 3,
    "eval_count": 1,
}
TEXT_ANSWERS = {"openai": OPENAI_TEXT, "anthropic": ANTHROPIC_TEXT, "ollama": OLLAMA_TEXT}
KEYS = {"openai": {"api_key": "sk-x"}, "anthropic": {"api_key": "sk-ant-x"}, "ollama": {}}


class Weather(BaseModel):
    """Current weather for a city."""

    city: str
    unit: str = "celsius"


# ----------------------------------------------------------------------------- tools


def tool_history() -> list[Message]:
    call = ToolCall(id="call_1", name="Weather", arguments={"city": "Paris"})
    return [
        Message.system("Be brief."),
        Message.user("Weather in Paris?"),
        Message.assistant("", tool_calls=[call]),
        Message.tool("call_1", '{"temp": 21}', name="Weather"),
    ]


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


def test_ollama_cannot_be_forced_to_call_a_tool() -> None:
    wire = Wire(no_io)
    with pytest.raises(CapabilityError, match="tool_choice='auto'"):
        wire.client("ollama").complete(
            model="llama3.2",
            messages=tool_history(),
            tools=[Tool.from_model(Weather)],
            tool_choice="required",
        )


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


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"messages": []}, "messages is empty"),
        ({"messages": [{"role": "wizard", "content": "x"}]}, "unknown role 'wizard'"),
        (
            {"messages": [{"role": "tool", "content": "x", "tool_call_id": "nope"}]},
            "no earlier assistant",
        ),
        ({"temperature": 1.5}, "temperature=1.5 is out of range for Anthropic: use 0.0 to 1.0"),
        ({"top_p": 2}, "top_p=2"),
        ({"max_tokens": 0}, "max_tokens=0"),
        ({"options": {"num_ctx": 4096}}, "has no option 'num_ctx'"),
        ({"top_k": -1}, "below its minimum"),
        ({"tool_choice": "get_time"}, "not among the tools given"),
        ({"tool_choice": "required"}, "tool_choice is set but no tools"),
    ],
)
def test_bad_requests_fail_before_any_io(kwargs: dict[str, Any], message: str) -> None:
    wire = Wire(no_io)
    request = {"messages": [{"role": "user", "content": "hi"}], **kwargs}
    with pytest.raises(RequestValidationError, match=message):
        wire.client("anthropic", **KEYS["anthropic"]).complete(request)
    assert wire.requests == []


def test_named_tool_must_exist() -> None:
    wire = Wire(no_io)
    with pytest.raises(RequestValidationError, match="not among the tools"):
        wire.client("openai", **KEYS["openai"]).complete(
            messages=[{"role": "user", "content": "hi"}],
            tools=[Tool.from_model(Weather)],
            tool_choice="Other",
        )


def test_provider_options_reach_their_wire_path() -> None:
    wire = Wire(json_answer(OLLAMA_TEXT))
    wire.client("ollama").complete(
        model="llama3.2",
        messages=[{"role": "user", "content": "hi"}],
        num_ctx=8192,
        keep_alive="5m",
        temperature=0.2,
    )
    assert wire.body["options"] == {"num_ctx": 8192, "temperature": 0.2}
    assert wire.body["keep_alive"] == "5m"
    wire = Wire(json_answer(ANTHROPIC_TEXT))
    wire.client("anthropic", **KEYS["anthropic"]).complete(
        messages=[{"role": "user", "content": "hi"}],
        top_k=5,
        thinking={"type": "enabled", "budget_tokens": 1024},
    )
    assert wire.body["top_k"] == 5
    assert wire.body["thinking"] == {"type": "enabled", "budget_tokens": 1024}


# ----------------------------------------------------------------------------- structured output


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


def test_structured_output_ollama_format() -> None:
    answer = {**OLLAMA_TEXT, "message": {"role": "assistant", "content": '{"city": "Rome"}'}}
    wire = Wire(json_answer(answer))
    response = wire.client("ollama").complete(
        model="llama3.2", messages=[{"role": "user", "content": "x"}], response_format=Weather
    )
    assert response.parsed == Weather(city="Rome")
    assert wire.body["format"]["properties"]["city"]["type"] == "string"


def test_structured_output_anthropic_forced_tool() -> None:
    answer = {
        **ANTHROPIC_TEXT,
        "content": [{"type": "tool_use", "id": "t1", "name": "Weather", "input": {"city": "Lima"}}],
        "stop_reason": "tool_use",
    }
    wire = Wire(json_answer(answer))
    response = wire.client("anthropic", **KEYS["anthropic"]).complete(
        messages=[{"role": "user", "content": "x"}], response_format=Weather
    )
    assert response.parsed == Weather(city="Lima")
    assert wire.body["tool_choice"] == {"type": "tool", "name": "Weather"}


def test_output_that_does_not_validate_is_a_typed_error() -> None:
    answer = {
        **OPENAI_TEXT,
        "choices": [
            {"index": 0, "message": {"content": '{"town":"Oslo"}'}, "finish_reason": "stop"}
        ],
    }
    wire = Wire(json_answer(answer))
    with pytest.raises(OutputValidationError, match="does not match Weather") as info:
        wire.client("openai", **KEYS["openai"]).complete(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "x"}],
            response_format=Weather,
        )
    assert info.value.raw_output == '{"town":"Oslo"}'
    assert info.value.provider == "openai"


def test_output_that_is_not_json_is_a_typed_error() -> None:
    wire = Wire(json_answer(OPENAI_TEXT))
    with pytest.raises(OutputValidationError, match="not valid JSON"):
        wire.client("openai", **KEYS["openai"]).complete(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], response_format="json"
        )


# ----------------------------------------------------------------------------- images


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8


def image_message(part: ImagePart) -> list[Message]:
    return [Message.user([TextPart(text="What is this?"), part])]


def test_images_in_each_dialect() -> None:
    wire = Wire(json_answer(OPENAI_TEXT))
    wire.client("openai", **KEYS["openai"]).complete(
        model="gpt-4o", messages=image_message(ImagePart(url="https://x.test/a.png"))
    )
    assert wire.body["messages"][0]["content"][1] == {
        "type": "image_url",
        "image_url": {"url": "https://x.test/a.png"},
    }

    wire = Wire(json_answer(ANTHROPIC_TEXT))
    wire.client("anthropic", **KEYS["anthropic"]).complete(
        messages=image_message(ImagePart.from_bytes(PNG))
    )
    source = wire.body["messages"][0]["content"][1]["source"]
    assert source["type"] == "base64" and source["media_type"] == "image/png"

    wire = Wire(json_answer(OLLAMA_TEXT))
    wire.client("ollama").complete(model="llava", messages=image_message(ImagePart.from_bytes(PNG)))
    assert wire.body["messages"][0]["images"] == [ImagePart.from_bytes(PNG).base64()]


def test_images_where_they_cannot_go() -> None:
    with pytest.raises(CapabilityError, match="takes no images"):
        Wire(no_io).client("llamacpp").complete(messages=image_message(ImagePart.from_bytes(PNG)))
    with pytest.raises(CapabilityError, match=r"model 'gpt-3\.5-turbo' takes no images"):
        Wire(no_io).client("openai", **KEYS["openai"]).complete(
            model="gpt-3.5-turbo", messages=image_message(ImagePart.from_bytes(PNG))
        )
    with pytest.raises(CapabilityError, match="bytes"):
        Wire(no_io).client("ollama").complete(
            model="llava", messages=image_message(ImagePart(url="https://x.test/a.png"))
        )


def test_image_part_needs_one_source() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        ImagePart()


# ----------------------------------------------------------------------------- reasoning


def test_reasoning_is_kept_apart_in_responses() -> None:
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


# ----------------------------------------------------------------------------- models & embeddings


def test_list_models_for_every_provider() -> None:
    lists = {
        "openai": {
            "data": [{"id": "gpt-4o", "object": "model", "owned_by": "openai", "created": 1}]
        },
        "anthropic": {
            "data": [
                {
                    "id": "claude-sonnet-4-5",
                    "display_name": "Claude",
                    "created_at": "2025-09-29T00:00:00Z",
                }
            ]
        },
        "openrouter": {"data": [{"id": "openai/gpt-4o", "context_length": 128000}]},
        "ollama": {
            "models": [{"name": "llama3.2:latest", "model": "llama3.2:latest", "size": 2019393189}]
        },
        "lmstudio": {
            "data": [{"id": "qwen3-4b", "object": "model", "owned_by": "organization_owner"}]
        },
    }
    for name, body in lists.items():
        wire = Wire(json_answer(body))
        models = wire.client(name, api_key="k").list_models()
        assert len(models) == 1 and models[0].id in json.dumps(body), name
        assert wire.requests[0].method == "GET"
    assert (
        Wire(json_answer(lists["openrouter"]))
        .client("openrouter", api_key="k")
        .list_models()[0]
        .context_length
        == 128000
    )


def test_embeddings() -> None:
    wire = Wire(
        json_answer(
            {
                "model": "text-embedding-3-small",
                "data": [{"index": 1, "embedding": [0.3]}, {"index": 0, "embedding": [0.1]}],
                "usage": {"prompt_tokens": 4},
            }
        )
    )
    result = wire.client("openai", **KEYS["openai"]).embed(
        ["a", "b"], model="text-embedding-3-small"
    )
    assert result.embeddings == [[0.1], [0.3]]
    assert wire.body == {"model": "text-embedding-3-small", "input": ["a", "b"]}
    wire = Wire(
        json_answer(
            {"model": "nomic-embed-text", "embeddings": [[0.5, 0.25]], "prompt_eval_count": 2}
        )
    )
    result = wire.client("ollama").embed("hello", model="nomic-embed-text")
    assert result.embeddings == [[0.5, 0.25]]
    assert wire.requests[0].url.path == "/api/embed"


def test_embeddings_where_there_are_none() -> None:
    wire = Wire(no_io)
    with pytest.raises(CapabilityError, match="serves no embeddings"):
        wire.client("anthropic", **KEYS["anthropic"]).embed("hello", model="x")
    with pytest.raises(CapabilityError):
        asyncio.run(modelwire.AsyncGroq(api_key="k").embed("hello", model="x"))


def test_unexpected_response_shape_is_a_typed_error() -> None:
    wire = Wire(json_answer({"choices": "not a list"}))
    with pytest.raises(modelwire.UnexpectedResponseError, match="choices"):
        wire.client("openai", **KEYS["openai"]).complete(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}]
        )


def test_async_client_sends_the_same_request() -> None:
    bodies: list[bytes] = []

    def answer(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        return httpx.Response(200, json=ANTHROPIC_TEXT)

    kwargs: dict[str, Any] = {
        "messages": tool_history(),
        "tools": [Tool.from_model(Weather)],
        "temperature": 0.5,
        "stop": "END",
    }
    sync_client = modelwire.Anthropic(
        api_key="k", http_client=httpx.Client(transport=httpx.MockTransport(answer))
    )
    async_client = modelwire.AsyncAnthropic(
        api_key="k", http_client=httpx.AsyncClient(transport=httpx.MockTransport(answer))
    )
    sync_result = sync_client.complete(**kwargs)
    async_result = asyncio.run(async_client.complete(**kwargs))
    assert bodies[0] == bodies[1]
    assert sync_result == async_result
    assert json.loads(bodies[0])["stop_sequences"] == ["END"]


def test_every_public_error_is_exported() -> None:
    import inspect

    from modelwire import errors

    for name, value in vars(errors).items():
        if inspect.isclass(value) and issubclass(value, errors.ProviderError):
            assert getattr(modelwire, name) is value, name
