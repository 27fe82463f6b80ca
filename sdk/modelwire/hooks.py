"""Event hooks: plug metrics, tracing (OpenTelemetry's GenAI conventions, `modelwire.otel`)
or audit logs into every client without patching it.

Each hook is a plain callable that gets one small event object. Hooks run inline, so they
should be quick; an exception in a hook propagates, like any bug in calling code. With no
hook set, the per-chunk path costs nothing: the stream checks once, not per chunk.

Two kinds of event: per attempt (`on_request`, `on_response`, `on_retry`, `on_error`,
and `on_chunk`), and per call (`on_start`, `on_first_chunk`, `on_end`) for a chat or
embeddings call as a whole, retries and the stream's reading included. A call's three
events share one `StartEvent`, so an observer keeps its per-call state (a span) keyed on it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from .errors import ConfigurationError

if TYPE_CHECKING:
    from .errors import ProviderError
    from .types import CompletionRequest, CompletionResponse, EmbeddingResponse, StreamingChunk

Operation: TypeAlias = Literal["chat", "embeddings"]


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


@dataclass(frozen=True, slots=True, eq=False)
class StartEvent:
    """A chat or embeddings call begins, once, before its first attempt (after its checks:
    a request refused before sending starts nothing). Compared by identity: the same object
    is the `start` of the call's `FirstChunkEvent` and `EndEvent`."""

    provider: str
    dialect: str
    operation: Operation
    url: str
    model: str | None
    stream: bool
    # the validated chat request (None for embeddings): its parameters and messages
    request: CompletionRequest | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class FirstChunkEvent:
    """A stream's first chunk arrived, `elapsed` seconds after the call started."""

    start: StartEvent
    chunk: StreamingChunk
    elapsed: float


@dataclass(frozen=True, slots=True)
class EndEvent:
    """A call ended, once, however it ended: `elapsed` seconds after it started.

    For a stream this is when its reading ends: at its terminal event, on a failure, or
    when it is closed, cancelled or dropped early. `response` is the whole answer, or for a
    stream that did not finish what arrived of it (None when nothing could be parsed).
    `error` is the typed failure; `interrupted_by` names what else stopped the call before
    its end ("GeneratorExit" for a stream closed early, "CancelledError", ...).
    """

    start: StartEvent
    response: CompletionResponse | EmbeddingResponse | None
    error: ProviderError | None
    interrupted_by: str | None
    elapsed: float


_HOOK_NAMES = (
    "on_request",
    "on_response",
    "on_chunk",
    "on_retry",
    "on_error",
    "on_start",
    "on_first_chunk",
    "on_end",
)


@dataclass(frozen=True, slots=True)
class Hooks:
    """Callables invoked on request, response, chunk, retry and error (each attempt), and
    on a call's start, first chunk and end."""

    on_request: Callable[[RequestEvent], None] | None = None
    on_response: Callable[[ResponseEvent], None] | None = None
    on_chunk: Callable[[StreamingChunk], None] | None = None
    on_retry: Callable[[RetryEvent], None] | None = None
    on_error: Callable[[ErrorEvent], None] | None = None
    on_start: Callable[[StartEvent], None] | None = None
    on_first_chunk: Callable[[FirstChunkEvent], None] | None = None
    on_end: Callable[[EndEvent], None] | None = None

    @property
    def watches_calls(self) -> bool:
        """Whether any per-call hook is set: without one, a call keeps no call-level state."""
        return not (self.on_start is None and self.on_first_chunk is None and self.on_end is None)

    @classmethod
    def combine(cls, *hooks: Hooks) -> Hooks:
        """One set of hooks that calls each of `hooks` in turn for every event, e.g.
        `Hooks.combine(modelwire.otel.hooks(), my_hooks)`."""
        chosen: dict[str, Callable[[Any], None]] = {}
        for name in _HOOK_NAMES:
            callables = [h for h in (getattr(each, name) for each in hooks) if h is not None]
            if len(callables) == 1:
                chosen[name] = callables[0]
            elif callables:
                chosen[name] = _in_turn(tuple(callables))
        return cls(**chosen)

    def __post_init__(self) -> None:
        # hooks run inline in sync and async clients alike: a coroutine function would
        # only make a coroutine that nobody awaits, so it is refused, not silently dropped
        for name in _HOOK_NAMES:
            hook = getattr(self, name)
            if hook is not None and inspect.iscoroutinefunction(hook):
                raise ConfigurationError(
                    f"Hooks({name}=...) was given an `async def` function: hooks are called "
                    "inline and not awaited; pass a plain function (it may schedule work "
                    "with asyncio.get_running_loop().create_task(...))"
                )


def _in_turn(callables: tuple[Callable[[Any], None], ...]) -> Callable[[Any], None]:
    def each(event: Any) -> None:
        for hook in callables:
            hook(event)

    return each


NO_HOOKS = Hooks()
