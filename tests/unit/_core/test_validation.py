"""Every check made before any I/O (`modelwire._core.validation`): each raises its typed error
with a message that names the fix, and nothing is sent."""

from __future__ import annotations

import asyncio
from typing import Any

import modelwire
import pytest
from modelwire import (
    CapabilityError,
    ConfigurationError,
    ImagePart,
    InsecureTransportError,
    RequestValidationError,
    Tool,
)

from tests.unit.support import KEYS, PNG, Weather, Wire, image_message, no_io, tool_history


def test_ollama_cannot_be_forced_to_call_a_tool() -> None:
    wire = Wire(no_io)
    with pytest.raises(CapabilityError, match="tool_choice='auto'"):
        wire.client("ollama").complete(
            model="llama3.2",
            messages=tool_history(),
            tools=[Tool.from_model(Weather)],
            tool_choice="required",
        )


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


def test_embeddings_where_there_are_none() -> None:
    wire = Wire(no_io)
    with pytest.raises(CapabilityError, match="serves no embeddings"):
        wire.client("anthropic", **KEYS["anthropic"]).embed("hello", model="x")
    with pytest.raises(CapabilityError):
        asyncio.run(modelwire.AsyncGroq(api_key="k").embed("hello", model="x"))


def test_missing_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        modelwire.OpenAI()


def test_a_key_is_never_sent_over_plain_http_to_a_remote_host() -> None:
    with pytest.raises(InsecureTransportError, match="allow_insecure_http"):
        modelwire.OpenAI(api_key="sk-secret-value", base_url="http://example.com/v1")
    modelwire.OpenAI(api_key="sk-secret-value", base_url="http://127.0.0.1:9/v1")
    modelwire.OpenAI(
        api_key="sk-secret-value", base_url="http://example.com/v1", allow_insecure_http=True
    )
