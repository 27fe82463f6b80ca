"""Many completions through one client: `batch()` (sync, threads) and `async_batch()`
(asyncio tasks), at most `concurrency` at once and within the client's own limits.

Results come as each call ends (or in input order with `ordered=True`), one `BatchResult`
per request: its index in the input and either the response or the typed error, so that
one failure never sinks the rest. Requests are read from the iterable only as slots free
up, so a generator over a large file is never read whole.
"""

from __future__ import annotations

from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Mapping,
    Sized,
)
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .errors import ConfigurationError, ProviderError

if TYPE_CHECKING:
    import asyncio
    from concurrent.futures import Future

    from typing_extensions import Self

    from ._client import AsyncClient, Client
    from .types import CompletionRequest, CompletionResponse


@dataclass(frozen=True, slots=True)
class BatchResult:
    """One request's outcome: `response` when it went well, else `error`."""

    index: int
    response: CompletionResponse | None = None
    error: ProviderError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class BatchProgress:
    """Where a batch is, after each result: what a progress bar shows. `total` is None
    when the requests' iterable has no length."""

    done: int
    failed: int
    in_flight: int
    total: int | None


ProgressCallback = Callable[[BatchProgress], None]


class _Progress:
    def __init__(self, requests: Iterable[Any], callback: ProgressCallback | None) -> None:
        self.total = len(requests) if isinstance(requests, Sized) else None
        self.callback = callback
        self.done = self.failed = 0

    def count(self, result: BatchResult, in_flight: int) -> None:
        self.done += 1
        self.failed += not result.ok
        if self.callback is not None:
            self.callback(BatchProgress(self.done, self.failed, in_flight, self.total))


class _Order:
    """Hands results on as they come, or holds the early ones back until their turn."""

    def __init__(self, ordered: bool) -> None:
        self.ordered = ordered
        self.held: dict[int, BatchResult] = {}
        self.next = 0

    def release(self, result: BatchResult) -> list[BatchResult]:
        if not self.ordered:
            return [result]
        self.held[result.index] = result
        ready = []
        while self.next in self.held:
            ready.append(self.held.pop(self.next))
            self.next += 1
        return ready


def _check(concurrency: int) -> None:
    if not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigurationError(f"batch(concurrency={concurrency!r}): give a whole number from 1")


# --------------------------------------------------------------------------- sync


class Batch:
    """The results of `batch()`: iterate it, inside `with` so that leaving early stops it.

    Leaving (a `break`, an exception, `close()`) starts no further request and waits for
    those in flight (at most `concurrency`, each within the client's timeouts), whose
    results are dropped; each closes its own connection.
    """

    def __init__(
        self,
        client: Client,
        requests: Iterable[CompletionRequest | Mapping[str, Any]],
        *,
        concurrency: int,
        ordered: bool,
        on_progress: ProgressCallback | None,
        fields: Mapping[str, Any],
    ) -> None:
        _check(concurrency)
        self._results = self._run(client, requests, concurrency, ordered, on_progress, fields)

    def __iter__(self) -> Iterator[BatchResult]:
        return self._results

    def __next__(self) -> BatchResult:
        return next(self._results)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._results.close()

    @staticmethod
    def _run(
        client: Client,
        requests: Iterable[CompletionRequest | Mapping[str, Any]],
        concurrency: int,
        ordered: bool,
        on_progress: ProgressCallback | None,
        fields: Mapping[str, Any],
    ) -> Generator[BatchResult, None, None]:
        from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

        def one(index: int, request: CompletionRequest | Mapping[str, Any]) -> BatchResult:
            try:
                return BatchResult(index, response=client.complete(request, **fields))
            except ProviderError as exc:
                return BatchResult(index, error=exc)

        progress, order = _Progress(requests, on_progress), _Order(ordered)
        items = enumerate(requests)
        pool = ThreadPoolExecutor(concurrency, thread_name_prefix="modelwire-batch")
        running: set[Future[BatchResult]] = set()
        try:
            for index, request in items:
                running.add(pool.submit(one, index, request))
                if len(running) == concurrency:
                    break
            while running:
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    for index, request in items:  # one in, for each one out
                        running.add(pool.submit(one, index, request))
                        break
                    result = future.result()
                    progress.count(result, len(running))
                    yield from order.release(result)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def batch(
    client: Client,
    requests: Iterable[CompletionRequest | Mapping[str, Any]],
    *,
    concurrency: int = 8,
    ordered: bool = False,
    on_progress: ProgressCallback | None = None,
    **fields: Any,
) -> Batch:
    """Runs `client.complete(request, **fields)` for every request, `concurrency` at a
    time, and yields a `BatchResult` as each ends (in input order with `ordered=True`).
    `on_progress` is called after each result, on the iterating thread."""
    return Batch(
        client,
        requests,
        concurrency=concurrency,
        ordered=ordered,
        on_progress=on_progress,
        fields=fields,
    )


# --------------------------------------------------------------------------- async


class AsyncBatch:
    """The results of `async_batch()`: iterate it inside `async with`, so that leaving
    early (a `break`, an exception, a cancellation, `aclose()`) cancels the requests in
    flight, each of which closes its connection."""

    def __init__(
        self,
        client: AsyncClient,
        requests: Iterable[CompletionRequest | Mapping[str, Any]],
        *,
        concurrency: int,
        ordered: bool,
        on_progress: ProgressCallback | None,
        fields: Mapping[str, Any],
    ) -> None:
        _check(concurrency)
        self._results = self._run(client, requests, concurrency, ordered, on_progress, fields)

    def __aiter__(self) -> AsyncIterator[BatchResult]:
        return self._results

    async def __anext__(self) -> BatchResult:
        return await self._results.__anext__()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._results.aclose()

    @staticmethod
    async def _run(
        client: AsyncClient,
        requests: Iterable[CompletionRequest | Mapping[str, Any]],
        concurrency: int,
        ordered: bool,
        on_progress: ProgressCallback | None,
        fields: Mapping[str, Any],
    ) -> AsyncGenerator[BatchResult, None]:
        import asyncio

        async def one(index: int, request: CompletionRequest | Mapping[str, Any]) -> BatchResult:
            try:
                return BatchResult(index, response=await client.complete(request, **fields))
            except ProviderError as exc:
                return BatchResult(index, error=exc)

        progress, order = _Progress(requests, on_progress), _Order(ordered)
        items = enumerate(requests)
        running: set[asyncio.Task[BatchResult]] = set()
        try:
            for index, request in items:
                running.add(asyncio.ensure_future(one(index, request)))
                if len(running) == concurrency:
                    break
            while running:
                finished, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in finished:
                    for index, request in items:
                        running.add(asyncio.ensure_future(one(index, request)))
                        break
                    result = task.result()
                    progress.count(result, len(running))
                    for ready in order.release(result):
                        yield ready
        finally:
            for task in running:
                task.cancel()
            # wait for them: a cancelled request closes its response before it ends
            await asyncio.gather(*running, return_exceptions=True)


def async_batch(
    client: AsyncClient,
    requests: Iterable[CompletionRequest | Mapping[str, Any]],
    *,
    concurrency: int = 8,
    ordered: bool = False,
    on_progress: ProgressCallback | None = None,
    **fields: Any,
) -> AsyncBatch:
    """`batch()` for an async client: the same results, from asyncio tasks."""
    return AsyncBatch(
        client,
        requests,
        concurrency=concurrency,
        ordered=ordered,
        on_progress=on_progress,
        fields=fields,
    )
