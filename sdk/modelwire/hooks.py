"""Event hooks: plug metrics, tracing (OpenTelemetry's GenAI conventions) or audit logs into
every client without patching it.

Each hook is a plain callable that gets one small event object. Hooks run inline, so they
should be quick; an exception in a hook propagates, like any bug in calling code. With no
hook set, the per-chunk path costs nothing: the stream checks once, not per chunk.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import ConfigurationError

if TYPE_CHECKING:
    from .errors import ProviderError
    from .types import StreamingChunk


@dataclass(frozen=True, slots=True)
class RequestEvent:
    """A request is about to be sent (once per attempt)."""

    provider: str
    method: str
    url: str
    model: str | None
    stream: bool
    attempt: int


@dataclass(frozen=True, slots=True)
class ResponseEvent:
    """A response head arrived with a success status (for a stream: before any chunk)."""

    provider: str
    method: str
    url: str
    model: str | None
    stream: bool
    attempt: int
    status_code: int
    request_id: str | None
    elapsed: float


@dataclass(frozen=True, slots=True)
class RetryEvent:
    """An attempt failed with a retryable error; the next one starts after `delay`."""

    provider: str
    method: str
    url: str
    attempt: int
    delay: float
    error: ProviderError


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    """A call failed for good: retries exhausted, not retryable, or mid-stream."""

    provider: str
    error: ProviderError


@dataclass(frozen=True, slots=True)
class Hooks:
    """Callables invoked on request, response, chunk, retry and error."""

    on_request: Callable[[RequestEvent], None] | None = None
    on_response: Callable[[ResponseEvent], None] | None = None
    on_chunk: Callable[[StreamingChunk], None] | None = None
    on_retry: Callable[[RetryEvent], None] | None = None
    on_error: Callable[[ErrorEvent], None] | None = None

    def __post_init__(self) -> None:
        # hooks run inline in sync and async clients alike: a coroutine function would
        # only make a coroutine that nobody awaits, so it is refused, not silently dropped
        for name in ("on_request", "on_response", "on_chunk", "on_retry", "on_error"):
            hook = getattr(self, name)
            if hook is not None and inspect.iscoroutinefunction(hook):
                raise ConfigurationError(
                    f"Hooks({name}=...) was given an `async def` function: hooks are called "
                    "inline and not awaited; pass a plain function (it may schedule work "
                    "with asyncio.get_running_loop().create_task(...))"
                )


NO_HOOKS = Hooks()
