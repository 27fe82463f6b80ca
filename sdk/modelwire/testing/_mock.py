"""`MockProvider` and `AsyncMockProvider`: real modelwire clients (subclasses of
`BaseClient` / `AsyncBaseClient`) whose httpx client talks to an in-memory `MockServer`.

Both get their constructor and their script API (`reply()`, `fail()`, `requests`, ...)
from `_MockClient`; each adds only the connection of its own kind (sync or async).
This module loads httpx and the client bases: `modelwire.testing` imports it only when a
mock is first used.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import httpx

from .._client import AsyncClient as AsyncBaseClient
from .._client import Client as BaseClient
from ..errors import ConfigurationError
from ..hooks import Hooks
from ..retries import RetryPolicy
from ..spec import ProviderSpec, read_spec_file
from ..types import Timeout
from ._script import Call, Failure, MockScriptError, Reply, Script
from ._transport import AsyncTransport, MockServer, SyncTransport

if TYPE_CHECKING:
    from typing_extensions import Self

    from ..limits import Limits, RateLimiter
    from ..types import FinishReason, Usage

__all__ = ["PLACEHOLDER_KEY", "AsyncMockProvider", "MockProvider"]

# the API key mocks (and replayed cassettes) send to providers that need one
PLACEHOLDER_KEY = "mock-key-not-real"

# what fail_mid_stream() and disconnect() stream before failing, unless given text
_DEFAULT_TEXT = ("The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", ".")


def _words(text: str) -> list[str]:
    """Splits before each run of spaces: "Hello big world" -> "Hello", " big", " world"."""
    return [piece for piece in re.split(r"(?<=\S)(?=\s)", text) if piece]


def _pieces(text: str, size: int | None) -> list[str]:
    if size is None:
        return _words(text)
    if size < 1:
        raise ValueError("chunk_size must be at least 1")
    return [text[i : i + size] for i in range(0, len(text), size)]


def _json_text(value: Any) -> str:
    """Structured output as JSON text: a pydantic model, dict, list, ... or text as is."""
    if isinstance(value, str):
        return value
    dump = getattr(value, "model_dump_json", None)
    if callable(dump):
        return str(dump())
    return json.dumps(value, ensure_ascii=False)


# --------------------------------------------------------------------------- specs


@functools.cache
def _mock_spec() -> ProviderSpec:
    """The spec of the default mock: an OpenAI-compatible provider named "mock"."""
    return ProviderSpec.model_validate(
        {
            "name": "mock",
            "display_name": "Mock provider",
            "class_name": "MockProvider",
            "description": "An in-memory OpenAI-compatible provider for tests.",
            "dialect": "openai_chat",
            "base_url": "https://mock.modelwire.invalid/v1",
            "auth": {"type": "none"},
            "endpoints": {
                "chat": "/chat/completions",
                "models": "/models",
                "embeddings": "/embeddings",
            },
            "models": ["mock-model"],
            "default_model": "mock-model",
            "capabilities": {"embeddings": True, "reasoning": True, "stream_usage": True},
            "request_id_headers": ["x-request-id"],
        }
    )


# a dialect name stands for the provider that speaks it
_DIALECT_PROVIDERS = {"anthropic_messages": "anthropic", "ollama_chat": "ollama"}


def _resolve_spec(dialect_of: str | None, spec: ProviderSpec | str | Path | None) -> ProviderSpec:
    if spec is not None and dialect_of is not None:
        raise ConfigurationError("give dialect_of= or spec=, not both")
    if spec is not None:
        return spec if isinstance(spec, ProviderSpec) else read_spec_file(spec)
    if dialect_of in (None, "mock", "openai_chat"):
        return _mock_spec()
    assert dialect_of is not None
    from ..providers import PROVIDERS

    name = _DIALECT_PROVIDERS.get(dialect_of, dialect_of)
    if name not in PROVIDERS:
        raise ConfigurationError(
            f"unknown provider {dialect_of!r} for dialect_of=: use one of "
            f"{', '.join(sorted(PROVIDERS))}, or a dialect name "
            "(openai_chat, anthropic_messages, ollama_chat)"
        )
    found: ProviderSpec = import_module(f"modelwire.providers.{PROVIDERS[name][0]}").SPEC
    return found


# --------------------------------------------------------------------------- the mocks


class _MockClient:
    """What `MockProvider` and `AsyncMockProvider` share: the constructor and the script
    API. Each script method queues one answer for one chat request (first in, first out)
    and returns the mock, so calls chain."""

    _script: Script

    def __init__(
        self,
        dialect_of: str | None = None,
        *,
        spec: ProviderSpec | str | Path | None = None,
        model: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | Timeout | None = None,
        max_retries: int | RetryPolicy | None = None,
        default_headers: Mapping[str, str] | None = None,
        max_line_bytes: int | None = None,
        hooks: Hooks | None = None,
        limits: Limits | RateLimiter | None = None,
    ) -> None:
        resolved = _resolve_spec(dialect_of, spec)
        if not isinstance(max_retries, RetryPolicy):
            # tests should not sleep: retries happen at once (a scripted Retry-After still counts)
            retries = 2 if max_retries is None else max_retries
            max_retries = RetryPolicy(max_retries=retries, initial_delay=0.0, max_delay=0.0)
        settings: dict[str, Any] = {
            "api_key": api_key or (PLACEHOLDER_KEY if resolved.auth.type != "none" else None),
            # the spec's own URL, never a *_BASE_URL variable of the machine running the tests
            "base_url": base_url or resolved.base_url,
            "model": model or resolved.default_model or "mock-model",
            "timeout": timeout,
            "max_retries": max_retries,
            "default_headers": default_headers,
            "max_line_bytes": max_line_bytes,
            "hooks": hooks,
            # a URL's placeholders (Bedrock's region) filled with "mock": nothing is sent
            "settings": {s.name: "mock" for s in resolved.settings if s.in_base_url},
            "limits": limits,
        }
        self.__dict__["spec"] = resolved  # this instance's spec, read by the client base
        self._script = Script(resolved, settings["model"])
        self._connect(settings, MockServer(self._script))

    def _connect(self, settings: dict[str, Any], server: MockServer) -> None:
        """Initializes the client base with `settings` and an httpx client of its own kind
        whose transport is `server`."""
        raise NotImplementedError

    # ----------------------------------------------------------------- answers

    def reply(
        self,
        text: str,
        *,
        chunk_size: int | None = None,
        reasoning: str | None = None,
        finish_reason: FinishReason = "stop",
        usage: Usage | tuple[int, int] | Literal["auto"] | None = "auto",
        delay: float = 0.0,
    ) -> Self:
        """Answer with `text`. Streamed, it arrives in word-sized chunks (or `chunk_size`
        characters each), `delay` seconds apart. `usage` defaults to the number of words
        in the request and one token per chunk; None sends none; `(input, output)` sets it.
        """
        return self.reply_chunks(
            _pieces(text, chunk_size),
            delay=delay,
            reasoning=reasoning,
            finish_reason=finish_reason,
            usage=usage,
        )

    def reply_chunks(
        self,
        chunks: Sequence[str],
        *,
        delay: float = 0.0,
        reasoning: str | None = None,
        finish_reason: FinishReason = "stop",
        usage: Usage | tuple[int, int] | Literal["auto"] | None = "auto",
    ) -> Self:
        """Answer with exactly these text chunks, `delay` seconds apart when streamed."""
        if isinstance(chunks, str):
            raise TypeError("reply_chunks() takes a list of strings; for one string use reply()")
        return self._push(
            Reply(
                list(chunks),
                reasoning=reasoning,
                finish_reason=finish_reason,
                usage=usage,
                delay=delay,
            )
        )

    def reply_tool_call(
        self,
        name: str,
        arguments: Mapping[str, Any] | str | None = None,
        *,
        call_id: str | None = None,
        text: str = "",
        chunk_size: int = 16,
        usage: Usage | tuple[int, int] | Literal["auto"] | None = "auto",
        delay: float = 0.0,
    ) -> Self:
        """Answer with a call of tool `name` (arguments as a dict, or raw JSON text);
        streamed, the arguments arrive in `chunk_size`-character fragments."""
        args = arguments if isinstance(arguments, str) else json.dumps(dict(arguments or {}))
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        return self._push(
            Reply(
                _words(text),
                tool_calls=[Call(call_id, name, args)],
                usage=usage,
                delay=delay,
                tool_chunk_size=chunk_size,
            )
        )

    def reply_structured(
        self,
        value: Any,
        *,
        chunk_size: int | None = 8,
        usage: Usage | tuple[int, int] | Literal["auto"] | None = "auto",
        delay: float = 0.0,
    ) -> Self:
        """Answer a `response_format=` request with `value` (a pydantic model, a dict, a
        list, or raw JSON text, sent as is). Providers that answer structured output
        through a forced tool (Anthropic) get it as that tool's call."""
        text = _json_text(value)
        return self._push(
            Reply(
                _pieces(text, chunk_size),
                usage=usage,
                delay=delay,
                structured=True,
                tool_chunk_size=chunk_size or 16,
            )
        )

    # ----------------------------------------------------------------- failures

    def fail(
        self,
        status: int = 500,
        *,
        message: str | None = None,
        error_type: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
        headers: Mapping[str, str] | None = None,
        times: int = 1,
    ) -> Self:
        """Answer the next `times` chat requests with HTTP `status` and the provider's own
        error body (`message`, `error_type`, `code`), with `Retry-After` when given."""
        if status < 400:
            raise ValueError("fail() needs an error status (400 or more)")
        failure = Failure(status, message, error_type, code, retry_after, dict(headers or {}))
        for _ in range(times):
            self._push(failure)
        return self

    def fail_mid_stream(
        self,
        after_chunks: int = 2,
        *,
        error: str = "the provider failed mid-stream (scripted by MockProvider)",
        error_type: str | None = None,
        code: str | None = None,
        text: str | Sequence[str] | None = None,
    ) -> Self:
        """Stream `after_chunks` chunks of `text` (default "The quick brown fox..."), then
        the provider's error event: iterating raises `StreamEventError` with `.partial`.
        A non-streamed request instead has its body cut short (a connection error)."""
        return self._push(
            Reply(
                self._failing_chunks(text),
                end="error",
                after_chunks=after_chunks,
                error_message=error,
                error_type=error_type,
                error_code=code,
            )
        )

    def disconnect(self, after_chunks: int = 2, *, text: str | Sequence[str] | None = None) -> Self:
        """Stream `after_chunks` chunks, then break the connection: iterating raises
        `StreamInterruptedError` with `.partial`. A non-streamed request is cut the same
        way while its body is read (`APIConnectionError`, which is retried)."""
        return self._push(
            Reply(self._failing_chunks(text), end="disconnect", after_chunks=after_chunks)
        )

    # ----------------------------------------------------------------- what was sent

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The JSON body of every chat request, in the order they were sent (retries too)."""
        return self._script.requests

    @property
    def last_request(self) -> dict[str, Any]:
        """The JSON body of the last chat request."""
        if not self._script.requests:
            raise MockScriptError("no chat request was sent yet")
        return self._script.requests[-1]

    @property
    def http_requests(self) -> list[httpx.Request]:
        """Every HTTP request (chat, models, embeddings), with its URL and headers."""
        return self._script.http_requests

    @property
    def pending(self) -> int:
        """Scripted answers not used yet."""
        return len(self._script.queue)

    def reset(self) -> None:
        """Forgets the script and the recorded requests."""
        self._script.clear()

    # ----------------------------------------------------------------- internals

    @staticmethod
    def _failing_chunks(text: str | Sequence[str] | None) -> list[str]:
        if text is None:
            return list(_DEFAULT_TEXT)
        return _words(text) if isinstance(text, str) else list(text)

    def _push(self, item: Reply | Failure) -> Self:
        self._script.queue.append(item)
        return self


class MockProvider(_MockClient, BaseClient):
    """A real sync modelwire client answered by an in-memory script: `reply()`,
    `reply_chunks()`, `reply_tool_call()`, `reply_structured()`, `fail()`,
    `fail_mid_stream()` and `disconnect()` queue answers; `requests` records what was sent.

    `MockProvider()` speaks OpenAI's chat format as a provider named "mock" (no key, no
    options). `MockProvider(dialect_of="anthropic")` (any provider name, or a dialect name
    such as "ollama_chat") uses that provider's spec: its wire format, error bodies, error
    mapping, options and limits; a placeholder key is used when it needs one.
    `spec=` takes any `ProviderSpec` or spec file instead.

    Retries happen without waiting (`max_retries` defaults to 2, as for real clients).
    """

    def _connect(self, settings: dict[str, Any], server: MockServer) -> None:
        http_client = httpx.Client(transport=SyncTransport(server))
        BaseClient.__init__(self, **settings, http_client=http_client)
        self._owns_http = True  # the in-memory client is the mock's own: close() closes it


class AsyncMockProvider(_MockClient, AsyncBaseClient):
    """The async `MockProvider`: the same script API, awaited calls."""

    def _connect(self, settings: dict[str, Any], server: MockServer) -> None:
        http_client = httpx.AsyncClient(transport=AsyncTransport(server))
        AsyncBaseClient.__init__(self, **settings, http_client=http_client)
        self._owns_http = True
