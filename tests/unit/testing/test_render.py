"""How each dialect spells a scripted answer (`modelwire.testing._render`), read back by the
real parsers."""

from __future__ import annotations

import pytest
from modelwire import OutputValidationError
from modelwire.testing import MockProvider

from tests.unit.testing.support import DIALECTS, HI, City, ask


def test_anthropic_dialect_streams_through_the_anthropic_parser() -> None:
    mock = MockProvider(dialect_of="anthropic")
    mock.reply("Bonjour", reasoning="French greeting")
    with mock.stream_completion(**ask(mock)) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        chunks = list(stream)
        final = stream.accumulate()
    kinds = [c.raw["type"] for c in chunks if c.raw is not None]
    assert kinds[0] == "message_start"
    assert "content_block_delta" in kinds and kinds[-1] == "message_stop"
    assert final.content == "Bonjour"
    assert final.reasoning == "French greeting"
    assert final.reasoning_signature == "mock-signature"
    assert final.raw_finish_reason == "end_turn" and final.finish_reason == "stop"
    assert final.model == "claude-sonnet-4-5"


def test_ollama_dialect_streams_ndjson() -> None:
    mock = MockProvider(dialect_of="ollama").reply("ndjson lines")
    with mock.stream_completion(messages=HI) as stream:
        assert stream.headers["content-type"] == "application/x-ndjson"
        assert stream.accumulate().content == "ndjson lines"
    assert mock.last_request["stream"] is True


@pytest.mark.parametrize("dialect", DIALECTS)
def test_tool_call_streams_in_fragments(dialect: str) -> None:
    arguments = {"city": "Paris", "unit": "celsius"}
    mock = MockProvider(dialect).reply_tool_call(
        "get_weather", arguments, call_id="call_1", chunk_size=5
    )
    tool = {"name": "get_weather", "parameters": {"type": "object", "properties": {}}}
    with mock.stream_completion(**ask(mock, tools=[tool])) as stream:
        chunks = list(stream)
        final = stream.accumulate()
    fragments = [d for c in chunks for d in c.tool_calls]
    if dialect != "ollama":  # Ollama sends each call whole
        assert len(fragments) > 3
    assert final.finish_reason == "tool_calls"
    [call] = final.tool_calls
    assert (call.id, call.name, call.arguments) == ("call_1", "get_weather", arguments)
    sent = mock.last_request
    assert sent["toolConfig"]["tools"] if dialect == "bedrock" else sent["tools"]


@pytest.mark.parametrize("dialect", [*DIALECTS, "llamacpp"])
def test_structured_output(dialect: str) -> None:
    mock = MockProvider(dialect).reply_structured(City(name="Paris", country="France"))
    mock.reply_structured({"name": "Rome", "country": "Italy"})
    response = mock.complete(**ask(mock, response_format=City))
    assert response.parsed == City(name="Paris", country="France")
    with mock.stream_completion(**ask(mock, response_format=City)) as stream:
        assert stream.accumulate().parsed == City(name="Rome", country="Italy")
    if dialect == "anthropic":  # asked through output_config.format, answered as text
        assert mock.last_request["output_config"]["format"]["type"] == "json_schema"
        assert "tool_choice" not in mock.last_request


def test_structured_output_through_a_forced_tool() -> None:
    # Anthropic's models before structured outputs answer as the forced tool's call
    mock = MockProvider("anthropic").reply_structured(City(name="Paris", country="France"))
    response = mock.complete(**ask(mock, response_format=City), model="claude-sonnet-4-0")
    assert response.parsed == City(name="Paris", country="France")
    assert mock.last_request["tool_choice"] == {"type": "tool", "name": "City"}


def test_structured_output_that_does_not_validate() -> None:
    mock = MockProvider().reply_structured('{"name": "Paris"}')
    with pytest.raises(OutputValidationError):
        mock.complete(messages=HI, response_format=City)
