"""Checked by mypy (`nox -s typecheck`), never run: the typed surface users see.

Each `# type: ignore[...]` marks a call that must NOT type-check; with `--strict`
(warn_unused_ignores) the check fails if such a call ever starts to pass.
"""

from __future__ import annotations

from typing import assert_type

import modelwire
from modelwire import AsyncStreamingResponse, CompletionResponse, StreamingResponse


def sync_calls(client: modelwire.OpenAI) -> None:
    messages = [{"role": "user", "content": "hi"}]
    assert_type(client.complete(messages=messages, max_tokens=5), CompletionResponse)
    assert_type(client.stream_completion(messages=messages), StreamingResponse)
    client.complete(messages=messages, reasoning_effort="low", frequency_penalty=0.5)
    client.complete(messages=messages, top_k=3)  # type: ignore[call-arg]
    client.complete(messages=messages, reasoning_effort="extreme")  # type: ignore[arg-type]
    client.complete(messages=messages, max_tokens="5")  # type: ignore[arg-type]


async def async_calls(client: modelwire.AsyncAnthropic) -> None:
    messages = [modelwire.Message.user("hi")]
    assert_type(await client.complete(messages=messages, top_k=3), CompletionResponse)
    stream = await client.stream_completion(messages=messages, thinking={"type": "enabled"})
    assert_type(stream, AsyncStreamingResponse)
    await client.complete(messages=messages, seed_value=1)  # type: ignore[call-arg]


def gemini_calls(client: modelwire.Gemini) -> None:
    messages = [{"role": "user", "content": "hi"}]
    client.complete(messages=messages, thinking_budget=512, include_thoughts=True, top_k=40)
    client.complete(messages=messages, thinking_level="high")
    client.complete(messages=messages, thinking_level="huge")  # type: ignore[arg-type]
    client.complete(messages=messages, reasoning_effort="low")  # type: ignore[call-arg]


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


def by_name() -> None:
    assert_type(modelwire.client("anthropic"), modelwire.Anthropic)
    assert_type(modelwire.async_client("ollama"), modelwire.AsyncOllama)
    name = "open" + "ai"
    assert_type(modelwire.client(name), modelwire.Client)
    # a client of any spec takes provider options in `options=`
    modelwire.client(name).complete(messages=[], options={"top_k": 3})
