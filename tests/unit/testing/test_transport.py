"""The in-memory transports (`modelwire.testing._transport`): cut connections and delays."""

from __future__ import annotations

import pytest
from modelwire import APIConnectionError, StreamInterruptedError, StreamTimeoutError, Timeout
from modelwire.testing import AsyncMockProvider, MockProvider

from tests.unit.testing.support import DIALECTS, HI, ask


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


@pytest.mark.parametrize(
    ("provider", "count"), [("anthropic", 4), ("openai_responses", 4), ("llamacpp", 4)]
)
def test_the_counting_endpoint_counts_the_words_sent(provider: str, count: int) -> None:
    mock = MockProvider(dialect_of=provider)
    counted = mock.count_tokens(
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi there"},
        ]
    )
    assert counted.input_tokens == count
    assert mock.requests == []  # not a chat request: the script is untouched
