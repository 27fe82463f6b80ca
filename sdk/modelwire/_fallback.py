"""Fallback chains: several clients, of any providers, that answer as one.

`fallback(a, b, ...)` tries `a`, and moves on to `b` only when `a` failed with an error
that falls through (a connection failure, a timeout, an overload, a rate limit, a 5xx)
before any content reached the caller: once a stream has handed over content, its
failure is raised with its `partial`, so that no text is ever delivered twice. Each
client keeps its own retries: a client gives up (after its `max_retries`) before the
chain moves on. Every try is recorded as a `FallbackAttempt`, on the answer and on the
error that ends the chain (`fallback_attempts`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, overload

from ._client import AsyncClient, AsyncStreamingResponse, Client, StreamingResponse
from .errors import (
    APIConnectionError,
    ConfigurationError,
    ProviderError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
    StreamTimeoutError,
)
from .types import (
    CompletionRequest,
    CompletionResponse,
    FallbackAttempt,
    RateLimits,
    StreamingChunk,
)

if TYPE_CHECKING:
    from typing_extensions import Self

# the faults another provider may not share: the connection, a timeout, an overload, a
# rate limit, a 5xx, and a stream that broke or stalled before its first content. A bad
# request or a refused key is the caller's to fix and would fail everywhere alike.
DEFAULT_FALL_THROUGH: tuple[type[ProviderError], ...] = (
    APIConnectionError,  # and APITimeoutError
    RateLimitError,
    ServerError,  # and OverloadedError
    StreamInterruptedError,
    StreamTimeoutError,
)

FallThrough = tuple[type[ProviderError], ...] | Callable[[ProviderError], bool]
Request = CompletionRequest | Mapping[str, Any] | None


def _has_content(chunk: StreamingChunk) -> bool:
    return bool(chunk.content or chunk.reasoning or chunk.tool_calls or chunk.items)


class _Chain:
    """What a sync and an async chain share: the clients, which errors fall through, and
    the record of one call's tries."""

    def __init__(self, clients: tuple[Any, ...], fall_through: FallThrough) -> None:
        self.clients = clients
        if callable(fall_through) and not isinstance(fall_through, tuple):
            self.falls_through: Callable[[ProviderError], bool] = fall_through
        else:
            classes = tuple(fall_through)
            self.falls_through = lambda error: isinstance(error, classes)

    def call(self, fields: Mapping[str, Any]) -> _Call:
        return _Call(self, fields.get("model"))


class _Call:
    """One call through a chain: which client is on, and every try so far."""

    def __init__(self, chain: _Chain, model: str | None) -> None:
        self.chain = chain
        self.model = model
        self.index = 0
        self.attempts: list[FallbackAttempt] = []
        self.started = time.monotonic()

    @property
    def client(self) -> Any:
        return self.chain.clients[self.index]

    def _record(self, error: ProviderError | None) -> None:
        now = time.monotonic()
        client = self.client
        self.attempts.append(
            FallbackAttempt(
                index=self.index,
                provider=client.spec.name,
                model=self.model or client.model,
                error=error,
                seconds=now - self.started,
            )
        )
        self.started = now

    def failed(self, error: ProviderError, *, content_delivered: bool = False) -> bool:
        """Records the failure of the current client; True when the next one is to be
        tried, False when `error` is to be raised (it then carries every try). Once a
        stream has delivered content, nothing falls through."""
        self._record(error)
        more = self.index + 1 < len(self.chain.clients)
        if more and not content_delivered and self.chain.falls_through(error):
            self.index += 1
            return True
        error.fallback_attempts = tuple(self.attempts)
        return False

    def answered(self, response: CompletionResponse) -> CompletionResponse:
        """Records that the current client answered; `response` then carries every try."""
        self._record(None)
        response.fallback_attempts = tuple(self.attempts)
        return response

    def streamed(self) -> None:
        """Records that the current client's stream ended well."""
        self._record(None)


def _check(clients: tuple[Any, ...]) -> bool:
    """True for a chain of async clients, False for sync ones; else a typed error."""
    if not clients:
        raise ConfigurationError("fallback() needs at least one client")
    for place, client in enumerate(clients, 1):
        if not isinstance(client, (Client, AsyncClient)):
            raise ConfigurationError(
                f"fallback() takes modelwire clients; argument {place} is a {type(client).__name__}"
            )
    is_async = isinstance(clients[0], AsyncClient)
    for place, client in enumerate(clients, 1):
        if isinstance(client, AsyncClient) != is_async:
            kinds = ("async", "sync") if is_async else ("sync", "async")
            raise ConfigurationError(
                f"fallback() takes clients of one kind: the first is {kinds[0]}, argument "
                f"{place} ({type(client).__name__}) is {kinds[1]}; make them all sync "
                "(modelwire.OpenAI, ...) or all async (modelwire.AsyncOpenAI, ...)"
            )
    return is_async


@overload
def fallback(*clients: AsyncClient, fall_through: FallThrough = ...) -> AsyncFallback: ...
@overload
def fallback(*clients: Client, fall_through: FallThrough = ...) -> Fallback: ...
def fallback(
    *clients: Client | AsyncClient, fall_through: FallThrough = DEFAULT_FALL_THROUGH
) -> Fallback | AsyncFallback:
    """One client made of `clients`, tried in order (see the module's docstring).

    `fall_through`: the error classes that move the call on to the next client, or a
    function of the error that says so; `DEFAULT_FALL_THROUGH` by default.
    """
    if _check(clients):
        return AsyncFallback(*clients, fall_through=fall_through)  # type: ignore[arg-type]
    return Fallback(*clients, fall_through=fall_through)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- sync


class Fallback:
    """A chain of sync clients that answers as one: `complete()` and
    `stream_completion()`, tried client by client. Made by `modelwire.fallback()`."""

    def __init__(self, *clients: Client, fall_through: FallThrough = DEFAULT_FALL_THROUGH) -> None:
        if _check(clients):
            raise ConfigurationError("Fallback takes sync clients: use AsyncFallback")
        self._chain = _Chain(clients, fall_through)

    @property
    def clients(self) -> tuple[Client, ...]:
        return self._chain.clients

    def __repr__(self) -> str:
        return f"Fallback({', '.join(map(repr, self.clients))})"

    def complete(self, request: Request = None, /, **fields: Any) -> CompletionResponse:
        """The first whole answer, client by client."""
        call = self._chain.call(fields)
        while True:
            try:
                response = call.client.complete(request, **fields)
            except ProviderError as error:
                if call.failed(error):
                    continue
                raise
            return call.answered(response)

    def stream_completion(self, request: Request = None, /, **fields: Any) -> FallbackStream:
        """A stream from the first client that opens one; it moves on to the next client
        only while no content has reached the caller."""
        call = self._chain.call(fields)
        return FallbackStream(call, _open(call, request, fields))

    def close(self) -> None:
        """Closes every client of the chain."""
        for client in self.clients:
            client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _open(call: _Call, request: Request, fields: Mapping[str, Any]) -> Callable[[], Any]:
    """Opens the current client's stream; the stream calls it again to move on."""

    def open_stream() -> Any:
        while True:
            try:
                return call.client.stream_completion(request, **fields)
            except ProviderError as error:
                if not call.failed(error):
                    raise

    return open_stream


class FallbackStream:
    """The stream of a fallback chain: a `StreamingResponse` that, while no content has
    reached the caller, moves on to the next client when its own fails."""

    def __init__(self, call: _Call, open_stream: Callable[[], StreamingResponse]) -> None:
        self._call = call
        self._open = open_stream
        self._stream = open_stream()
        self._delivered = False
        self._chunks = self._iterate()

    # what the stream that is answering says of itself
    @property
    def provider(self) -> str | None:
        return self._stream.provider

    @property
    def status_code(self) -> int:
        return self._stream.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        return self._stream.headers

    @property
    def request_id(self) -> str | None:
        return self._stream.request_id

    @property
    def attempts(self) -> int:
        return self._stream.attempts

    @property
    def rate_limits(self) -> RateLimits:
        return self._stream.rate_limits

    @property
    def fallback_attempts(self) -> tuple[FallbackAttempt, ...]:
        return tuple(self._call.attempts)

    @property
    def closed(self) -> bool:
        return self._stream.closed

    def _iterate(self) -> Generator[StreamingChunk, None, None]:
        while True:
            try:
                for chunk in self._stream:
                    if not self._delivered and _has_content(chunk):
                        self._delivered = True
                    yield chunk
            except ProviderError as error:
                self._stream.close()
                if not self._call.failed(error, content_delivered=self._delivered):
                    raise
                self._stream = self._open()
                continue
            self._call.streamed()
            return

    def __iter__(self) -> Iterator[StreamingChunk]:
        return self._chunks

    def __next__(self) -> StreamingChunk:
        return next(self._chunks)

    def snapshot(self) -> CompletionResponse:
        """Everything the answering stream received so far."""
        response = self._stream.snapshot()
        response.fallback_attempts = tuple(self._call.attempts)
        return response

    def accumulate(self) -> CompletionResponse:
        """Reads the rest and returns the whole answer, with every try."""
        for _ in self._chunks:
            pass
        response = self._stream.accumulate()
        response.fallback_attempts = tuple(self._call.attempts)
        return response

    get_final_response = accumulate

    def text_stream(self) -> Iterator[str]:
        for chunk in self._chunks:
            if chunk.content:
                yield chunk.content

    def close(self) -> None:
        self._chunks.close()
        self._stream.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# --------------------------------------------------------------------------- async


class AsyncFallback:
    """A chain of async clients that answers as one: `complete()` and
    `stream_completion()`, tried client by client. Made by `modelwire.fallback()`."""

    def __init__(
        self, *clients: AsyncClient, fall_through: FallThrough = DEFAULT_FALL_THROUGH
    ) -> None:
        if not _check(clients):
            raise ConfigurationError("AsyncFallback takes async clients: use Fallback")
        self._chain = _Chain(clients, fall_through)

    @property
    def clients(self) -> tuple[AsyncClient, ...]:
        return self._chain.clients

    def __repr__(self) -> str:
        return f"AsyncFallback({', '.join(map(repr, self.clients))})"

    async def complete(self, request: Request = None, /, **fields: Any) -> CompletionResponse:
        """The first whole answer, client by client."""
        call = self._chain.call(fields)
        while True:
            try:
                response = await call.client.complete(request, **fields)
            except ProviderError as error:
                if call.failed(error):
                    continue
                raise
            return call.answered(response)

    async def stream_completion(
        self, request: Request = None, /, **fields: Any
    ) -> AsyncFallbackStream:
        """A stream from the first client that opens one; it moves on to the next client
        only while no content has reached the caller."""
        call = self._chain.call(fields)
        open_stream = _async_open(call, request, fields)
        return AsyncFallbackStream(call, open_stream, await open_stream())

    async def close(self) -> None:
        """Closes every client of the chain."""
        for client in self.clients:
            await client.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


def _async_open(call: _Call, request: Request, fields: Mapping[str, Any]) -> Callable[[], Any]:
    async def open_stream() -> Any:
        while True:
            try:
                return await call.client.stream_completion(request, **fields)
            except ProviderError as error:
                if not call.failed(error):
                    raise

    return open_stream


class AsyncFallbackStream:
    """The stream of an async fallback chain: an `AsyncStreamingResponse` that, while no
    content has reached the caller, moves on to the next client when its own fails."""

    def __init__(
        self,
        call: _Call,
        open_stream: Callable[[], Any],
        stream: AsyncStreamingResponse,
    ) -> None:
        self._call = call
        self._open = open_stream
        self._stream = stream
        self._delivered = False
        self._chunks = self._iterate()

    @property
    def provider(self) -> str | None:
        return self._stream.provider

    @property
    def status_code(self) -> int:
        return self._stream.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        return self._stream.headers

    @property
    def request_id(self) -> str | None:
        return self._stream.request_id

    @property
    def attempts(self) -> int:
        return self._stream.attempts

    @property
    def rate_limits(self) -> RateLimits:
        return self._stream.rate_limits

    @property
    def fallback_attempts(self) -> tuple[FallbackAttempt, ...]:
        return tuple(self._call.attempts)

    @property
    def closed(self) -> bool:
        return self._stream.closed

    async def _iterate(self) -> AsyncGenerator[StreamingChunk, None]:
        while True:
            try:
                async for chunk in self._stream:
                    if not self._delivered and _has_content(chunk):
                        self._delivered = True
                    yield chunk
            except ProviderError as error:
                await self._stream.close()
                if not self._call.failed(error, content_delivered=self._delivered):
                    raise
                self._stream = await self._open()
                continue
            self._call.streamed()
            return

    def __aiter__(self) -> AsyncIterator[StreamingChunk]:
        return self._chunks

    async def __anext__(self) -> StreamingChunk:
        return await self._chunks.__anext__()

    def snapshot(self) -> CompletionResponse:
        response = self._stream.snapshot()
        response.fallback_attempts = tuple(self._call.attempts)
        return response

    async def accumulate(self) -> CompletionResponse:
        async for _ in self._chunks:
            pass
        response = await self._stream.accumulate()
        response.fallback_attempts = tuple(self._call.attempts)
        return response

    get_final_response = accumulate

    async def text_stream(self) -> AsyncIterator[str]:
        async for chunk in self._chunks:
            if chunk.content:
                yield chunk.content

    async def close(self) -> None:
        await self._chunks.aclose()
        await self._stream.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
