"""Fallback chains (`modelwire._fallback`), over in-memory providers: what falls through,
what is recorded, and that a stream moves on only before its first content. The same
against real misbehaving servers: tests/faults/test_resilience.py."""

from __future__ import annotations

import asyncio

import modelwire
import pytest
from modelwire import (
    DEFAULT_FALL_THROUGH,
    AsyncFallback,
    AuthenticationError,
    ConfigurationError,
    Fallback,
    OverloadedError,
    RateLimitError,
    StreamEventError,
    StreamInterruptedError,
)
from modelwire.testing import AsyncMockProvider, MockProvider

MESSAGES = [{"role": "user", "content": "Hi"}]


def test_fallback_makes_a_sync_or_an_async_chain() -> None:
    sync = modelwire.fallback(MockProvider(), MockProvider(dialect_of="anthropic"))
    assert type(sync) is Fallback and len(sync.clients) == 2
    chain = modelwire.fallback(AsyncMockProvider())
    assert type(chain) is AsyncFallback
    with pytest.raises(ConfigurationError, match="argument 2"):
        modelwire.fallback(MockProvider(), AsyncMockProvider())
    with pytest.raises(ConfigurationError, match="use AsyncFallback"):
        Fallback(AsyncMockProvider())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="use Fallback"):
        AsyncFallback(MockProvider())  # type: ignore[arg-type]
    assert "MockProvider" in repr(sync) and "sk-" not in repr(sync)


def test_the_defaults_never_fall_through_on_the_callers_mistakes() -> None:
    for error in (modelwire.BadRequestError, AuthenticationError, modelwire.NotFoundError):
        assert not issubclass(error, DEFAULT_FALL_THROUGH)
    for error in (OverloadedError, RateLimitError, modelwire.APITimeoutError):
        assert issubclass(error, DEFAULT_FALL_THROUGH)


def test_complete_moves_on_and_records_every_try() -> None:
    first = MockProvider(dialect_of="anthropic", max_retries=0, model="claude-x").fail(529)
    second = MockProvider(dialect_of="openai", model="gpt-x").reply("answer")
    response = modelwire.fallback(first, second).complete(messages=MESSAGES)
    assert response.content == "answer"
    tried = response.fallback_attempts
    assert [(a.index, a.provider, a.model) for a in tried] == [
        (0, "anthropic", "claude-x"),
        (1, "openai", "gpt-x"),
    ]
    assert isinstance(tried[0].error, OverloadedError) and tried[1].error is None
    assert len(first.requests) == 1 and len(second.requests) == 1


def test_a_model_named_in_the_call_goes_to_every_client_and_the_record() -> None:
    first = MockProvider(max_retries=0).fail(503)
    second = MockProvider().reply("ok")
    response = modelwire.fallback(first, second).complete(messages=MESSAGES, model="m-1")
    assert first.last_request["model"] == second.last_request["model"] == "m-1"
    assert {a.model for a in response.fallback_attempts} == {"m-1"}


def test_the_last_error_carries_every_try() -> None:
    chain = modelwire.fallback(
        MockProvider(max_retries=0).fail(503), MockProvider(max_retries=0).fail(429)
    )
    with pytest.raises(RateLimitError) as caught:
        chain.complete(messages=MESSAGES)
    assert [type(a.error).__name__ for a in caught.value.fallback_attempts] == [
        "ServerError",
        "RateLimitError",
    ]


def test_a_stream_that_breaks_before_content_moves_on() -> None:
    first = MockProvider(dialect_of="anthropic", max_retries=0).disconnect(after_chunks=0)
    second = MockProvider(dialect_of="openai").reply("from the second")
    with modelwire.fallback(first, second).stream_completion(messages=MESSAGES) as stream:
        # the break shows when the stream is read: then the second client answers
        assert stream.accumulate().content == "from the second"
        assert stream.provider == "openai"
        assert [a.error is None for a in stream.fallback_attempts] == [False, True]
        assert stream.status_code == 200 and stream.attempts == 1
    assert stream.closed


def test_a_stream_that_fails_after_content_never_moves_on() -> None:
    second = MockProvider().reply("unused")
    chain = modelwire.fallback(
        MockProvider().fail_mid_stream(after_chunks=2, text=["Hel", "lo", " there"]), second
    )
    stream = chain.stream_completion(messages=MESSAGES)
    seen = []
    with pytest.raises(StreamEventError) as caught:
        for chunk in stream:
            seen.append(chunk.content)
    assert "".join(seen) == "Hello" and caught.value.partial is not None
    assert caught.value.partial.content == "Hello"
    assert second.pending == 1 and not second.requests
    assert len(caught.value.fallback_attempts) == 1
    assert stream.snapshot().content == "Hello"


def test_text_stream_and_a_predicate_for_what_falls_through() -> None:
    chain = modelwire.fallback(
        MockProvider().fail(401),
        MockProvider().reply("two words"),
        fall_through=lambda error: isinstance(error, AuthenticationError),
    )
    stream = chain.stream_completion(messages=MESSAGES)
    assert "".join(stream.text_stream()) == "two words"
    stream.close()


def test_async_chain_streams_and_completes() -> None:
    async def run() -> None:
        first = AsyncMockProvider(dialect_of="anthropic", max_retries=0)
        first.disconnect(after_chunks=0).fail(503)
        second = AsyncMockProvider(dialect_of="openai").reply("streamed").reply("whole")
        async with modelwire.fallback(first, second) as chain:
            stream = await chain.stream_completion(messages=MESSAGES)
            async with stream:
                texts = [chunk.content async for chunk in stream]
                assert "".join(texts) == "streamed"
                assert (await stream.accumulate()).fallback_attempts == stream.fallback_attempts
            response = await chain.complete(messages=MESSAGES)
            assert response.content == "whole" and len(response.fallback_attempts) == 2
        # leaving the chain closed its clients
        assert first._http.is_closed and second._http.is_closed

    asyncio.run(run())


def test_async_chain_raises_after_content_without_moving_on() -> None:
    async def run() -> None:
        second = AsyncMockProvider().reply("unused")
        chain = modelwire.fallback(
            AsyncMockProvider().disconnect(after_chunks=1, text=["Hi", " there"]), second
        )
        stream = await chain.stream_completion(messages=MESSAGES)
        with pytest.raises(StreamInterruptedError) as caught:
            async for _ in stream:
                pass
        assert caught.value.partial is not None and caught.value.partial.content == "Hi"
        assert not second.requests
        await chain.close()

    asyncio.run(run())
