"""Event hooks: plug metrics, tracing (OpenTelemetry's GenAI conventions) or audit logs into
every client without patching it.

Each hook is a plain callable that gets one small event object. Hooks run inline, so they
should be quick; an exception in a hook propagates, like any bug in calling code. With no
hook set, the per-chunk path costs nothing: the stream checks once, not per chunk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

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


NO_HOOKS = Hooks()
