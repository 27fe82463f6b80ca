"""What every dialect shares (`modelwire.dialects.base`): options at their wire path, the
wire-shape check, structured output, and the OpenAI-style embeddings."""

from __future__ import annotations

import modelwire
import pytest
from modelwire import OutputValidationError

from tests.unit.support import (
    ANTHROPIC_TEXT,
    KEYS,
    OLLAMA_TEXT,
    OPENAI_TEXT,
    Weather,
    Wire,
    json_answer,
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


def test_unexpected_response_shape_is_a_typed_error() -> None:
    wire = Wire(json_answer({"choices": "not a list"}))
    with pytest.raises(modelwire.UnexpectedResponseError, match="choices"):
        wire.client("openai", **KEYS["openai"]).complete(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}]
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
