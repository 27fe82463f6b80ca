"""`complete()` against recorded traffic of every provider, sync and async, through vcrpy:
the parsed text, tool calls, usage, finish reason and model equal what the official SDK
(or, for Ollama, ollama-python) parses from the same body; error statuses raise typed
errors with the provider's own message. Also the native Ollama and LM Studio streams."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from modelwire import (
    BadRequestError,
    CompletionResponse,
    NotFoundError,
    ProviderError,
    RateLimitError,
    StreamInterruptedError,
)

from .support import (
    Exchange,
    Reference,
    exchanges,
    make_client,
    openai_reference,
    replayer,
    request_for,
    single_cassette,
)

CHAT_PROVIDERS = (
    "openai",
    "anthropic",
    "openrouter",
    "groq",
    "ollama",
    "ollama-native",
    "lmstudio",
)


def chat_exchanges(*, ok: bool) -> list[Exchange]:
    return [
        e
        for provider in CHAT_PROVIDERS
        for e in exchanges(provider)
        if e.is_chat
        and not e.is_stream
        and (e.status == 200) == ok
        # an /api/chat exchange recorded as one JSON body (stream: false)
        and e.content_type == "application/json"
    ]


COMPLETIONS = chat_exchanges(ok=True)
ERRORS = chat_exchanges(ok=False)


def test_every_provider_has_recorded_completions() -> None:
    assert {e.provider for e in COMPLETIONS} == set(CHAT_PROVIDERS)


def replay(exchange: Exchange, directory: Path, *, asynchronous: bool, stream: bool = False) -> Any:
    """complete() (or a stream accumulated) against this exchange; the result or the error."""
    request = request_for(exchange)
    with replayer().use_cassette(str(single_cassette(exchange, directory))):
        if not asynchronous:
            client = make_client(exchange.provider, exchange=exchange)
            try:
                if stream:
                    with client.stream_completion(**request) as response:
                        return response.accumulate()
                return client.complete(**request)
            except ProviderError as exc:
                return exc
            finally:
                client.close()

        async def run() -> Any:
            async with make_client(
                exchange.provider, asynchronous=True, exchange=exchange
            ) as client:
                try:
                    if stream:
                        async with await client.stream_completion(**request) as response:
                            return await response.accumulate()
                    return await client.complete(**request)
                except ProviderError as exc:
                    return exc

        return asyncio.run(run())


# ----------------------------------------------------------------------------- references


def openai_body_reference(body: dict[str, Any]) -> Reference:
    from openai._models import construct_type_unchecked
    from openai.types.chat import ChatCompletion

    parsed = construct_type_unchecked(type_=ChatCompletion, value=body)
    choice = parsed.choices[0]
    usage = parsed.usage
    return Reference(
        content=choice.message.content or "",
        tool_calls=[
            (c.id, c.function.name, json.loads(c.function.arguments or "{}"))
            for c in choice.message.tool_calls or []
        ],
        raw_finish_reason=choice.finish_reason,
        input_tokens=usage.prompt_tokens if usage else None,
        output_tokens=usage.completion_tokens if usage else None,
        model=parsed.model,
    )


def anthropic_body_reference(body: dict[str, Any]) -> Reference:
    from anthropic._models import construct_type
    from anthropic.types import Message

    parsed: Any = construct_type(type_=Message, value=body)
    return Reference(
        content="".join(b.text for b in parsed.content if b.type == "text"),
        tool_calls=[(b.id, b.name, dict(b.input)) for b in parsed.content if b.type == "tool_use"],
        raw_finish_reason=parsed.stop_reason,
        input_tokens=parsed.usage.input_tokens,
        output_tokens=parsed.usage.output_tokens,
        model=parsed.model,
    )


def ollama_body_reference(lines: list[dict[str, Any]]) -> Reference:
    """ollama-python's own response type, one per NDJSON record (or the one JSON body)."""
    from ollama import ChatResponse

    records = [ChatResponse.model_validate(line) for line in lines]
    final = records[-1]
    calls = [
        (f"call_{i}", call.function.name, dict(call.function.arguments))
        for i, call in enumerate(c for r in records for c in r.message.tool_calls or [])
    ]
    return Reference(
        content="".join(r.message.content or "" for r in records),
        tool_calls=calls,
        raw_finish_reason=final.done_reason,
        input_tokens=final.prompt_eval_count,
        output_tokens=final.eval_count,
        model=final.model,
    )


def reference_for(exchange: Exchange) -> Reference:
    body = json.loads(exchange.body)
    if exchange.provider == "anthropic":
        return anthropic_body_reference(body)
    if exchange.provider == "ollama-native":
        return ollama_body_reference([body])
    return openai_body_reference(body)


def assert_same(result: CompletionResponse, reference: Reference) -> None:
    assert result.content == reference.content
    assert [(c.id, c.name, c.arguments) for c in result.tool_calls] == reference.tool_calls
    assert result.raw_finish_reason == reference.raw_finish_reason
    assert result.model == reference.model
    if reference.input_tokens is None and reference.output_tokens is None:
        assert result.usage is None
    else:
        assert result.usage is not None
        assert result.usage.input_tokens == (reference.input_tokens or 0)
        assert result.usage.output_tokens == (reference.output_tokens or 0)


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("exchange", COMPLETIONS, ids=lambda e: e.id)
def test_complete_matches_the_official_parse(
    exchange: Exchange, asynchronous: bool, tmp_path: Path
) -> None:
    result = replay(exchange, tmp_path, asynchronous=asynchronous)
    assert isinstance(result, CompletionResponse), result
    assert_same(result, reference_for(exchange))
    assert result.finish_reason in ("stop", "length", "tool_calls", "content_filter", "other")


EXPECTED_ERRORS: dict[int, type[ProviderError]] = {
    400: BadRequestError,
    404: NotFoundError,
    429: RateLimitError,
}


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("exchange", ERRORS, ids=lambda e: e.id)
def test_error_status_raises_typed_error(
    exchange: Exchange, asynchronous: bool, tmp_path: Path
) -> None:
    error = replay(exchange, tmp_path, asynchronous=asynchronous)
    body = json.loads(exchange.body)
    expected = EXPECTED_ERRORS[exchange.status]
    if (body.get("error") or {}).get("code") == "model_not_found":
        expected = NotFoundError  # LM Studio answers an unknown model with 400
    assert isinstance(error, expected), error
    assert error.status_code == exchange.status
    assert error.message == body["error"]["message"]
    assert error.retryable == (exchange.status == 429)
    assert error.attempts == 1


def test_recorded_errors_cover_the_statuses() -> None:
    assert {e.status for e in ERRORS} == {400, 404, 429}
    assert {e.provider for e in ERRORS} >= {"openai", "openrouter", "groq", "lmstudio"}


# ----------------------------------------------------------------------------- native streams


OLLAMA_STREAMS = [
    e
    for e in exchanges("ollama-native")
    if e.is_chat and e.is_stream and e.path.endswith("/api/chat")
]


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("exchange", OLLAMA_STREAMS, ids=lambda e: e.id)
def test_ollama_ndjson_stream_matches_ollama_python(
    exchange: Exchange, asynchronous: bool, tmp_path: Path
) -> None:
    result = replay(exchange, tmp_path, asynchronous=asynchronous, stream=True)
    assert isinstance(result, CompletionResponse), result
    lines = [json.loads(line) for line in exchange.body.splitlines() if line.strip()]
    reference = ollama_body_reference(lines)
    assert_same(result, reference)
    assert result.content or result.tool_calls, "a recorded answer"


def test_ollama_streams_were_recorded() -> None:
    assert len(OLLAMA_STREAMS) >= 5


LMSTUDIO_STREAMS = [e for e in exchanges("lmstudio") if e.is_chat and e.is_stream]


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("exchange", LMSTUDIO_STREAMS, ids=lambda e: e.id)
def test_lmstudio_stream(exchange: Exchange, asynchronous: bool, tmp_path: Path) -> None:
    outcome = replay(exchange, tmp_path, asynchronous=asynchronous, stream=True)
    reference = openai_reference(exchange.body)
    if b"[DONE]" in exchange.body:
        assert isinstance(outcome, CompletionResponse), outcome
        assert outcome.content == reference.content
        assert outcome.raw_finish_reason == reference.raw_finish_reason
        return
    # this recording stops before `data: [DONE]`: never a silent short answer
    assert isinstance(outcome, StreamInterruptedError), outcome
    assert outcome.partial is not None
    partial = outcome.partial
    assert partial.content == reference.content
    assert [(c.name, c.arguments) for c in partial.tool_calls] == [
        (name, args) for _, name, args in reference.tool_calls
    ]
    assert partial.reasoning
