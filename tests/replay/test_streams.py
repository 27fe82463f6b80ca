"""Every recorded stream (OpenAI, Anthropic, OpenRouter, Groq) replays through modelwire,
sync and async, through vcrpy and httpx, and accumulates into what the official SDK's own
accumulator makes of the same bytes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from modelwire import CompletionResponse, StreamEventError, StreamingChunk

from .support import (
    REFERENCES,
    Exchange,
    Reference,
    exchanges,
    make_client,
    replayer,
    request_for,
    single_cassette,
)

STREAMS = [
    exchange
    for provider in REFERENCES
    for exchange in exchanges(provider)
    if exchange.is_chat and exchange.is_stream and exchange.status == 200
]


def test_every_provider_has_recorded_streams() -> None:
    providers = {e.provider for e in STREAMS}
    assert providers == {"openai", "anthropic", "openrouter", "groq"}
    assert len(STREAMS) >= 50


def consume(exchange: Exchange, directory: Path, *, asynchronous: bool) -> Any:
    """Replays one exchange; returns (chunks, accumulated response) or the raised error."""
    provider = exchange.provider
    request = request_for(exchange)
    with replayer().use_cassette(str(single_cassette(exchange, directory))):
        if not asynchronous:
            client = make_client(provider)
            try:
                with client.stream_completion(**request) as stream:
                    chunks = list(stream)
                    return chunks, stream.accumulate()
            except StreamEventError as exc:
                return exc
            finally:
                client.close()

        async def run() -> Any:
            async with make_client(provider, asynchronous=True) as client:
                try:
                    async with await client.stream_completion(**request) as stream:
                        chunks = [chunk async for chunk in stream]
                        return chunks, await stream.accumulate()
                except StreamEventError as exc:
                    return exc

        return asyncio.run(run())


def assert_matches(result: CompletionResponse, reference: Reference) -> None:
    assert result.content == reference.content
    assert [(c.id, c.name, c.arguments) for c in result.tool_calls] == reference.tool_calls
    assert result.raw_finish_reason == reference.raw_finish_reason
    assert result.model == reference.model
    if reference.input_tokens is None:
        assert result.usage is None
    else:
        assert result.usage is not None
        assert result.usage.input_tokens == reference.input_tokens
        assert result.usage.output_tokens == reference.output_tokens


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("exchange", STREAMS, ids=lambda e: e.id)
def test_stream_matches_the_official_sdk(
    exchange: Exchange, asynchronous: bool, tmp_path: Path
) -> None:
    provider = exchange.provider
    reference = REFERENCES[provider](exchange.body)
    outcome = consume(exchange, tmp_path, asynchronous=asynchronous)
    if reference.error:
        # the provider reported an error mid-stream: a typed error, with what came before
        assert isinstance(outcome, StreamEventError), outcome
        assert outcome.provider == make_client(provider).spec.name
        assert outcome.partial is not None
        return
    assert not isinstance(outcome, Exception), outcome
    chunks, result = outcome
    assert_matches(result, reference)
    # the chunks themselves add up to the same answer, and only the last is final
    assert "".join(c.content for c in chunks) == reference.content
    assert [c.is_final for c in chunks].count(True) == 1 and chunks[-1].is_final
    assert all(isinstance(c, StreamingChunk) for c in chunks)
    assert chunks[-1].finish_reason == result.finish_reason


def test_streamed_reasoning_is_kept_apart_from_the_answer(tmp_path: Path) -> None:
    (exchange,) = [e for e in STREAMS if "openrouter_streaming_reasoning" in e.cassette.name]
    chunks, result = consume(exchange, tmp_path, asynchronous=False)
    assert result.reasoning
    assert result.content
    assert result.reasoning not in result.content
    assert "".join(c.reasoning for c in chunks) == result.reasoning


def test_anthropic_thinking_stream_keeps_the_signature(tmp_path: Path) -> None:
    candidates = [e for e in STREAMS if e.provider == "anthropic" and b"signature_delta" in e.body]
    assert candidates, "a recorded Anthropic stream with thinking"
    chunks, result = consume(candidates[0], tmp_path, asynchronous=False)
    assert result.reasoning_signature
    assert "".join(c.reasoning for c in chunks) == (result.reasoning or "")


def test_openrouter_error_chunk_raises_with_partial(tmp_path: Path) -> None:
    (exchange,) = [e for e in STREAMS if "openrouter_stream_error" in e.cassette.name]
    outcome = consume(exchange, tmp_path, asynchronous=False)
    assert isinstance(outcome, StreamEventError)
    assert outcome.message
    assert outcome.partial is not None
