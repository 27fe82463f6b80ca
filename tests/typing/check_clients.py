"""Checked by mypy (`nox -s typecheck`), never run: the typed surface users see.

Each `# type: ignore[...]` marks a call that must NOT type-check; with `--strict`
(warn_unused_ignores) the check fails if such a call ever starts to pass.
"""

from __future__ import annotations

from typing import Any, assert_type

import modelwire
from modelwire import AsyncStreamingResponse, CompletionResponse, StreamingResponse, TokenCount
from pydantic import BaseModel


class City(BaseModel):
    name: str
    country: str


def sync_calls(client: modelwire.OpenAI) -> None:
    messages = [{"role": "user", "content": "hi"}]
    assert_type(client.complete(messages=messages, max_tokens=5), CompletionResponse)
    assert_type(client.stream_completion(messages=messages), StreamingResponse)
    client.complete(messages=messages, reasoning_effort="low", frequency_penalty=0.5)
    client.complete(messages=messages, top_k=3)  # type: ignore[call-overload]
    client.complete(messages=messages, reasoning_effort="extreme")  # type: ignore[call-overload]
    client.complete(messages=messages, max_tokens="5")  # type: ignore[call-overload]


async def async_calls(client: modelwire.AsyncAnthropic) -> None:
    messages = [modelwire.Message.user("hi")]
    assert_type(await client.complete(messages=messages, top_k=3), CompletionResponse)
    stream = await client.stream_completion(messages=messages, thinking={"type": "enabled"})
    assert_type(stream, AsyncStreamingResponse)
    async with client.stream_completion(messages=messages) as entered:
        assert_type(entered, AsyncStreamingResponse[Any])
    client.stream_completion(messages=messages, top_k="3")  # type: ignore[call-overload]
    await client.complete(messages=messages, seed_value=1)  # type: ignore[call-overload]


def gemini_calls(client: modelwire.Gemini) -> None:
    messages = [{"role": "user", "content": "hi"}]
    client.complete(messages=messages, thinking_budget=512, include_thoughts=True, top_k=40)
    client.complete(messages=messages, thinking_level="high")
    client.complete(messages=messages, thinking_level="huge")  # type: ignore[call-overload]
    client.complete(messages=messages, reasoning_effort="low")  # type: ignore[call-overload]


def authentication() -> None:
    modelwire.AzureOpenAI(base_url="https://r.openai.azure.com", api_version="2024-10-21")
    modelwire.Gemini(api_key="AIza", auth=modelwire.Auth.in_query("key"))
    modelwire.OpenAI(auth=modelwire.Auth.token(lambda: "token"))

    async def token() -> str:
        return "token"

    modelwire.AsyncOpenAI(auth=modelwire.Auth.token(token))
    modelwire.OpenAI(auth="Bearer token")  # type: ignore[arg-type]


def constructors() -> None:
    modelwire.OpenAI(api_key="sk", organization="org", max_retries=3)
    modelwire.Ollama(base_url="http://localhost:11434", timeout=5.0)
    modelwire.Ollama(organization="org")  # type: ignore[call-arg]
    modelwire.OpenRouter(app_title="demo", app_url="https://example.com")
    bedrock = modelwire.Bedrock(region="us-east-1")
    bedrock.complete(messages=[], thinking={"type": "enabled", "budget_tokens": 1024})
    bedrock.complete(messages=[], guardrail_config="g1")  # type: ignore[call-overload]
    modelwire.Bedrock(region=1)  # type: ignore[arg-type]


def limits_and_batches(client: modelwire.OpenAI, async_client: modelwire.AsyncOpenAI) -> None:
    shared = modelwire.Limiter(modelwire.Limits(max_concurrency=2))
    modelwire.OpenAI(limits=modelwire.Limits(requests_per_minute=60))
    modelwire.AsyncAnthropic(limits=shared)
    modelwire.OpenAI(limits=5)  # type: ignore[arg-type]
    requests = [{"messages": [{"role": "user", "content": "hi"}]}]
    with modelwire.batch(client, requests, concurrency=4) as results:
        for result in results:
            assert_type(result, modelwire.BatchResult)
            assert_type(result.response, CompletionResponse | None)
    assert_type(modelwire.async_batch(async_client, requests), modelwire.AsyncBatch)
    modelwire.batch(async_client, requests)  # type: ignore[arg-type]


def by_name() -> None:
    assert_type(modelwire.client("anthropic"), modelwire.Anthropic)
    assert_type(modelwire.async_client("ollama"), modelwire.AsyncOllama)
    name = "open" + "ai"
    assert_type(modelwire.client(name), modelwire.Client)
    # a client of any spec takes provider options in `options=`
    modelwire.client(name).complete(messages=[], options={"top_k": 3})


def typed_parsed(client: modelwire.OpenAI) -> None:
    messages = [{"role": "user", "content": "A city?"}]
    response = client.complete(messages=messages, response_format=City, max_tokens=50)
    city: City = response.parsed
    assert_type(response, CompletionResponse[City])
    count: int = response.parsed  # type: ignore[assignment]
    # no model, no type: a dict schema, JSON mode or no format at all
    assert_type(client.complete(messages=messages).parsed, Any)
    assert_type(client.complete(messages=messages, response_format="json").parsed, Any)
    # the typed overload keeps the provider's own options typed
    client.complete(messages=messages, response_format=City, reasoning_effort="low")
    client.complete(messages=messages, response_format=City, top_k=3)  # type: ignore[call-overload]
    with client.stream_completion(messages=messages, response_format=City) as stream:
        assert_type(stream, StreamingResponse[City])
        for partial in stream.partial_objects():
            name: str = partial.name
        assert_type(stream.accumulate().parsed, City)
    assert_type(client.count_tokens(messages=messages), TokenCount)
    client.complete(messages=messages, reasoning=modelwire.Reasoning(effort="low"))
    client.complete(messages=messages, reasoning="medium")
    client.complete(messages=messages, reasoning="lots")  # type: ignore[call-overload]
    # any spec's client types `parsed` too
    by_name = modelwire.client("open" + "ai")
    assert_type(by_name.complete(messages=messages, response_format=City).parsed, City)
    del city, count, name


async def typed_parsed_async(client: modelwire.AsyncAnthropic) -> None:
    messages = [modelwire.Message.user("A city?")]
    response = await client.complete(messages=messages, response_format=City)
    assert_type(response.parsed, City)
    stream = await client.stream_completion(messages=messages, response_format=City)
    async with stream:
        async for partial in stream.partial_objects():
            assert_type(partial, City)
        assert_type((await stream.accumulate()).parsed, City)
    assert_type(await client.count_tokens(messages=messages), TokenCount)


async def fallbacks(sync: modelwire.OpenAI, other: modelwire.Anthropic) -> None:
    chain = modelwire.fallback(sync, other)
    assert_type(chain, modelwire.Fallback)
    assert_type(chain.complete(messages=[]), CompletionResponse)
    assert_type(chain.stream_completion(messages=[]), modelwire.FallbackStream)
    achain = modelwire.fallback(modelwire.AsyncOpenAI(), modelwire.AsyncAnthropic())
    assert_type(achain, modelwire.AsyncFallback)
    assert_type(await achain.stream_completion(messages=[]), modelwire.AsyncFallbackStream)
    attempt = chain.complete(messages=[]).fallback_attempts[0]
    assert_type(attempt, modelwire.FallbackAttempt)
    limits = chain.complete(messages=[]).rate_limits
    assert_type(limits.requests.remaining, int | None)
    modelwire.fallback(sync, modelwire.AsyncOpenAI())  # type: ignore[call-overload]


def provider_batch_jobs(client: modelwire.OpenAI) -> None:
    job = client.batches.submit({"a": {"messages": [{"role": "user", "content": "Hi"}]}})
    assert_type(job, modelwire.BatchJob)
    assert_type(job.status, modelwire.BatchJobStatus)
    ended = client.batches.wait(job, interval=1.0, timeout=60.0)
    for custom_id, result in client.batches.results(ended).items():
        assert_type(custom_id, str)
        assert_type(result.response, CompletionResponse[Any] | None)
        assert_type(result.error, modelwire.BatchItemError | None)
    client.batches.wait(job, interval="1")  # type: ignore[arg-type]
    client.batches.results("batch_1")  # type: ignore[arg-type]


async def provider_batch_jobs_async(client: modelwire.AsyncAnthropic) -> None:
    job = await client.batches.submit([modelwire.CompletionRequest(messages=[])])
    assert_type(await client.batches.cancel(job.id), modelwire.BatchJob)
    assert_type(await client.batches.get(job), modelwire.BatchJob)
