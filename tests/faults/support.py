"""What the fault tests share: realistic provider bodies, the sync/async variants, and
the connection-pool check."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import modelwire
from modelwire.errors import ProviderError

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
}


def sse(data: Any, event: str | None = None) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {text}\n\n".encode()


def openai_chunk(content: str | None = None, finish: str | None = None, **extra: Any) -> bytes:
    delta: dict[str, Any] = {} if content is None else {"content": content}
    return sse(
        {
            "id": "chatcmpl-fault1",
            "object": "chat.completion.chunk",
            "created": 1733000000,
            "model": "gpt-4o-mini-2024-07-18",
            "system_fingerprint": "fp_0aa8d3e20b",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            **extra,
        }
    )


def openai_events(texts: list[str]) -> list[bytes]:
    """An OpenAI stream up to (not including) its finish: role chunk, then text deltas."""
    first = sse(
        {
            "id": "chatcmpl-fault1",
            "object": "chat.completion.chunk",
            "created": 1733000000,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [
                {
                    "index": 0,
                    "delta": {"role": "assistant", "content": "", "refusal": None},
                    "finish_reason": None,
                }
            ],
        }
    )
    return [first, *(openai_chunk(text) for text in texts)]


OPENAI_END = [
    openai_chunk(finish="stop"),
    sse(
        {
            "id": "chatcmpl-fault1",
            "object": "chat.completion.chunk",
            "created": 1733000000,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [],
            "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12},
        }
    ),
    sse("[DONE]"),
]


def anthropic_events(texts: list[str]) -> list[bytes]:
    return [
        sse(
            {
                "type": "message_start",
                "message": {
                    "id": "msg_01Fault",
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-sonnet-4-5-20250929",
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": 9, "output_tokens": 1},
                },
            },
            "message_start",
        ),
        sse(
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
            "content_block_start",
        ),
        sse({"type": "ping"}, "ping"),
        *(
            sse(
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": t},
                },
                "content_block_delta",
            )
            for t in texts
        ),
    ]


ANTHROPIC_END = [
    sse({"type": "content_block_stop", "index": 0}, "content_block_stop"),
    sse(
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": 3},
        },
        "message_delta",
    ),
    sse({"type": "message_stop"}, "message_stop"),
]


def ollama_events(texts: list[str]) -> list[bytes]:
    return [
        json.dumps(
            {
                "model": "llama3.2",
                "created_at": "2025-01-01T00:00:00.000000Z",
                "message": {"role": "assistant", "content": text},
                "done": False,
            }
        ).encode()
        + b"\n"
        for text in texts
    ]


OLLAMA_END = [
    json.dumps(
        {
            "model": "llama3.2",
            "created_at": "2025-01-01T00:00:01.000000Z",
            "message": {"role": "assistant", "content": ""},
            "done_reason": "stop",
            "done": True,
            "total_duration": 4883583458,
            "prompt_eval_count": 9,
            "eval_count": 3,
        }
    ).encode()
    + b"\n"
]

STREAMS: dict[str, tuple[Callable[[list[str]], list[bytes]], list[bytes], str]] = {
    # provider: (events for texts, terminal events, content type)
    "openai": (openai_events, OPENAI_END, "text/event-stream"),
    "openrouter": (openai_events, OPENAI_END, "text/event-stream"),
    "anthropic": (anthropic_events, ANTHROPIC_END, "text/event-stream"),
    "ollama": (ollama_events, OLLAMA_END, "application/x-ndjson"),
}


def whole_stream(provider: str, texts: list[str]) -> list[bytes]:
    events, end, _ = STREAMS[provider]
    return [*events(texts), *end]


def completion_body(provider: str, text: str = "Hello!") -> dict[str, Any]:
    """A successful non-streamed answer, as each provider sends it."""
    if provider == "anthropic":
        return {
            "id": "msg_01Fault",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5-20250929",
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 9, "output_tokens": 3},
        }
    if provider == "ollama":
        return {
            "model": "llama3.2",
            "created_at": "2025-01-01T00:00:00.000000Z",
            "message": {"role": "assistant", "content": text},
            "done_reason": "stop",
            "done": True,
            "prompt_eval_count": 9,
            "eval_count": 3,
        }
    return {
        "id": "chatcmpl-fault1",
        "object": "chat.completion",
        "created": 1733000000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12},
    }


def error_body(provider: str, etype: str | None, message: str, code: Any = None) -> dict[str, Any]:
    """An error body in each provider's own shape."""
    if provider == "anthropic":
        return {"type": "error", "error": {"type": etype, "message": message}}
    if provider == "ollama":
        return {"error": message}
    if provider == "openrouter":
        return {"error": {"code": code, "message": message, "metadata": {"provider_name": "X"}}}
    return {"error": {"message": message, "type": etype, "param": None, "code": code}}


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
