"""The generated OpenAI-compatible clients (LMStudio, LlamaCpp) against a real llama.cpp server.

SmolLM2-135M on 2 cores: answers are short (small max_tokens) and their wording is never
asserted, only their shape. Facts about the server these tests rely on: any model id is
accepted; streams carry no usage; validation errors come back as HTTP 500; a named
tool_choice forces a streamed tool call whose every fragment repeats the call's id and name.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpcore
import httpx
import modelwire
import pytest
from modelwire.errors import (
    BadRequestError,
    ContextLengthExceededError,
    NotFoundError,
    ProviderError,
)
from modelwire.local import LocalServer
from modelwire.types import CompletionResponse, StreamingChunk
from pydantic import BaseModel

from tests.live.support import checked_out as _checked_out
from tests.live.support import pool as _pool

pytestmark = pytest.mark.live

HI = [{"role": "user", "content": "Say hi"}]
WEATHER = [{"role": "user", "content": "What is the weather in Paris?"}]
GET_WEATHER = {
    "name": "get_weather",
    "description": "Get the current weather in a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


class City(BaseModel):
    name: str
    country: str


def _check_text(response: CompletionResponse) -> None:
    assert response.content.strip()
    assert response.finish_reason in ("stop", "length")
    assert response.tool_calls == []


def _check_stream(chunks: list[StreamingChunk], response: CompletionResponse) -> None:
    assert chunks, "no chunks"
    assert chunks[-1].is_final
    assert [c.is_final for c in chunks].count(True) == 1
    assert chunks[-1].finish_reason in ("stop", "length")
    text = "".join(c.content for c in chunks)
    assert sum(1 for c in chunks if c.content) >= 2  # real deltas, not one lump
    assert text.strip()
    assert response.content == text
    assert response.finish_reason == chunks[-1].finish_reason


def _check_weather_call(response: CompletionResponse) -> None:
    assert response.finish_reason == "tool_calls"
    assert len(response.tool_calls) == 1
    call = response.tool_calls[0]
    assert call.name == "get_weather"  # not "get_weatherget_weather..."
    assert call.id
    assert "get_weatherget_weather" not in call.id  # the id is not concatenated either
    assert set(call.arguments) == {"city"}, call.arguments
    assert isinstance(call.arguments["city"], str)


# --------------------------------------------------------------------------- completions


def test_complete_sync(local_server: LocalServer) -> None:
    with modelwire.LMStudio(base_url=local_server.base_url, model="any") as client:
        response = client.complete(messages=HI, max_tokens=8)
    _check_text(response)
    assert response.model == "any"
    assert response.usage is not None
    assert response.usage.input_tokens > 0
    assert 0 < response.usage.output_tokens <= 8


async def test_complete_async(local_server: LocalServer) -> None:
    async with modelwire.AsyncLMStudio(base_url=local_server.base_url, model="any") as client:
        response = await client.complete(messages=HI, max_tokens=8)
    _check_text(response)
    assert response.usage is not None and response.usage.output_tokens <= 8


def test_stream_sync(local_server: LocalServer) -> None:
    with modelwire.LMStudio(base_url=local_server.base_url, model="any") as client:
        with client.stream_completion(messages=HI, max_tokens=12) as stream:
            chunks = list(stream)
            response = stream.accumulate()
            assert stream.snapshot().content == response.content
        assert stream.closed
    _check_stream(chunks, response)


async def test_stream_async(local_server: LocalServer) -> None:
    async with modelwire.AsyncLMStudio(base_url=local_server.base_url, model="any") as client:
        stream = await client.stream_completion(messages=HI, max_tokens=12)
        async with stream:
            chunks = [chunk async for chunk in stream]
            response = await stream.accumulate()
        assert stream.closed
    _check_stream(chunks, response)


def test_stream_closed_early_frees_the_connection_sync(local_server: LocalServer) -> None:
    with modelwire.LMStudio(base_url=local_server.base_url, model="any") as client:
        stream = client.stream_completion(
            messages=[{"role": "user", "content": "Tell me a long story."}], max_tokens=200
        )
        received = []
        for chunk in stream:
            received.append(chunk)
            if len(received) == 2:
                break
        pool = _pool(client)
        assert _checked_out(pool)  # the stream still holds its connection
        stream.close()
        assert stream.closed
        assert _checked_out(pool) == []
        assert not stream.snapshot().finish_reason  # it really was cut short
        _check_text(client.complete(messages=HI, max_tokens=4))
        assert _checked_out(pool) == []


async def test_stream_closed_early_frees_the_connection_async(local_server: LocalServer) -> None:
    async with modelwire.AsyncLMStudio(base_url=local_server.base_url, model="any") as client:
        stream = await client.stream_completion(
            messages=[{"role": "user", "content": "Tell me a long story."}], max_tokens=200
        )
        received = []
        async for chunk in stream:
            received.append(chunk)
            if len(received) == 2:
                break
        pool = _pool(client)
        assert _checked_out(pool)
        await stream.close()
        assert stream.closed
        assert _checked_out(pool) == []
        _check_text(await client.complete(messages=HI, max_tokens=4))
        assert _checked_out(pool) == []


# --------------------------------------------------------------------------- models


def test_list_models(local_server: LocalServer) -> None:
    with modelwire.LMStudio(base_url=local_server.base_url) as client:
        models = client.list_models()
    assert [m.id for m in models] == [local_server.model_id]
    assert models[0].id.endswith(".gguf")


async def test_list_models_async(local_server: LocalServer) -> None:
    async with modelwire.AsyncLlamaCpp(base_url=local_server.base_url) as client:
        models = await client.list_models()
    assert [m.id for m in models] == [local_server.model_id]


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "extra_body",
    [{"max_tokens": "not a number"}, {"temperature": "hot"}],
    ids=["max_tokens", "temperature"],
)
def test_invalid_parameter_is_a_typed_error_not_retried(
    local_server: LocalServer, extra_body: dict[str, Any]
) -> None:
    # the server answers 500 internal_server_error for request validation errors, which the
    # llama.cpp spec maps to a non-retryable BadRequestError: one attempt even with retries
    with modelwire.LlamaCpp(base_url=local_server.base_url, max_retries=3) as client:
        with pytest.raises(BadRequestError) as info:
            client.complete(messages=HI, max_tokens=4, extra_body=extra_body)
        err = info.value
        assert err.attempts == 1
        assert err.retryable is False
        assert err.status_code == 500
        assert err.provider == "llamacpp"
        key = next(iter(extra_body))
        assert key in str(err)

        with pytest.raises(BadRequestError) as info:
            client.stream_completion(messages=HI, max_tokens=4, extra_body=extra_body)
        assert info.value.attempts == 1
        # the client is still usable afterwards
        _check_text(client.complete(messages=HI, max_tokens=4))


async def test_invalid_parameter_async(local_server: LocalServer) -> None:
    async with modelwire.AsyncLlamaCpp(base_url=local_server.base_url, max_retries=3) as client:
        with pytest.raises(ProviderError) as info:
            await client.complete(messages=HI, max_tokens=4, extra_body={"max_tokens": "x"})
    assert isinstance(info.value, BadRequestError)
    assert info.value.attempts == 1


# --------------------------------------------------------------------------- tools


def test_named_tool_choice_returns_a_real_tool_call(local_server: LocalServer) -> None:
    with modelwire.LMStudio(base_url=local_server.base_url, model="any") as client:
        response = client.complete(
            messages=WEATHER, tools=[GET_WEATHER], tool_choice="get_weather", max_tokens=40
        )
    _check_weather_call(response)
    assert response.content == ""


def test_named_tool_choice_streamed(local_server: LocalServer) -> None:
    client = modelwire.LMStudio(base_url=local_server.base_url, model="any")
    with (
        client,
        client.stream_completion(
            messages=WEATHER,
            tools=[GET_WEATHER],
            tool_choice={"name": "get_weather"},
            max_tokens=40,
        ) as stream,
    ):
        chunks = list(stream)
        response = stream.accumulate()
    deltas = [d for c in chunks for d in c.tool_calls]
    assert len(deltas) >= 2, "the tool call should arrive in fragments"
    # the server repeats the name on every fragment; the accumulated name must not
    assert {d.name for d in deltas} == {"get_weather"}
    assert json.loads("".join(d.arguments for d in deltas)) == response.tool_calls[0].arguments
    assert {d.id for d in deltas} == {response.tool_calls[0].id}
    assert chunks[-1].is_final
    _check_weather_call(response)


async def test_named_tool_choice_streamed_async(local_server: LocalServer) -> None:
    async with modelwire.AsyncLlamaCpp(base_url=local_server.base_url) as client:
        stream = await client.stream_completion(
            messages=WEATHER, tools=[GET_WEATHER], tool_choice="get_weather", max_tokens=40
        )
        async with stream:
            response = await stream.accumulate()
    _check_weather_call(response)


# --------------------------------------------------------------------------- JSON output


def test_response_format_pydantic_model(local_server: LocalServer) -> None:
    with modelwire.LlamaCpp(base_url=local_server.base_url) as client:
        response = client.complete(
            messages=[
                {"role": "user", "content": "The capital of France, as JSON: name and country."}
            ],
            response_format=City,
            max_tokens=40,
        )
    assert isinstance(response.parsed, City), response.content
    assert response.parsed == City.model_validate_json(response.content)


async def test_response_format_pydantic_model_streamed_async(local_server: LocalServer) -> None:
    async with modelwire.AsyncLlamaCpp(base_url=local_server.base_url) as client:
        stream = await client.stream_completion(
            messages=[
                {"role": "user", "content": "The capital of Italy, as JSON: name and country."}
            ],
            response_format=City,
            max_tokens=40,
        )
        async with stream:
            response = await stream.accumulate()
    assert isinstance(response.parsed, City), response.content


# --------------------------------------------------------------------------- concurrency


async def test_twenty_concurrent_streams(local_server: LocalServer) -> None:
    async def one(client: modelwire.AsyncLMStudio, i: int) -> tuple[str, CompletionResponse]:
        stream = await client.stream_completion(
            messages=[{"role": "user", "content": f"Count to {i + 1}."}], max_tokens=6
        )
        async with stream:
            text = "".join([chunk.content async for chunk in stream])
            return text, await stream.accumulate()

    async with modelwire.AsyncLMStudio(
        base_url=local_server.base_url, model="any", timeout=120
    ) as client:
        results = await asyncio.wait_for(
            asyncio.gather(*(one(client, i) for i in range(20))), timeout=240
        )
        assert _checked_out(_pool(client)) == []
    assert len(results) == 20
    for text, response in results:
        assert response.finish_reason in ("stop", "length")
        assert response.content == text
        assert text.strip()


def test_pool_attribute_path_is_httpcore() -> None:
    """Guards the internals the early-close tests read (httpx 0.28 / httpcore 1.x)."""
    with modelwire.LMStudio(base_url="http://127.0.0.1:9/v1") as client:
        assert isinstance(client._http, httpx.Client)
        pool = _pool(client)
        assert isinstance(pool, httpcore.ConnectionPool)  # (modelwire mends its cancellation leaks)
        assert pool.connections == [] and list(pool._requests) == []


def test_a_prompt_longer_than_the_context_is_context_length_exceeded(
    local_server: LocalServer,
) -> None:
    # the server's context is 2,048 tokens: 3,000 words cannot fit, and retrying cannot help
    long_prompt = [{"role": "user", "content": "word " * 3000}]
    with modelwire.LlamaCpp(base_url=local_server.base_url, max_retries=3) as client:
        with pytest.raises(ContextLengthExceededError) as info:
            client.complete(messages=long_prompt, max_tokens=4)
        assert info.value.attempts == 1 and info.value.retryable is False
        assert "context" in str(info.value)


def test_a_base_url_without_v1_is_a_404_that_says_so(local_server: LocalServer) -> None:
    # the commonest slip: the server's address without the /v1 its API is under
    assert local_server.base_url.endswith("/v1")
    bare = local_server.base_url.removesuffix("/v1")
    with modelwire.LlamaCpp(base_url=bare) as client, pytest.raises(NotFoundError) as info:
        client.complete(messages=HI, max_tokens=4)
    assert "the base URL has no /v1" in str(info.value) and info.value.status_code == 404
