"""What every dialect shares (`modelwire.dialects.base`): options at their wire path, the
wire-shape check, structured output, the OpenAI-style list and embeddings endpoints, and
the field checks every stream parser uses."""

from __future__ import annotations

import importlib
import json
from typing import Any

import modelwire
import pytest
from modelwire import OutputValidationError, Reasoning
from modelwire._framing import ServerSentEvent
from modelwire.dialects import get_dialect
from modelwire.dialects.base import (
    Dialect,
    apply_options,
    check_str,
    count_or_none,
    load_event_json,
    malformed_event,
    merge_extra,
    object_or_empty,
    optional_str,
    parse_arguments,
    parse_structured,
    str_or_empty,
    str_or_none,
    stream_event_error,
    wrong_type,
)
from modelwire.errors import StreamDecodeError, StreamEventError
from modelwire.providers import ollama, openai
from modelwire.types import CompletionRequest, CompletionResponse, Message, ToolCall

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
        metadata={"user_id": "u-1"},
        thinking={"type": "enabled", "budget_tokens": 1024},
    )
    assert wire.body["metadata"] == {"user_id": "u-1"}
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


@pytest.mark.parametrize("name", ["openai_chat", "anthropic_messages", "ollama_chat"])
def test_get_dialect(name: str) -> None:
    dialect = get_dialect(name)
    assert isinstance(dialect, Dialect) and dialect.name == name
    assert get_dialect(name) is dialect


def test_an_unknown_dialect_lists_the_known_ones() -> None:
    with pytest.raises(
        ValueError,
        match=r"unknown dialect 'klingon': one of "
        r"\['anthropic_messages', 'bedrock_converse', 'gemini', 'ollama_chat', 'openai_chat', "
        r"'openai_responses'\]",
    ):
        get_dialect("klingon")


def test_the_base_dialect_leaves_the_wire_format_to_each_dialect() -> None:
    dialect = Dialect()
    request = CompletionRequest(messages=[Message.user("x")])
    with pytest.raises(NotImplementedError):
        dialect.build_request(request, openai.SPEC, stream=False)
    with pytest.raises(NotImplementedError):
        dialect.parse_response({}, openai.SPEC)
    with pytest.raises(NotImplementedError):
        dialect.stream_parser(openai.SPEC)
    dialect.check_wire("response", "anything at all")  # no wire model: nothing to check


# --------------------------------------------------------------------------- the shared defaults


def test_finish_reason_unknown_is_other_and_none_stays_none() -> None:
    dialect = get_dialect("openai_chat")
    assert dialect.finish_reason("stop") == "stop"
    assert dialect.finish_reason("a_new_reason") == "other"
    assert dialect.finish_reason(None) is None


def test_parse_models_reads_what_ids_there_are() -> None:
    body = {
        "data": [
            {"id": "a", "owned_by": "me", "created": 5, "context_length": 8192},
            {"id": 7, "max_context_length": 4096},
            {"name": "no id"},
            "not an object",
        ]
    }
    models = Dialect().parse_models(body, openai.SPEC)
    assert [(m.id, m.owned_by, m.created, m.context_length) for m in models] == [
        ("a", "me", 5, 8192),
        ("7", None, None, 4096),
    ]
    assert models[0].raw == body["data"][0]
    assert Dialect().parse_models([], openai.SPEC) == []


def test_openai_style_embeddings_request_and_response() -> None:
    assert Dialect().build_embeddings_request(["a"], "e-1", {"dimensions": 4}) == {
        "model": "e-1",
        "input": ["a"],
        "dimensions": 4,
    }
    body = {
        "model": "e-1",
        "data": [
            {"index": 2, "embedding": [3.0]},
            {"index": 0, "embedding": [1.0]},
            {"index": 1, "embedding": [2.0]},
        ],
    }
    parsed = Dialect().parse_embeddings(body, openai.SPEC)
    assert parsed.embeddings == [[1.0], [2.0], [3.0]]  # back in input order
    assert (parsed.model, parsed.usage, parsed.raw) == ("e-1", None, body)


# --------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("text", "arguments"),
    [
        ('{"a": 1}', {"a": 1}),
        ("", {}),
        ("   ", {}),
        ("[1]", {"_value": [1]}),
        ("3", {"_value": 3}),
        ('{"a": ', {"_raw": '{"a": '}),
    ],
)
def test_parse_arguments(text: str, arguments: dict[str, Any]) -> None:
    assert parse_arguments(text) == arguments


def test_apply_options_follows_the_wire_path_and_falls_back_to_the_name() -> None:
    request = CompletionRequest(
        messages=[], options={"num_ctx": 4096, "keep_alive": "5m", "raw_x": 1}
    )
    body: dict[str, Any] = {"options": {"temperature": 0.1}}
    apply_options(body, request, ollama.SPEC)
    assert body == {
        "options": {"temperature": 0.1, "num_ctx": 4096},
        "keep_alive": "5m",
        "raw_x": 1,
    }


def test_merge_extra_overrides_the_body() -> None:
    assert merge_extra({"a": 1, "b": 2}, {"b": 3, "c": 4}) == {"a": 1, "b": 3, "c": 4}
    body = {"a": 1}
    assert merge_extra(body, None) is body and merge_extra(body, {}) == {"a": 1}


def test_stream_event_error_reads_the_body_like_an_error_status() -> None:
    error = stream_event_error(
        {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}, "x"
    )
    assert (type(error), error.message, error.error_type) == (
        StreamEventError,
        "busy",
        "overloaded_error",
    )
    assert stream_event_error({"error": {"code": 1}}, "x").message == '{"code": 1}'
    assert (
        stream_event_error({"done": False}, "Ollama").message
        == "Ollama reported an error mid-stream"
    )


def test_load_event_json() -> None:
    assert load_event_json(ServerSentEvent(b'{"a": [1, "\xc3\xa9"]}')) == {"a": [1, "é"]}
    with pytest.raises(StreamDecodeError, match=r"not valid JSON or not UTF-8 .*: '\{\"a\": '"):
        load_event_json(ServerSentEvent(b'{"a": '))


def test_the_stream_field_checks() -> None:
    assert check_str("x", "f") == "x"
    with pytest.raises(TypeError, match="f is int, not a string"):
        check_str(1, "f")
    assert (optional_str("m"), optional_str(3), optional_str(None)) == ("m", None, None)
    assert (str_or_empty(None, "f"), str_or_empty("t", "f")) == ("", "t")
    with pytest.raises(TypeError, match="delta is list, not a string"):
        str_or_empty(["t"], "delta")
    assert (str_or_none(None, "f"), str_or_none("t", "f")) == (None, "t")
    with pytest.raises(TypeError, match="id is float, not a string"):
        str_or_none(1.0, "id")
    assert (count_or_none(None, "n"), count_or_none(3, "n")) == (None, 3)
    with pytest.raises(TypeError, match="n is bool, not an int"):
        count_or_none(True, "n")  # a bool is no count
    with pytest.raises(TypeError, match="n is str, not an int"):
        count_or_none("3", "n")
    assert (object_or_empty(None, "o"), object_or_empty({"a": 1}, "o")) == ({}, {"a": 1})
    with pytest.raises(TypeError, match="o is list, not an object"):
        object_or_empty([], "o")
    assert str(wrong_type(1, "w", "a thing")) == "w is int, not a thing"


def test_malformed_event_names_the_event_and_shows_it() -> None:
    error = malformed_event(
        "a message_delta event", ServerSentEvent(b'{"usage": 1}'), TypeError("usage is int")
    )
    assert type(error) is StreamDecodeError
    assert error.message == (
        "a message_delta event does not have the documented shape (usage is int): '{\"usage\": 1}'"
    )
    assert error.body == '{"usage": 1}'


# --------------------------------------------------------------------------- structured output


def structured(
    content: str = "", *, fmt: Any = Weather, calls: list[ToolCall] | None = None
) -> Any:
    request = CompletionRequest(messages=[], response_format=fmt)
    return parse_structured(
        request, CompletionResponse(content=content, tool_calls=calls or []), "p"
    )


def test_parse_structured() -> None:
    assert (
        parse_structured(CompletionRequest(messages=[]), CompletionResponse(content="{}")) is None
    )
    assert structured(' {"city": "Oslo"}\n') == Weather(city="Oslo")
    assert structured('{"any": [1]}', fmt="json") == {"any": [1]}  # no model: the JSON value
    # answered through a forced tool: its arguments
    call = ToolCall(id="t", name="Weather", arguments={"city": "Lima"})
    assert structured("", calls=[call]) == Weather(city="Lima")


def test_parse_structured_errors_keep_the_raw_output() -> None:
    with pytest.raises(
        OutputValidationError, match=r"not valid JSON .*ask again or relax the schema"
    ) as info:
        structured("Sure! Here it is")
    assert (info.value.raw_output, info.value.provider) == ("Sure! Here it is", "p")
    with pytest.raises(OutputValidationError, match="does not match Weather"):
        structured('{"city": 3}')


def test_structured_output_cut_off_at_max_tokens_says_so() -> None:
    from modelwire.testing import MockProvider
    from pydantic import BaseModel

    class City(BaseModel):
        name: str
        population: int

    mock = MockProvider().reply('{"name": "Par', finish_reason="length")
    with pytest.raises(OutputValidationError, match=r"cut off at max_tokens .*raise max_tokens"):
        mock.complete(messages=[{"role": "user", "content": "x"}], response_format=City)
    # a whole answer of the wrong shape names the field, in a line
    mock.reply('{"name": "Paris"}')
    with pytest.raises(OutputValidationError) as info:
        mock.complete(messages=[{"role": "user", "content": "x"}], response_format=City)
    assert "population: Field required" in str(info.value) and "cut off" not in str(info.value)
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------- the unified reasoning field


def _reasoning_body(provider: str, **fields: Any) -> dict[str, Any]:
    """The body a client of `provider` sends for `fields` (all keyword fields); Anthropic's
    on a model with adaptive thinking and efforts."""
    from modelwire._core.calls import ClientConfig

    spec = importlib.import_module(f"modelwire.providers.{provider}").SPEC
    model = "claude-opus-4-6" if provider == "anthropic" else None
    config = ClientConfig.create(spec, api_key="sk-test", model=model)
    request = config.request(None, {"messages": [{"role": "user", "content": "Hi"}], **fields})
    body: dict[str, Any] = json.loads(config.chat_call(request, stream=False).content or b"")
    return body


@pytest.mark.parametrize(
    ("provider", "reasoning", "expected"),
    [
        ("openai", "low", {"reasoning_effort": "low"}),
        ("groq", Reasoning(effort="none"), {"reasoning_effort": "none"}),
        ("openai_responses", "high", {"reasoning": {"effort": "high"}}),
        (
            "openai_responses",
            Reasoning(effort="low", summary="detailed"),
            {"reasoning": {"effort": "low", "summary": "detailed"}},
        ),
        (
            "anthropic",
            Reasoning(budget_tokens=2048),
            {"thinking": {"type": "enabled", "budget_tokens": 2048}},
        ),
        (
            "anthropic",
            "medium",
            {"thinking": {"type": "adaptive"}, "output_config": {"effort": "medium"}},
        ),
        ("anthropic", "none", {"thinking": {"type": "disabled"}}),
        ("anthropic", Reasoning(), {"thinking": {"type": "adaptive"}}),
        ("ollama", "high", {"think": "high"}),
        ("ollama", "none", {"think": False}),
        ("ollama", Reasoning(), {"think": True}),
        ("openrouter", "medium", {"reasoning": {"effort": "medium"}}),
        (
            "openrouter",
            Reasoning(budget_tokens=3000, exclude=True),
            {"reasoning": {"max_tokens": 3000, "exclude": True}},
        ),
        ("openrouter", Reasoning(), {"reasoning": {"enabled": True}}),
    ],
)
def test_reasoning_is_sent_in_each_providers_shape(
    provider: str, reasoning: Reasoning | str, expected: dict[str, Any]
) -> None:
    body = _reasoning_body(provider, reasoning=reasoning)
    assert {key: body.get(key) for key in expected} == expected


def test_a_budget_gives_anthropic_room_to_answer_after_thinking() -> None:
    # the default max_tokens (4096) is raised above the budget, as with the thinking option
    body = _reasoning_body("anthropic", reasoning=Reasoning(budget_tokens=8000))
    assert body["max_tokens"] == 8000 + 4096


def test_reasoning_as_a_dict_is_validated_like_the_model() -> None:
    body = _reasoning_body("openrouter", reasoning={"effort": "high", "exclude": True})
    assert body["reasoning"] == {"effort": "high", "exclude": True}
