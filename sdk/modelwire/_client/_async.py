"""The async client: drives the pure call flow (`_core/flow.py`) with httpx.AsyncClient.

It only sends, reads, closes and sleeps; what to send, when to retry and what every answer
means is decided in `modelwire._core`. The sync client is generated from this file by
`codegen/unasync.py`: edit this one.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Generic, overload

from .._core import validation
from .._core.batches import (
    DEFAULT_POLL_INTERVAL,
    DEFAULT_WAIT_TIMEOUT,
    BatchAPI,
    BatchRequests,
    next_poll,
)
from .._core.calls import ClientConfig, ClientSettings, HTTPCall
from .._core.flow import Broken, Close, Head, Outcome, Phases, Read, Send, Sleep, call_flow
from .._core.partial import PartialOutput
from .._core.policy import parse_rate_limits, secrets_of
from .._core.stream import StreamOpening, StreamState
from .._framing import ServerSentEvent
from ..errors import ClientClosedError, ConfigurationError, ProviderError, RequestValidationError
from ..spec import ProviderSpec
from ..types import (
    BatchJob,
    BatchJobResult,
    CompletionRequest,
    CompletionResponse,
    EmbeddingResponse,
    ModelInfo,
    ModelT,
    ParsedT,
    RateLimits,
    RequestInput,
    ResponseFormat,
    StreamingChunk,
    TokenCount,
)
from ._credentials import async_token
from ._lifecycle import async_mend_pool, async_release
from ._sigv4 import SigV4Signer, sigv4_signer

if TYPE_CHECKING:
    from collections.abc import Coroutine, Generator  # async only

    import httpx
    from typing_extensions import Self, Unpack

    from ..limits import Permit, RateLimiter
else:
    from .._lazy import LazyModule

    # imported when the first client is made, not with the class (see _lazy.py)
    httpx = LazyModule("httpx", globals())


async def _sleep(seconds: float) -> None:
    import asyncio  # here, not at module level: it is slow to import and rarely needed

    await asyncio.sleep(seconds)


_NO_EVENT = ServerSentEvent(b"")


def _httpx_timeout(timeout: Phases) -> httpx.Timeout:
    return httpx.Timeout(
        connect=timeout.connect, read=timeout.read, write=timeout.write, pool=timeout.pool
    )


class AsyncStreamingResponse(Generic[ParsedT]):
    """A lazy stream of `StreamingChunk`s over one open HTTP response.

    Iterate it (`async for chunk in stream`), use it as a context manager, and close it to
    release the connection at once. `accumulate()` reads the rest and returns the same
    `CompletionResponse` that `complete()` would; `snapshot()` returns what arrived so far.
    With a response format, `partial_objects()` gives the structured output as it grows.
    """

    def __init__(
        self,
        response: httpx.Response,
        state: StreamState,
        response_format: ResponseFormat | None = None,
        permit: Permit | None = None,
        opened: Outcome | None = None,
        body: AsyncIterator[bytes] | None = None,
    ) -> None:
        self._response = response
        self._state = state
        self._format = response_format
        self._permit = permit  # the client's limits: held until the stream ends
        # the chunks come from a generator that holds the response and the state, not this
        # object, so that dropping the stream frees it without waiting for the cyclic GC
        self._chunks = _chunks(response, state, permit, opened, body)
        self.provider = state.provider
        self.status_code = response.status_code
        self.headers = response.headers
        self.rate_limits = state.rate_limits
        self.request_id = state.request_id
        # requests sent to get this stream (retries before its head included)
        self.attempts = state.attempts

    def __aiter__(self) -> AsyncIterator[StreamingChunk]:
        return self.iter_chunks()

    async def iter_chunks(self, *, keep: bool = True) -> AsyncIterator[StreamingChunk]:
        """The chunks, as iterating the stream gives them. The iterator holds the stream,
        so `async for chunk in await client.stream_completion(...)` reads to the end.

        `keep=False` keeps no text: memory stays flat however long the stream, but
        `accumulate()` then raises, and an error's `partial` carries only the id, model,
        usage and finish reason. Choose it before the first chunk is read."""
        if not keep:
            self._state.keep_no_text()
        async for chunk in self._chunks:
            yield chunk

    async def __anext__(self) -> StreamingChunk:
        return await self._chunks.__anext__()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Stops reading and hands the connection back at once."""
        if self._state.stopped_by is None:
            self._state.stopped_by = "GeneratorExit"  # accumulate() must not look whole
        await self._chunks.aclose()
        await self._response.aclose()
        self._state.ended()  # a stream closed before its first read never ran its chunks
        if self._permit is not None:
            await self._permit.settle_async(self._state.snapshot().usage, self._state.rate_limits)

    def __del__(self) -> None:
        # Dropped while its response is still open (never closed, or left after a `break`
        # without `with`): release the connection now and warn, as an unclosed file does.
        # Nothing holds this object but its caller (the chunk generator holds only the
        # response and the state), so this runs as soon as the last reference goes.
        state = getattr(self, "_state", None)
        if state is not None:
            state.ended()  # its call is over, even if nobody closed it
        response = getattr(self, "_response", None)
        if response is None or response.is_closed:
            return
        warnings.warn(
            f"unclosed {type(self).__name__} (request id {self.request_id}): use it as a "
            "context manager, or call close(), to release its connection",
            ResourceWarning,
            stacklevel=2,
            source=self,
        )
        async_release(response)
        if self._permit is not None:
            self._permit.abandon()

    @property
    def closed(self) -> bool:
        return self._response.is_closed

    def snapshot(self) -> CompletionResponse[ParsedT]:
        """Everything received so far, as a response (without reading further)."""
        return self._state.snapshot()

    async def accumulate(self) -> CompletionResponse[ParsedT]:
        """Reads the rest of the stream and returns the whole response."""
        async for _ in self._chunks:
            pass
        return self._state.finish()

    get_final_response = accumulate

    async def text_stream(self) -> AsyncIterator[str]:
        """Only the answer's text deltas."""
        async for chunk in self._chunks:
            if chunk.content:
                yield chunk.content

    async def partial_objects(self) -> AsyncIterator[ParsedT]:
        """The structured output as it arrives: each a valid instance of the response
        format's model (a partial JSON value for a dict schema), grown from the one before,
        and last the whole output, equal to `accumulate().parsed`. It reads the stream: use
        it in place of iterating the chunks, from the stream's start."""
        if self._format is None:
            raise RequestValidationError(
                "partial_objects() needs a structured-output stream: pass response_format= "
                "(e.g. a pydantic model) to stream_completion()",
                provider=self.provider,
            )
        output = PartialOutput(self._format)
        async for chunk in self._chunks:
            partial = output.feed(chunk)
            if partial is not None:
                yield partial
        parsed = self._state.finish().parsed
        if parsed != output.last:
            yield parsed


# async only: begin (the sync client's stream_completion returns its stream at once)
class AsyncStreamOpening(Generic[ParsedT]):
    """What `AsyncClient.stream_completion()` returns: await it for the stream, or use it
    as `async with client.stream_completion(...) as stream:`, which opens the stream and
    closes it at the end of the block (as httpx's `client.stream()` does). The request is
    sent only then, so an opening never used sends nothing."""

    def __init__(
        self, open_stream: Callable[[], Coroutine[Any, Any, AsyncStreamingResponse[ParsedT]]]
    ) -> None:
        self._open_stream = open_stream
        self._stream: AsyncStreamingResponse[ParsedT] | None = None

    def __await__(self) -> Generator[Any, None, AsyncStreamingResponse[ParsedT]]:
        return self._open_stream().__await__()

    async def __aenter__(self) -> AsyncStreamingResponse[ParsedT]:
        self._stream = await self._open_stream()
        return self._stream

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._stream is not None:
            await self._stream.close()


# async only: end


async def _chunks(
    response: httpx.Response,
    state: StreamState,
    permit: Permit | None,
    opened: Outcome | None,
    body: AsyncIterator[bytes] | None,
) -> AsyncGenerator[StreamingChunk, None]:
    # the hot path: bytes -> events -> chunks, with the state's functions bound once
    decode, parse, add = state.decoder.feed, state.parser.parse, state.add
    error: ProviderError | None = None
    try:
        # what the call flow read while waiting for the first content comes first
        for event in decode(opened.content if opened is not None else b""):
            chunk = parse(event)
            if chunk is not None:
                add(chunk)
                yield chunk
        if opened is not None and opened.broken is not None:
            error = state.broken(timed_out=opened.broken.timed_out, detail=opened.broken.detail)
        else:
            async for data in body if body is not None else response.aiter_bytes():
                for event in decode(data):
                    chunk = parse(event)
                    if chunk is not None:
                        add(chunk)
                        yield chunk
            for chunk in state.tail():
                yield chunk
    except ProviderError as exc:
        # without the frames that held the peer's bytes (which may echo a credential)
        error = state.failed(exc.with_traceback(None))
    except httpx.TimeoutException as exc:
        error = state.broken(timed_out=True, detail=str(exc))
    except httpx.HTTPError as exc:
        error = state.broken(timed_out=False, detail=repr(exc))
    except BaseException as exc:  # close(), a cancellation, a KeyboardInterrupt: noted, so
        state.stopped_by = type(exc).__name__  # that accumulate() cannot pass it off as whole
        raise
    finally:
        await response.aclose()
        state.ended()
        if permit is not None:
            await permit.settle_async(state.snapshot().usage, state.rate_limits)
    # raised here, not in a handler: its __context__ must not hold the httpx exception,
    # whose request holds the credentials, nor a local the peer's bytes
    data, event = b"", _NO_EVENT
    if error is not None:
        raise error


def _rate_limits_of(exc: BaseException) -> RateLimits | None:
    """What a failed call's response said of the rate limits (a 429's, above all)."""
    return exc.rate_limits if isinstance(exc, ProviderError) else None


class AsyncClient:
    """A client for the provider its spec describes: every generated async class is one
    of these bound to its provider's spec (its `spec` attribute), and
    `AsyncClient(spec=...)` binds any spec, such as one from `load_spec()`."""

    spec: ClassVar[ProviderSpec]

    def __init__(
        self,
        *,
        spec: ProviderSpec | None = None,
        http_client: httpx.AsyncClient | None = None,
        **settings: Unpack[ClientSettings],
    ) -> None:
        if spec is not None:
            self.spec = spec  # type: ignore[misc]  # an instance bound to its own spec
        elif not hasattr(self, "spec"):
            raise ConfigurationError(
                f"{type(self).__name__} needs a provider: pass spec= (e.g. from load_spec()), "
                "or use a provider's class such as modelwire.OpenAI"
            )
        limits = settings.pop("limits", None)
        self._config = ClientConfig.create(self.spec, **settings)
        # SigV4 (Bedrock without an API key): each attempt is signed as it is sent
        self._signer: SigV4Signer | None = None
        if self._config.sigv4_service is not None:
            self._signer = sigv4_signer(self._config)
            self._config.secrets = secrets_of(
                [*self._config.secrets, *self._signer.secret_values()]
            )
        self._limiter: RateLimiter | None = None
        if limits is not None:
            from ..limits import limiter_from

            self._limiter = limiter_from(limits)
        self._owns_http = http_client is None
        if http_client is None:
            http_client = httpx.AsyncClient(follow_redirects=False)
            async_mend_pool(http_client)  # see _lifecycle.py: cancellations leak no slots
        self._http = http_client

    def __repr__(self) -> str:
        config = getattr(self, "_config", None)  # None while __init__ has not finished
        return f"{type(self).__name__}({config.describe() if config else ''})"

    @property
    def base_url(self) -> str:
        """The URL requests go to: `base_url=`, else the spec's variable, else its default."""
        return self._config.base_url

    @property
    def model(self) -> str | None:
        """The model a call uses when it names none: `model=`, else the spec's default."""
        return self._config.model

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Closes the connection pool (unless it was passed in by the caller)."""
        if self._owns_http:
            await self._http.aclose()

    # ----------------------------------------------------------------- the seed API

    @overload
    async def complete(
        self, request: RequestInput = None, /, *, response_format: type[ModelT], **fields: Any
    ) -> CompletionResponse[ModelT]: ...
    @overload
    async def complete(
        self, request: RequestInput = None, /, **fields: Any
    ) -> CompletionResponse[Any]: ...
    async def complete(
        self, request: CompletionRequest | Mapping[str, Any] | None = None, /, **fields: Any
    ) -> CompletionResponse[Any]:
        """One whole answer. Takes a `CompletionRequest`, keyword fields, or both; with a
        pydantic model as `response_format`, its `parsed` is an instance of that model."""
        config = self._config
        prepared = config.request(request, fields)
        call = config.chat_call(prepared, stream=False)
        permit = await self._acquire(prepared)
        watch = config.watch(call, "chat", prepared)
        try:
            outcome, _, _ = await self._send(call)
            response = config.parse_completion(prepared, outcome.content)
        except BaseException as exc:
            if watch is not None:
                watch.failed(exc)
            if permit is not None:  # sent or not: the estimate stands
                await permit.settle_async(None, _rate_limits_of(exc))
            raise
        response.rate_limits = parse_rate_limits(outcome.headers)
        if permit is not None:
            await permit.settle_async(response.usage, response.rate_limits)
        response.provider = config.spec.name
        response.request_id = outcome.request_id
        response.attempts = outcome.attempts
        response.status_code = outcome.status
        response.headers = outcome.headers
        if watch is not None:
            watch.end(response)
        return response

    @overload
    def stream_completion(
        self, request: RequestInput = None, /, *, response_format: type[ModelT], **fields: Any
    ) -> AsyncStreamOpening[ModelT]: ...
    @overload
    def stream_completion(
        self, request: RequestInput = None, /, **fields: Any
    ) -> AsyncStreamOpening[Any]: ...
    def stream_completion(
        self, request: CompletionRequest | Mapping[str, Any] | None = None, /, **fields: Any
    ) -> AsyncStreamOpening[Any]:
        """A stream, open once its first content has arrived (or its reading stopped before
        any); HTTP errors, and a first event that reports an error, raise there."""
        return AsyncStreamOpening(lambda: self._open_stream(request, fields))

    async def _open_stream(
        self, request: CompletionRequest | Mapping[str, Any] | None, fields: Mapping[str, Any]
    ) -> AsyncStreamingResponse[Any]:
        config = self._config
        prepared = config.request(request, fields)
        call = config.chat_call(prepared, stream=True)
        permit = await self._acquire(prepared)
        watch = config.watch(call, "chat", prepared)
        try:
            outcome, response, body = await self._send(call, config.stream_opening)
        except BaseException as exc:
            if watch is not None:
                watch.failed(exc)
            if permit is not None:
                await permit.settle_async(None, _rate_limits_of(exc))
            raise
        state = StreamState(
            config.new_decoder(),
            config.dialect.stream_parser(config.spec),
            config.finisher(prepared),
            provider=config.spec.name,
            status_code=outcome.status,
            request_id=outcome.request_id,
            attempts=outcome.attempts,
            hooks=config.hooks,
            secrets=call.secrets,
            watch=watch,
            headers=outcome.headers,
        )
        return AsyncStreamingResponse(
            response, state, prepared.response_format, permit, outcome, body
        )

    async def count_tokens(
        self, request: CompletionRequest | Mapping[str, Any] | None = None, /, **fields: Any
    ) -> TokenCount:
        """How many input tokens a request would take, from the provider's counting
        endpoint; the same fields as `complete()`. A provider without one raises
        `CapabilityError` before any request."""
        prepared = self._config.request(request, fields)
        outcome, _, _ = await self._send(self._config.count_tokens_call(prepared))
        return self._config.parse_token_count(prepared, outcome.content)

    async def list_models(self) -> list[ModelInfo]:
        """Every model the provider lists, following its pages (one GET per page)."""
        pages = self._config.model_pages()
        while (call := pages.next_call()) is not None:
            outcome, _, _ = await self._send(call)
            pages.add(outcome.content)
        return pages.models

    async def embed(
        self, input: str | Sequence[str], *, model: str | None = None, **options: Any
    ) -> EmbeddingResponse:
        """Embeddings for one input or a batch, in the order given."""
        call = self._config.embeddings_call(input, model, options)
        watch = self._config.watch(call, "embeddings")
        try:
            outcome, _, _ = await self._send(call)
            embeddings = self._config.parse_embeddings(outcome.content)
        except BaseException as exc:
            if watch is not None:
                watch.failed(exc)
            raise
        if watch is not None:
            watch.end(embeddings)
        return embeddings

    @property
    def batches(self) -> AsyncBatches:
        """The provider's own batch API (`submit`, `get`, `wait`, `cancel`, `results`):
        requests handed over as one job, answered offline within 24 hours at a lower price.
        A provider without one raises `CapabilityError` here, before any request."""
        return AsyncBatches(self, BatchAPI(self._config))

    # ----------------------------------------------------------------- the driver

    async def _acquire(self, request: CompletionRequest) -> Permit | None:
        """Waits for the client's limits (`limits=`) to let the request go: the one place
        a completion meets them. The caller settles the permit when the call ends."""
        if self._limiter is None:
            return None
        from ..limits import LimitKey

        key = LimitKey(self._config.spec.name, request.model or self._config.model)
        return await self._limiter.acquire_async(key, request)

    async def _send(
        self, call: HTTPCall, opening: Callable[[], StreamOpening] | None = None
    ) -> tuple[Outcome, httpx.Response, AsyncIterator[bytes] | None]:
        """Runs the call flow: does the I/O it asks for and tells it what happened. Returns
        the good response (a stream's left open, with the reader of its body when the flow
        began reading it); any exception closes what is open."""
        if self._http.is_closed:  # else httpx's RuntimeError, which names no fix
            raise ClientClosedError(
                f"this {type(self).__name__} was closed (close(), or the end of its `with` "
                "block): make a new client, or close it after its last call",
                provider=self._config.spec.name,
            )
        flow = call_flow(call, self._config.spec, self._config.hooks, opening=opening)
        response: httpx.Response | None = None
        body: AsyncIterator[bytes] | None = None
        reply: Head | Broken | bytes | None = None
        try:
            while True:
                command = flow.send(reply)
                if isinstance(command, Read):
                    assert response is not None
                    if body is None:
                        body = response.aiter_bytes()
                    try:
                        reply = await body.__anext__()
                    except StopAsyncIteration:
                        reply = b""
                    except httpx.TimeoutException as exc:
                        reply = Broken(timed_out=True, detail=type(exc).__name__)
                    except httpx.TransportError as exc:
                        reply = Broken(timed_out=False, detail=repr(exc))
                elif isinstance(command, Send):
                    response, body = None, None
                    url, headers = command.url, command.headers
                    if call.credential is not None:  # a fresh token (or a query key) each time
                        token = await async_token(call.credential, self._config.spec)
                        url, headers = call.authorize(url, headers, token)
                    # signed per attempt, after the token step: the signature covers the
                    # headers (and the URL) as sent
                    if call.signed and self._signer is not None:
                        headers = self._signer.sign(command.method, url, headers, command.content)
                    try:
                        response = await self._http.send(
                            self._http.build_request(
                                command.method,
                                url,
                                headers=headers,
                                content=command.content,
                                timeout=_httpx_timeout(command.timeout),
                            ),
                            stream=True,
                            follow_redirects=False,
                        )
                    except httpx.TimeoutException as exc:
                        reply = Broken(timed_out=True, detail=type(exc).__name__)
                    except httpx.TransportError as exc:
                        reply = Broken(timed_out=False, detail=repr(exc))
                    else:
                        reply = Head(response.status_code, response.headers)
                elif isinstance(command, Close):
                    assert response is not None
                    await response.aclose()
                    reply = None
                else:
                    assert isinstance(command, Sleep)
                    await _sleep(command.seconds)
                    reply = None
        except StopIteration as done:
            assert response is not None
            outcome: Outcome = done.value
            return outcome, response, body
        except BaseException:
            if response is not None:
                await response.aclose()
            raise


class AsyncBatches:
    """A client's batch jobs at the provider (`client.batches`): each method is one or a
    few calls through the client's call flow, with its retries, timeouts and hooks.

    Unlike `modelwire.batch()`, which runs requests now at bounded concurrency, a batch
    job hands them all to the provider, which answers them offline (within 24 hours, at
    about half the price); the client-side `limits=` do not apply to it.
    """

    def __init__(self, client: AsyncClient, api: BatchAPI) -> None:
        self._client = client
        self._api = api

    async def submit(
        self, requests: BatchRequests, *, metadata: Mapping[str, str] | None = None
    ) -> BatchJob:
        """Hands the requests to the provider as one job and returns it (not yet ended).

        `requests`: by custom_id (a dict), or a list (custom ids `request-0`, ...); each a
        `CompletionRequest` or its fields, checked as `complete()` checks them, all before
        anything is sent. `metadata`: labels for the job (OpenAI only)."""
        api = self._api
        bodies = api.bodies(requests, metadata)
        file_id = None
        if api.uploads:
            outcome, _, _ = await self._client._send(api.upload_call(bodies))
            file_id = api.file_id(outcome.content)
        outcome, _, _ = await self._client._send(api.create_call(bodies, file_id, metadata))
        return api.job(outcome.content)

    async def get(self, batch: BatchJob | str) -> BatchJob:
        """The job as it is now (one request)."""
        outcome, _, _ = await self._client._send(self._api.get_call(batch))
        return self._api.job(outcome.content)

    async def wait(
        self,
        batch: BatchJob | str,
        *,
        interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
    ) -> BatchJob:
        """Looks at the job every `interval` seconds until it has ended, and returns it.
        Past `timeout` seconds in all, raises `BatchTimeoutError` (with the job as last
        seen), which leaves the job running at the provider."""
        self._api.get_call(batch)  # a bad id raises before the first request
        validation.check_poll(self._client._config.spec, interval, timeout)
        deadline = time.monotonic() + timeout
        while True:
            job = await self.get(batch)
            if job.ended:
                return job
            await _sleep(next_poll(job, interval, deadline - time.monotonic()))
            batch = job

    async def cancel(self, batch: BatchJob | str) -> BatchJob:
        """Asks the provider to stop the job; returns it, canceling (or already ended).
        Requests already answered keep their results."""
        outcome, _, _ = await self._client._send(self._api.cancel_call(batch))
        return self._api.job(outcome.content)

    async def results(self, batch: BatchJob) -> dict[str, BatchJobResult]:
        """Each request's result by custom_id, for an ended job (`wait()` returns one): a
        `CompletionResponse` or a `BatchItemError`. A job not ended raises
        `RequestValidationError` before any request."""
        results: dict[str, BatchJobResult] = {}
        for call in self._api.results_calls(batch):
            outcome, _, _ = await self._client._send(call)
            results.update(
                (result.custom_id, result) for result in self._api.results(outcome.content)
            )
        return results


AsyncBaseClient = AsyncClient  # the name of 0.1
