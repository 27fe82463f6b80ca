"""The testing kit (`modelwire.testing`): scripted mocks that go through the real decoder,
dialect parsers, accumulator, error mapping and retries; cassette replay; the fixtures."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import modelwire
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from modelwire import (
    APIConnectionError,
    AuthenticationError,
    ContextLengthExceededError,
    OutputValidationError,
    OverloadedError,
    RateLimitError,
    ServerError,
    StreamError,
    StreamEventError,
    StreamInterruptedError,
    StreamTimeoutError,
    Timeout,
)
from modelwire.testing import AsyncMockProvider, MockProvider, MockScriptError, replay_cassette
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[2]
HI = [{"role": "user", "content": "Say hi to me"}]
DIALECTS = ["mock", "anthropic", "ollama"]


class City(BaseModel):
    name: str
    country: str


def ask(mock: Any, **kwargs: Any) -> dict[str, Any]:
    """Keyword arguments for one call: Anthropic needs max_tokens, the others take it."""
    return {"messages": HI, "max_tokens": 32, **kwargs}


# --------------------------------------------------------------------------- import cost


def test_importing_the_kit_loads_nothing_heavy() -> None:
    code = (
        "import sys, modelwire.testing; "
        "print([m for m in ('httpx', 'pydantic', 'vcr', 'modelwire._client', "
        "'modelwire.types', 'modelwire.providers.openai') if m in sys.modules])"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "sdk"), *sys.path])}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_mocks_are_real_clients() -> None:
    mock = MockProvider()
    amock = AsyncMockProvider(dialect_of="anthropic")
    assert issubclass(MockProvider, modelwire.BaseClient)
    assert issubclass(AsyncMockProvider, modelwire.AsyncBaseClient)
    assert isinstance(mock, modelwire.BaseClient)
    assert isinstance(mock, modelwire.ModelProvider)
    assert isinstance(amock, modelwire.AsyncBaseClient)
    assert type(mock).__name__ == "MockProvider"
    assert mock.spec.name == "mock" and amock.spec.name == "anthropic"
    assert "mock-key-not-real" not in repr(amock)  # the placeholder key is redacted too


# --------------------------------------------------------------------------- text streams


@pytest.mark.parametrize("dialect", DIALECTS)
def test_sync_text_stream_accumulates(dialect: str) -> None:
    mock = MockProvider(dialect).reply("Hello big wide world")
    with mock.stream_completion(**ask(mock)) as stream:
        chunks = list(stream)
        final = stream.accumulate()
    texts = [c.content for c in chunks if c.content]
    assert texts == ["Hello", " big", " wide", " world"]
    assert chunks[-1].is_final and [c.is_final for c in chunks].count(True) == 1
    assert final.content == "Hello big wide world"
    assert final.finish_reason == "stop"
    assert final.usage is not None and final.usage.output_tokens == 4
    assert final.usage.input_tokens == 4  # the words of the request
    assert stream.closed


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_async_text_stream_accumulates(dialect: str) -> None:
    async with AsyncMockProvider(dialect) as mock:
        mock.reply_chunks(["Hel", "lo", " there"], delay=0.001)
        stream = await mock.stream_completion(**ask(mock))
        async with stream:
            texts = [chunk.content async for chunk in stream if chunk.content]
            final = await stream.accumulate()
    assert texts == ["Hel", "lo", " there"]
    assert final.content == "Hello there"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_complete_uses_the_script_too(dialect: str) -> None:
    mock = MockProvider(dialect).reply("One answer", usage=(7, 2), reasoning="thinking...")
    response = mock.complete(**ask(mock))
    assert response.content == "One answer"
    assert response.reasoning == "thinking..."
    assert response.usage is not None
    assert (response.usage.input_tokens, response.usage.output_tokens) == (7, 2)
    assert mock.last_request.get("stream") in (None, False)


def test_chunk_size_text_stream_and_text_stream_helper() -> None:
    mock = MockProvider().reply("abcdefg", chunk_size=3)
    with mock.stream_completion(messages=HI) as stream:
        assert list(stream.text_stream()) == ["abc", "def", "g"]


def test_no_usage_and_finish_reason() -> None:
    mock = MockProvider().reply("cut", usage=None, finish_reason="length")
    final = mock.stream_completion(messages=HI).accumulate()
    assert final.usage is None
    assert final.finish_reason == "length"


def test_usage_follows_the_spec_stream_usage_capability() -> None:
    # llama.cpp's spec says its streams carry no usage: the mock is not asked for it either
    mock = MockProvider(dialect_of="llamacpp").reply("hi")
    assert mock.stream_completion(messages=HI).accumulate().usage is None
    assert "stream_options" not in mock.last_request


@settings(max_examples=40, deadline=None)
@given(
    chunks=st.lists(st.text(min_size=1, max_size=12), min_size=0, max_size=8),
    dialect=st.sampled_from(DIALECTS),
)
def test_any_chunks_round_trip_through_every_dialect(chunks: list[str], dialect: str) -> None:
    mock = MockProvider(dialect).reply_chunks(chunks)
    with mock.stream_completion(**ask(mock)) as stream:
        seen = [c.content for c in stream if c.content]
        assert seen == [c for c in chunks if c]
        assert stream.accumulate().content == "".join(chunks)


# --------------------------------------------------------------------------- retries & errors


def test_429_then_success_is_retried_and_counted() -> None:
    mock = MockProvider().fail(status=429, retry_after=0, message="slow down").reply("ok")
    response = mock.complete(messages=HI)
    assert response.content == "ok"
    assert len(mock.requests) == 2
    assert mock.requests[0] == mock.requests[1]  # the retry resends the same request
    assert mock.pending == 0


def test_stream_retry_is_counted_on_the_stream() -> None:
    mock = MockProvider().fail(503).reply("after the retry")
    stream = mock.stream_completion(messages=HI)
    assert stream.attempts == 2
    assert stream.accumulate().content == "after the retry"


async def test_async_429_then_success() -> None:
    mock = AsyncMockProvider().fail(429, retry_after=0).reply("ok")
    assert (await mock.complete(messages=HI)).content == "ok"
    stream = await mock.fail(429, retry_after=0).reply("streamed").stream_completion(messages=HI)
    assert stream.attempts == 2
    assert (await stream.accumulate()).content == "streamed"
    assert len(mock.requests) == 4
    await mock.close()


def test_retries_run_out() -> None:
    mock = MockProvider(max_retries=2).fail(503, times=3).reply("never reached")
    with pytest.raises(ServerError) as info:
        mock.complete(messages=HI)
    assert info.value.attempts == 3
    assert info.value.status_code == 503
    assert mock.pending == 1


def test_error_carries_the_provider_body_and_request_id() -> None:
    mock = MockProvider(dialect_of="openai").fail(401, message="bad key")
    with pytest.raises(AuthenticationError) as info:
        mock.complete(messages=HI)
    error = info.value
    assert error.provider == "openai"
    assert error.message == "bad key"
    assert error.request_id == "req_mock_1"
    assert error.body == {
        "error": {
            "message": "bad key",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        }
    }
    assert len(mock.requests) == 1  # 401 is not retried


def test_provider_error_rules_apply() -> None:
    openai = MockProvider(dialect_of="openai").fail(429, code="insufficient_quota")
    with pytest.raises(RateLimitError) as info:
        openai.complete(messages=HI)
    assert not info.value.retryable and len(openai.requests) == 1

    anthropic = MockProvider(dialect_of="anthropic", max_retries=0)
    anthropic.fail(529).fail(400, message="prompt is too long: 300000 tokens")
    with pytest.raises(OverloadedError):
        anthropic.complete(**ask(anthropic))
    with pytest.raises(ContextLengthExceededError) as too_long:
        anthropic.complete(**ask(anthropic))
    assert too_long.value.body["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_mid_stream_failure_raises_with_partial(dialect: str) -> None:
    mock = MockProvider(dialect).fail_mid_stream(
        after_chunks=2, error="overloaded", error_type="overloaded_error"
    )
    chunks: list[str] = []
    with pytest.raises(StreamEventError) as info, mock.stream_completion(**ask(mock)) as stream:
        for chunk in stream:
            chunks.append(chunk.content)
    error = info.value
    assert isinstance(error, StreamError)
    assert error.message == "overloaded"
    assert error.partial is not None and error.partial.content == "The quick"
    assert "".join(chunks) == "The quick"
    assert error.provider == mock.spec.name


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_async_mid_stream_failure_raises_with_partial(dialect: str) -> None:
    mock = AsyncMockProvider(dialect).fail_mid_stream(after_chunks=1, text=["a", "b", "c"])
    stream = await mock.stream_completion(**ask(mock))
    with pytest.raises(StreamError) as info:
        await stream.accumulate()
    assert info.value.partial is not None and info.value.partial.content == "a"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_disconnect_raises_stream_interrupted(dialect: str) -> None:
    mock = MockProvider(dialect).disconnect(after_chunks=3, text="one two three four")
    stream = mock.stream_completion(**ask(mock))
    with pytest.raises(StreamInterruptedError) as info:
        stream.accumulate()
    assert info.value.partial is not None
    assert info.value.partial.content == "one two three"
    assert stream.closed


async def test_async_disconnect_raises_stream_interrupted() -> None:
    mock = AsyncMockProvider().disconnect(after_chunks=0)
    stream = await mock.stream_completion(messages=HI)
    with pytest.raises(StreamInterruptedError) as info:
        async for _ in stream:
            pass
    assert info.value.partial is not None and info.value.partial.content == ""


def test_disconnect_before_a_whole_body_is_a_retried_connection_error() -> None:
    mock = MockProvider().disconnect().reply("second try")
    assert mock.complete(messages=HI).content == "second try"
    assert len(mock.requests) == 2
    with pytest.raises(APIConnectionError):
        MockProvider(max_retries=0).disconnect().complete(messages=HI)


def test_scripted_delay_past_the_idle_timeout_times_out() -> None:
    mock = MockProvider(timeout=Timeout(stream_idle=0.05)).reply_chunks(["a", "b"], delay=0.5)
    stream = mock.stream_completion(messages=HI)
    with pytest.raises(StreamTimeoutError) as info:
        list(stream)
    assert info.value.partial is not None


def test_closing_a_stream_early() -> None:
    mock = MockProvider().reply("one two three four five")
    stream = mock.stream_completion(messages=HI)
    first = [next(stream), next(stream)]
    stream.close()
    assert stream.closed
    assert "".join(c.content for c in first) == "one"
    assert stream.snapshot().content == "one"


def test_an_empty_script_fails_the_test_loudly() -> None:
    mock = MockProvider()
    with pytest.raises(MockScriptError, match="script is empty"):
        mock.complete(messages=HI)
    assert len(mock.requests) == 1  # recorded all the same


# --------------------------------------------------------------------------- what was sent


def test_requests_are_recorded() -> None:
    mock = MockProvider(dialect_of="anthropic").reply("a").reply("b")
    mock.complete(
        messages=[{"role": "system", "content": "Be brief."}, *HI],
        max_tokens=10,
        temperature=0.5,
        top_k=5,
    )
    with mock.stream_completion(messages=HI, max_tokens=20):
        pass
    first, second = mock.requests
    assert first["system"] == "Be brief."
    assert first["messages"] == [{"role": "user", "content": "Say hi to me"}]
    assert (first["max_tokens"], first["temperature"], first["top_k"]) == (10, 0.5, 5)
    assert "stream" not in first and second["stream"] is True
    sent = mock.http_requests[0]
    assert sent.url.path == "/v1/messages"
    assert sent.headers["x-api-key"] == "mock-key-not-real"
    assert sent.headers["anthropic-version"] == "2023-06-01"
    mock.reset()
    assert mock.requests == [] and mock.pending == 0


def test_options_are_checked_against_the_spec() -> None:
    with pytest.raises(modelwire.RequestValidationError, match="no option 'top_k'"):
        MockProvider().reply("x").complete(messages=HI, top_k=3)
    mock = MockProvider(dialect_of="ollama").reply("x")
    mock.complete(messages=HI, num_ctx=4096)
    assert mock.last_request["options"]["num_ctx"] == 4096


def test_spec_from_a_file(tmp_path: Path) -> None:
    mock = MockProvider(spec=ROOT / "spec/providers/groq.yaml").reply("from groq")
    assert mock.complete(messages=HI).content == "from groq"
    assert mock.http_requests[0].url.path == "/openai/v1/chat/completions"
    assert mock.http_requests[0].headers["authorization"] == "Bearer mock-key-not-real"


def test_unknown_dialect_is_a_configuration_error() -> None:
    with pytest.raises(modelwire.ConfigurationError, match="unknown provider 'nope'"):
        MockProvider(dialect_of="nope")


def test_models_and_embeddings_are_answered_without_the_script() -> None:
    mock = MockProvider()
    assert [m.id for m in mock.list_models()] == ["mock-model"]
    vectors = mock.embed(["a", "b"]).embeddings
    assert len(vectors) == 2 and vectors[0] != vectors[1]
    assert mock.embed("a").embeddings[0] == vectors[0]  # deterministic
    assert mock.requests == [] and len(mock.http_requests) == 3
    assert "llama3.2" in [m.id for m in MockProvider("ollama").list_models()]


# --------------------------------------------------------------------------- dialects


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
    assert mock.last_request["tools"]


@pytest.mark.parametrize("dialect", [*DIALECTS, "llamacpp"])
def test_structured_output(dialect: str) -> None:
    mock = MockProvider(dialect).reply_structured(City(name="Paris", country="France"))
    mock.reply_structured({"name": "Rome", "country": "Italy"})
    response = mock.complete(**ask(mock, response_format=City))
    assert response.parsed == City(name="Paris", country="France")
    with mock.stream_completion(**ask(mock, response_format=City)) as stream:
        assert stream.accumulate().parsed == City(name="Rome", country="Italy")
    if dialect == "anthropic":  # asked through a forced tool, answered as its call
        assert mock.last_request["tool_choice"] == {"type": "tool", "name": "City"}


def test_structured_output_that_does_not_validate() -> None:
    mock = MockProvider().reply_structured('{"name": "Paris"}')
    with pytest.raises(OutputValidationError):
        mock.complete(messages=HI, response_format=City)


async def test_concurrent_async_streams() -> None:
    mock = AsyncMockProvider()
    for word in ("alpha", "beta", "gamma"):
        mock.reply(f"{word} answer", delay=0.001)

    async def one() -> str:
        stream = await mock.stream_completion(messages=HI)
        return (await stream.accumulate()).content

    answers = await asyncio.gather(one(), one(), one())
    assert sorted(answers) == ["alpha answer", "beta answer", "gamma answer"]


# --------------------------------------------------------------------------- fixtures


def test_mock_provider_fixture(mock_provider: MockProvider) -> None:
    mock_provider.reply("from the fixture")
    assert mock_provider.complete(messages=HI).content == "from the fixture"
    assert mock_provider.pending == 0


async def test_async_mock_provider_fixture(async_mock_provider: AsyncMockProvider) -> None:
    async_mock_provider.fail(500).reply("async fixture")
    assert (await async_mock_provider.complete(messages=HI)).content == "async fixture"
    assert len(async_mock_provider.requests) == 2


# --------------------------------------------------------------------------- cassettes


@pytest.fixture
def cassette(converted_cassettes: Path) -> Path:
    """A recorded OpenAI cassette: a streamed tool call, then the streamed answer."""
    return converted_cassettes / "openai/test_openai__test_run_stream_sync_streams_real_model.yaml"


def test_replay_cassette_sync_by_name(cassette: Path) -> None:
    with replay_cassette(cassette, "openai/gpt-4o-mini") as client:
        assert isinstance(client, modelwire.OpenAI)
        with client.stream_completion(messages=HI) as stream:
            first = stream.accumulate()
        with client.stream_completion(messages=HI) as stream:
            chunks = [c.content for c in stream if c.content]
            second = stream.accumulate()
    [call] = first.tool_calls
    assert (call.name, call.arguments) == ("get_capital", {"country": "UK"})
    assert first.finish_reason == "tool_calls"
    assert chunks[:3] == ["The", " capital", " of"]
    assert second.content == "The capital of the UK is London."
    assert second.usage is not None and second.usage.input_tokens == 78


async def test_replay_cassette_async_by_class(cassette: Path) -> None:
    async with replay_cassette(cassette, modelwire.AsyncOpenAI) as client:
        stream = await client.stream_completion(messages=HI)
        assert (await stream.accumulate()).tool_calls[0].name == "get_capital"
        stream = await client.stream_completion(messages=HI)
        assert (await stream.accumulate()).content.endswith("London.")


def test_replay_cassette_by_class_name_and_unmatched_request(cassette: Path) -> None:
    from vcr.errors import CannotOverwriteExistingCassetteException

    with replay_cassette(str(cassette), "AsyncOpenAI") as client:
        assert isinstance(client, modelwire.AsyncOpenAI)
    with replay_cassette(cassette, modelwire.OpenAI) as sync_client:
        sync_client.stream_completion(messages=HI).close()
        sync_client.stream_completion(messages=HI).close()
        with pytest.raises(CannotOverwriteExistingCassetteException):
            sync_client.stream_completion(messages=HI)  # the cassette holds two answers


def test_replay_cassette_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import modelwire.testing._cassettes as cassettes

    def missing(name: str) -> Any:
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(cassettes, "import_module", missing)
    with pytest.raises(ImportError, match="pip install vcrpy"):
        replay_cassette(tmp_path / "any.yaml", "openai")  # before the file is even looked at


def test_replay_cassette_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError), replay_cassette(tmp_path / "none.yaml", "openai"):
        pass
