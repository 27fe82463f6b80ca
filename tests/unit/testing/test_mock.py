"""The scripted mocks (`modelwire.testing.MockProvider`, `AsyncMockProvider`): real clients
whose answers go through the real decoder, parsers, accumulator, error mapping and retries."""

from __future__ import annotations

import asyncio
from pathlib import Path

import modelwire
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from modelwire import (
    AuthenticationError,
    ContextLengthExceededError,
    OverloadedError,
    RateLimitError,
    ServerError,
    StreamError,
    StreamEventError,
)
from modelwire.testing import AsyncMockProvider, MockProvider

from tests.unit.support import ROOT
from tests.unit.testing.support import DIALECTS, HI, ask


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


async def test_concurrent_async_streams() -> None:
    mock = AsyncMockProvider()
    for word in ("alpha", "beta", "gamma"):
        mock.reply(f"{word} answer", delay=0.001)

    async def one() -> str:
        stream = await mock.stream_completion(messages=HI)
        return (await stream.accumulate()).content

    answers = await asyncio.gather(one(), one(), one())
    assert sorted(answers) == ["alpha answer", "beta answer", "gamma answer"]


def test_a_bedrock_mock_answers_at_its_model_paths_sync_and_streamed() -> None:
    # Bedrock's paths carry the model, and its streams have a path and a framing of their own
    mock = MockProvider(dialect_of="bedrock").reply("Hi there").reply("Hello again")
    assert mock.base_url == "https://bedrock-runtime.mock.amazonaws.com"
    response = mock.complete(messages=[{"role": "user", "content": "x"}], max_tokens=10)
    assert (response.content, response.finish_reason) == ("Hi there", "stop")
    assert mock.last_request == {
        "messages": [{"role": "user", "content": [{"text": "x"}]}],
        "inferenceConfig": {"maxTokens": 10},
    }
    with mock.stream_completion(messages=[{"role": "user", "content": "y"}]) as stream:
        assert "".join(chunk.content for chunk in stream) == "Hello again"
    sent = [request.url.raw_path for request in mock.http_requests]
    assert sent == [
        b"/model/us.amazon.nova-micro-v1%3A0/converse",
        b"/model/us.amazon.nova-micro-v1%3A0/converse-stream",
    ]


async def test_a_bedrock_mock_streams_to_the_async_client() -> None:
    mock = AsyncMockProvider(dialect_of="bedrock").reply("async hello")
    stream = await mock.stream_completion(messages=[{"role": "user", "content": "x"}])
    async with stream:
        response = await stream.accumulate()
    assert response.content == "async hello" and response.finish_reason == "stop"
