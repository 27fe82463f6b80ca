"""What the fault tests share: realistic provider bodies (from the dialects' writers), the
sync/async variants, and the connection-pool check."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import modelwire
from modelwire.dialects.anthropic_messages import AnthropicMessagesWriter
from modelwire.dialects.base import Answer, StreamEvent, Writer, json_bytes
from modelwire.dialects.bedrock_converse import BedrockConverseWriter
from modelwire.dialects.gemini import GeminiWriter
from modelwire.dialects.ollama_chat import OllamaChatWriter
from modelwire.dialects.openai_chat import OpenAIChatWriter
from modelwire.errors import ProviderError
from modelwire.types import Usage

from .server import FaultServer

API_KEY = "sk-modelwire-fault-test-7c1e9a2b4d6f"

# tiny delays: a retry test waits milliseconds, not seconds
FAST_RETRY = modelwire.RetryPolicy(max_retries=2, initial_delay=0.001, max_delay=0.005)

MESSAGES = [{"role": "user", "content": "Say hello"}]


# --------------------------------------------------------------------------- providers

# class name, path the base_url ends with, and whether it takes a key
PROVIDERS: dict[str, tuple[str, str, bool]] = {
    "openai": ("OpenAI", "/v1", True),
    "anthropic": ("Anthropic", "", True),
    "ollama": ("Ollama", "", False),
    "openrouter": ("OpenRouter", "/api/v1", True),
    "gemini": ("Gemini", "", True),
    "bedrock": ("Bedrock", "", True),
}


# Each provider's bodies come from its dialect's writer, stamped like its real answers.
WRITERS: dict[str, Writer] = {
    "openai": OpenAIChatWriter(created=1733000000, system_fingerprint="fp_0aa8d3e20b"),
    "openrouter": OpenAIChatWriter(created=1733000000),
    "anthropic": AnthropicMessagesWriter(),
    "ollama": OllamaChatWriter(created_at="2025-01-01T00:00:00.000000Z"),
    "gemini": GeminiWriter(),
    "bedrock": BedrockConverseWriter(),
}
_MODELS = {
    "openai": "gpt-4o-mini-2024-07-18",
    "openrouter": "openai/gpt-4o-mini",
    "anthropic": "claude-sonnet-4-5-20250929",
    "ollama": "llama3.2",
    "gemini": "gemini-2.5-flash",
    "bedrock": "us.amazon.nova-micro-v1:0",
}
_IDS = {
    "openai": "chatcmpl-fault1",
    "openrouter": "gen-fault1",
    "anthropic": "msg_01Fault",
    "gemini": "bzlXaa_EE_aHqtsPi_zw8Ao",
}
USAGE = Usage(input_tokens=9, output_tokens=3)


def _answer(provider: str, texts: list[str]) -> Answer:
    return Answer(model=_MODELS[provider], id=_IDS.get(provider), chunks=texts, usage=USAGE)


def _stream(provider: str, texts: list[str]) -> list[StreamEvent]:
    return WRITERS[provider].stream(_answer(provider, texts))


def stream_events(provider: str, texts: list[str]) -> list[bytes]:
    """A stream up to (not including) the events that finish it: its finish reason, its
    usage and its terminal event."""
    return [event.data for event in _stream(provider, texts) if event.kind != "end"]


def stream_end(provider: str) -> list[bytes]:
    """The events that finish a stream."""
    return [event.data for event in _stream(provider, []) if event.kind == "end"]


STREAMS: dict[str, tuple[Callable[[list[str]], list[bytes]], list[bytes], str]] = {
    # provider: (events for texts, terminal events, content type)
    provider: (
        partial(stream_events, provider),
        stream_end(provider),
        WRITERS[provider].stream_content_type,
    )
    for provider in WRITERS
}


def whole_stream(provider: str, texts: list[str]) -> list[bytes]:
    return [event.data for event in _stream(provider, texts)]


def completion_body(provider: str, text: str = "Hello!") -> bytes:
    """A successful non-streamed answer, as each provider sends it."""
    return WRITERS[provider].response(_answer(provider, [text]))


def error_body(
    provider: str, status: int, etype: str | None, message: str, code: Any = None
) -> bytes:
    """An error body in each provider's own shape."""
    if provider == "openrouter":
        # OpenRouter's own shape, not its dialect's: a numeric code, no type, metadata
        error = {"code": code, "message": message, "metadata": {"provider_name": "X"}}
        return json_bytes({"error": error})
    return WRITERS[provider].error_body(status, message, error_type=etype, code=code)


def error_event(provider: str, message: str, etype: str | None = None) -> bytes:
    """The event that ends a stream with an error, in each provider's own shape."""
    return WRITERS[provider].stream_error(message, error_type=etype)


# --------------------------------------------------------------------------- sync / async


async def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Calls a sync or an async method alike: one test body serves both variants."""
    result = fn(*args, **kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result


async def raises(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> ProviderError:
    """The ProviderError a call raised (anything else, or nothing, fails the test)."""
    try:
        await call(fn, *args, **kwargs)
    except ProviderError as exc:
        return exc
    raise AssertionError(f"{fn.__name__} raised nothing")


async def drain(stream: Any) -> tuple[list[str], ProviderError | None]:
    """Every text delta of a stream, and the error that ended it (if one did)."""
    texts: list[str] = []
    try:
        if hasattr(stream, "__aiter__"):
            async for chunk in stream:
                texts.append(chunk.content)
        else:
            for chunk in stream:
                texts.append(chunk.content)
    except ProviderError as exc:
        return texts, exc
    return texts, None


@dataclass(frozen=True)
class Variant:
    name: str  # "sync" or "async"

    @property
    def is_async(self) -> bool:
        return self.name == "async"

    def client_class(self, provider: str) -> type[Any]:
        class_name = PROVIDERS[provider][0]
        return getattr(modelwire, ("Async" if self.is_async else "") + class_name)  # type: ignore[no-any-return]


VARIANTS = [Variant("sync"), Variant("async")]


class Clients:
    """Builds clients of the current variant pointed at the fault server."""

    def __init__(self, variant: Variant, server: FaultServer) -> None:
        self.variant = variant
        self.server = server
        self.made: list[Any] = []

    def __call__(self, provider: str = "openai", **kwargs: Any) -> Any:
        _, path, keyed = PROVIDERS[provider]
        kwargs.setdefault("base_url", self.server.url + path)
        kwargs.setdefault("max_retries", FAST_RETRY)
        if keyed:
            kwargs.setdefault("api_key", API_KEY)
        client = self.variant.client_class(provider)(**kwargs)
        self.made.append(client)
        return client

    async def close(self) -> None:
        for client in self.made:
            await call(client.close)


# --------------------------------------------------------------------------- the pool


def pool_of(client: Any) -> Any:
    """httpcore's connection pool behind a client's httpx client."""
    return client._http._transport._pool


def assert_pool_clean(client: Any) -> None:
    """No request holds a connection, and every pooled connection is idle or closed.

    httpcore keeps one pool request per response still open (`_requests`, removed when the
    response is closed); a connection that was checked out and never given back is
    neither idle nor closed.
    """
    pool = pool_of(client)
    assert not pool._requests, f"responses still hold connections: {pool}"
    busy = [c for c in pool.connections if not (c.is_idle() or c.is_closed())]
    assert not busy, f"connections still checked out: {busy}"
