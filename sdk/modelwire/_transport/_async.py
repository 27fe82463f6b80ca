"""The async I/O shell: moves bytes with httpx.AsyncClient, nothing more.

Everything that can be pure lives in `modelwire._core` and is shared. The sync shell,
`_sync.py`, is generated from this file by `codegen/unasync.py`: edit this one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from .._core.accumulate import Accumulator
from .._core.calls import ClientConfig, HTTPCall
from .._core.decoder import Decoder
from .._core.hooks import NO_HOOKS, ErrorEvent, Hooks, RequestEvent, ResponseEvent, RetryEvent
from .._core.policy import (
    RetryPolicy,
    Timeout,
    error_from_response,
    request_id_from,
    retry_after_of,
)
from ..dialects.base import StreamParser
from ..errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ProviderError,
    StreamError,
    StreamInterruptedError,
    StreamTimeoutError,
)
from ..spec import ProviderSpec
from ..types import (
    CompletionRequest,
    CompletionResponse,
    EmbeddingResponse,
    ModelInfo,
    StreamingChunk,
)

if TYPE_CHECKING:
    import httpx
    from typing_extensions import Self
else:
    from .._lazy import LazyModule

    # imported when the first client is made, not with the class (see _lazy.py)
    httpx = LazyModule("httpx", globals())

logger = logging.getLogger("modelwire")


async def _sleep(seconds: float) -> None:
    """Waits before a retry."""
    import asyncio  # here, not at module level: it is slow to import and rarely needed

    await asyncio.sleep(seconds)


def _httpx_timeout(timeout: Timeout, *, stream: bool, remaining: float | None) -> httpx.Timeout:
    read = timeout.stream_idle if stream else timeout.read
    connect, write = timeout.connect, timeout.write
    if remaining is not None and not stream:
        # no single phase of an attempt may outlast what is left of the total
        read, connect, write = (
            remaining if cap is None else min(cap, remaining) for cap in (read, connect, write)
        )
    return httpx.Timeout(connect=connect, read=read, write=write, pool=connect)


class _Sent(NamedTuple):
    """A good response, its body (b"" for a stream, left unread) and the attempts made."""

    response: httpx.Response
    content: bytes
    attempts: int


class AsyncStreamingResponse:
    """A lazy stream of `StreamingChunk`s over one open HTTP response.

    Iterate it (`async for chunk in stream`), use it as a context manager, and close it to
    release the connection at once. `accumulate()` reads the rest and returns the same
    `CompletionResponse` that `complete()` would; `snapshot()` returns what arrived so far.
    """

    def __init__(
        self,
        response: httpx.Response,
        *,
        decoder: Decoder,
        parser: StreamParser,
        spec: ProviderSpec,
        finish: Callable[[CompletionResponse], CompletionResponse],
        attempts: int = 1,
        hooks: Hooks = NO_HOOKS,
    ) -> None:
        self._response = response
        self._hooks = hooks
        self._decoder = decoder
        self._parser = parser
        self._finish = finish
        self._accumulator = Accumulator()
        self._chunks = self._iterate()
        self.provider = spec.name
        self.status_code = response.status_code
        self.headers = response.headers
        self.request_id = request_id_from(spec, response.headers)
        # requests sent to get this stream (retries before its head included)
        self.attempts = attempts

    def __aiter__(self) -> AsyncIterator[StreamingChunk]:
        return self._chunks

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
        await self._chunks.aclose()
        await self._response.aclose()

    @property
    def closed(self) -> bool:
        return self._response.is_closed

    async def _byte_reads(self) -> AsyncGenerator[bytes | None, None]:
        async for data in self._response.aiter_bytes():
            yield data
        yield None  # end of body: the decoder flushes what it holds

    async def _iterate(self) -> AsyncGenerator[StreamingChunk, None]:
        decoder, parse, add = self._decoder, self._parser.parse, self._accumulator.add
        on_chunk = self._hooks.on_chunk
        if on_chunk is not None:
            # chosen once per stream, so streams without a chunk hook pay nothing per chunk
            accumulate = add

            def add(chunk: StreamingChunk) -> None:
                accumulate(chunk)
                on_chunk(chunk)

        try:
            async for data in self._byte_reads():
                for event in decoder.feed(data) if data is not None else decoder.flush():
                    chunk = parse(event)
                    if chunk is not None:
                        add(chunk)
                        yield chunk
            if not self._parser.finished:
                raise StreamInterruptedError(
                    "the stream ended before its terminal event; the answer is incomplete"
                )
        except StreamError as exc:
            raise self._with_context(exc) from None
        except httpx.TimeoutException as exc:
            raise self._with_context(
                StreamTimeoutError(f"no stream data within the idle timeout ({exc})")
            ) from None
        except httpx.HTTPError as exc:
            raise self._with_context(
                StreamInterruptedError(f"the connection broke mid-stream: {exc!r}")
            ) from None
        finally:
            await self._response.aclose()

    def _with_context(self, error: ProviderError) -> ProviderError:
        error.provider = self.provider
        error.request_id = self.request_id
        error.status_code = self.status_code
        error.partial = self.snapshot()
        error.attempts = self.attempts
        logger.warning(
            "%s stream failed after %d chunks: %s (request id %s)",
            self.provider,
            self._accumulator.chunks_seen,
            type(error).__name__,
            self.request_id,
        )
        if self._hooks.on_error is not None:
            self._hooks.on_error(ErrorEvent(self.provider, error))
        return error

    def snapshot(self) -> CompletionResponse:
        """Everything received so far, as a response (without reading further)."""
        response = self._accumulator.snapshot()
        response.request_id = self.request_id
        response.attempts = self.attempts
        return response

    async def accumulate(self) -> CompletionResponse:
        """Reads the rest of the stream and returns the whole response."""
        async for _ in self._chunks:
            pass
        return self._finish(self.snapshot())

    get_final_response = accumulate

    async def text_stream(self) -> AsyncIterator[str]:
        """Only the answer's text deltas."""
        async for chunk in self._chunks:
            if chunk.content:
                yield chunk.content


class AsyncBaseClient:
    """What every generated async client shares; subclasses add typed signatures."""

    spec: ClassVar[ProviderSpec]

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        model: str | None = None,
        timeout: float | Timeout | None = None,
        max_retries: int | RetryPolicy | None = None,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
        allow_insecure_http: bool = False,
        max_line_bytes: int | None = None,
        hooks: Hooks | None = None,
        settings: Mapping[str, str | None] | None = None,
    ) -> None:
        self._hooks = hooks or NO_HOOKS
        self._config = ClientConfig.create(
            self.spec,
            api_key=api_key,
            base_url=base_url,
            model=model,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            settings=settings,
            allow_insecure_http=allow_insecure_http,
            max_line_bytes=max_line_bytes,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            timeout=_httpx_timeout(self._config.timeout, stream=False, remaining=None),
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._config.describe()})"

    @property
    def base_url(self) -> str:
        return self._config.base_url

    @property
    def model(self) -> str | None:
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

    async def complete(
        self, request: CompletionRequest | Mapping[str, Any] | None = None, /, **kwargs: Any
    ) -> CompletionResponse:
        """One whole answer. Accepts a `CompletionRequest` and/or keyword fields."""
        return await self._complete(self._config.prepare(request, kwargs))

    async def stream_completion(
        self, request: CompletionRequest | Mapping[str, Any] | None = None, /, **kwargs: Any
    ) -> AsyncStreamingResponse:
        """Returns once the response head has arrived; HTTP errors raise here."""
        return await self._stream(self._config.prepare(request, kwargs))

    async def list_models(self) -> list[ModelInfo]:
        sent = await self._send(self._config.models_call())
        return self._config.parse_models(sent.content)

    async def embed(
        self, input: str | Sequence[str], *, model: str | None = None, **options: Any
    ) -> EmbeddingResponse:
        """Embeddings for one input or a batch, in the order given."""
        sent = await self._send(self._config.embeddings_call(input, model, options))
        return self._config.parse_embeddings(sent.content)

    # ----------------------------------------------------------------- internals

    async def _complete(self, request: CompletionRequest) -> CompletionResponse:
        sent = await self._send(self._config.chat_call(request, stream=False), request.model)
        response = self._config.parse_completion(request, sent.content)
        response.request_id = request_id_from(self.spec, sent.response.headers)
        response.attempts = sent.attempts
        return response

    async def _stream(self, request: CompletionRequest) -> AsyncStreamingResponse:
        sent = await self._send(self._config.chat_call(request, stream=True), request.model)
        return AsyncStreamingResponse(
            sent.response,
            decoder=self._config.new_decoder(),
            parser=self._config.dialect.stream_parser(self.spec),
            spec=self.spec,
            finish=self._config.finisher(request),
            attempts=sent.attempts,
            hooks=self._hooks,
        )

    async def _send(self, call: HTTPCall, model: str | None = None) -> _Sent:
        """Sends with retries; returns a response with status < 300 and its body (read
        unless streaming). A stream is retried only until its head arrives."""
        hooks, provider = self._hooks, self.spec.name
        started = time.monotonic()
        total = None if call.stream else call.timeout.total
        deadline = None if total is None else started + total
        attempt = 0
        while True:
            attempt += 1
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise APITimeoutError(
                    f"the request took longer than its total timeout ({total}s)",
                    provider=self.spec.name,
                    attempts=attempt - 1,
                )
            request = self._http.build_request(
                call.method,
                call.url,
                headers=call.headers,
                content=call.content,
                timeout=_httpx_timeout(call.timeout, stream=call.stream, remaining=remaining),
            )
            if hooks.on_request is not None:
                hooks.on_request(
                    RequestEvent(provider, call.method, call.url, model, call.stream, attempt)
                )
            error: ProviderError
            try:
                response = await self._http.send(request, stream=True, follow_redirects=False)
            except httpx.TimeoutException as exc:
                error = APITimeoutError(
                    f"timed out talking to {call.url}: {type(exc).__name__}",
                    provider=self.spec.name,
                )
            except httpx.TransportError as exc:
                error = APIConnectionError(
                    f"could not reach {call.url}: {exc!r}", provider=self.spec.name
                )
            else:
                checked = await self._check(call, response, deadline)
                if isinstance(checked, bytes):
                    if hooks.on_response is not None or logger.isEnabledFor(logging.DEBUG):
                        self._responded(call, model, response, attempt, started)
                    return _Sent(response, checked, attempt)
                error = checked
            delay = call.retry.delay(attempt, retry_after_of(error)) if error.retryable else None
            if delay is not None and deadline is not None and time.monotonic() + delay >= deadline:
                error = APITimeoutError(
                    f"the request took longer than its total timeout ({total}s); the last "
                    f"attempt failed with {type(error).__name__}: {error}",
                    provider=self.spec.name,
                    request_id=error.request_id,
                )
                delay = None
            if delay is None:
                error.attempts = attempt
                logger.warning(
                    "%s %s failed after %d attempt(s): %s", call.method, call.url, attempt, error
                )
                if hooks.on_error is not None:
                    hooks.on_error(ErrorEvent(provider, error))
                raise error
            logger.info(
                "retrying %s %s in %.2fs after %s (attempt %d)",
                call.method,
                call.url,
                delay,
                type(error).__name__,
                attempt,
            )
            if hooks.on_retry is not None:
                hooks.on_retry(RetryEvent(provider, call.method, call.url, attempt, delay, error))
            await _sleep(delay)

    def _responded(
        self,
        call: HTTPCall,
        model: str | None,
        response: httpx.Response,
        attempt: int,
        started: float,
    ) -> None:
        elapsed = time.monotonic() - started
        request_id = request_id_from(self.spec, response.headers)
        logger.debug(
            "%s %s -> %s in %.3fs (attempt %d, request id %s)",
            call.method,
            call.url,
            response.status_code,
            elapsed,
            attempt,
            request_id,
        )
        if self._hooks.on_response is not None:
            self._hooks.on_response(
                ResponseEvent(
                    self.spec.name,
                    call.method,
                    call.url,
                    model,
                    call.stream,
                    attempt,
                    response.status_code,
                    request_id,
                    elapsed,
                )
            )

    async def _check(
        self, call: HTTPCall, response: httpx.Response, deadline: float | None
    ) -> ProviderError | bytes:
        """The body of a good response (b"" for a stream, left unread), else the typed
        error. The body is read in pieces so that a slow one still ends at `deadline`."""
        if response.status_code < 300 and call.stream:
            return b""
        parts: list[bytes] = []
        try:
            async for part in response.aiter_bytes():
                parts.append(part)
                if deadline is not None and time.monotonic() > deadline:
                    return APITimeoutError(
                        f"reading the response from {call.url} took longer than the total "
                        f"timeout ({call.timeout.total}s)",
                        provider=self.spec.name,
                    )
        except httpx.TimeoutException as exc:
            return APITimeoutError(
                f"timed out reading the response from {call.url}: {type(exc).__name__}",
                provider=self.spec.name,
            )
        except httpx.TransportError as exc:
            return APIConnectionError(
                f"the connection broke while reading {call.url}: {exc!r}",
                provider=self.spec.name,
            )
        finally:
            await response.aclose()
        content = b"".join(parts)
        if response.status_code < 300:
            return content
        if response.status_code < 400:
            location = response.headers.get("location", "?")
            return APIStatusError(
                f"{call.url} redirected ({response.status_code}) to {location}; credentials are "
                "never forwarded on a redirect: set base_url to the final address",
                provider=self.spec.name,
                status_code=response.status_code,
                retryable=False,
            )
        return error_from_response(self.spec, response.status_code, response.headers, content)
