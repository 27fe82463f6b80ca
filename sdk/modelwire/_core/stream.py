"""One stream's state, pure: its decoder, its dialect's parser and its accumulator, and the
context every mid-stream error carries. The drivers feed it the bytes they read."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from .._framing import Decoder
from ..dialects.base import StreamParser
from ..errors import (
    ProviderError,
    StreamIncompleteError,
    StreamInterruptedError,
    StreamTimeoutError,
)
from ..hooks import ErrorEvent, Hooks
from ..types import CompletionResponse, StreamingChunk
from .accumulate import Accumulator
from .policy import scrub_error

logger = logging.getLogger("modelwire")


class StreamState:
    """What a stream has received so far.

    The driver's loop is the hot path, so it reads `decoder`, `parser` and `add` once and
    calls them itself: bytes -> events -> chunks, each chunk added before it is handed on.
    """

    __slots__ = (
        "_accumulator",
        "_error",
        "_finish",
        "_hooks",
        "add",
        "attempts",
        "decoder",
        "parser",
        "provider",
        "request_id",
        "secrets",
        "status_code",
        "stopped_by",
    )

    def __init__(
        self,
        decoder: Decoder,
        parser: StreamParser,
        finish: Callable[[CompletionResponse], CompletionResponse],
        *,
        provider: str,
        status_code: int,
        request_id: str | None,
        attempts: int,
        hooks: Hooks,
        secrets: Sequence[str] = (),
    ) -> None:
        self.decoder = decoder
        self.parser = parser
        self._finish = finish
        self._hooks = hooks
        self._accumulator = accumulator = Accumulator()
        self.provider = provider
        self.status_code = status_code
        self.request_id = request_id
        self.attempts = attempts
        # the call's credentials, redacted from every error the peer's words make
        self.secrets = secrets
        self._error: ProviderError | None = None
        # what stopped the reading before the stream's end, when something did: the name of
        # the exception thrown into it (GeneratorExit for close(), CancelledError, ...)
        self.stopped_by: str | None = None
        on_chunk = hooks.on_chunk
        if on_chunk is None:
            self.add: Callable[[StreamingChunk], None] = accumulator.add
        else:
            # chosen once per stream, so that streams without a chunk hook pay nothing
            def add(chunk: StreamingChunk) -> None:
                accumulator.add(chunk)
                on_chunk(chunk)

            self.add = add

    @property
    def chunks_seen(self) -> int:
        return self._accumulator.chunks_seen

    def tail(self) -> list[StreamingChunk]:
        """The body ended: the chunks of what the decoder still held. Raises when the
        stream never sent its terminal event, since the answer would look whole."""
        chunks = []
        for event in self.decoder.flush():
            chunk = self.parser.parse(event)
            if chunk is not None:
                self.add(chunk)
                chunks.append(chunk)
        if not self.parser.finished:
            raise StreamInterruptedError(
                "the stream ended before its terminal event; the answer is incomplete"
            )
        return chunks

    def broken(self, *, timed_out: bool, detail: str) -> ProviderError:
        """The error for a transport failure mid-stream."""
        if timed_out:
            return self.failed(
                StreamTimeoutError(f"no stream data within the idle timeout ({detail})")
            )
        return self.failed(StreamInterruptedError(f"the connection broke mid-stream: {detail}"))

    def failed(self, error: ProviderError) -> ProviderError:
        """`error` (from the decoder, the parser or the transport) with this stream's context
        and everything received before it: the dialects are pure and cannot know them."""
        scrub_error(error, self.secrets)
        self._error = self._with_context(error)
        logger.debug(
            "%s stream failed after %d chunks: %r (request id %s)",
            self.provider,
            self.chunks_seen,
            error,
            self.request_id,
        )
        if self._hooks.on_error is not None:
            self._hooks.on_error(ErrorEvent(self.provider, error))
        return error

    def _with_context(self, error: ProviderError) -> ProviderError:
        error.provider = self.provider
        error.request_id = self.request_id
        error.status_code = self.status_code
        error.partial = self.snapshot()
        error.attempts = self.attempts
        return error

    def snapshot(self) -> CompletionResponse:
        """Everything received so far, as a response."""
        response = self._accumulator.snapshot()
        response.request_id = self.request_id
        response.attempts = self.attempts
        return response

    def finish(self) -> CompletionResponse:
        """The whole response, once the stream has ended (structured output parsed). Raises
        `StreamIncompleteError` when the reading stopped before the terminal event, so
        that what arrived is never taken for the whole answer."""
        if not self.parser.finished:
            raise self._with_context(StreamIncompleteError(self._why_incomplete()))
        return self._finish(self.snapshot())

    def _why_incomplete(self) -> str:
        if self._error is not None:
            why = f"it had already failed ({type(self._error).__name__}: {self._error.message})"
        elif self.stopped_by == "GeneratorExit":
            why = "it was closed before its end"
        elif self.stopped_by is not None:
            why = f"its reading was stopped by {self.stopped_by} before its end"
        else:
            why = "it ended before its terminal event"
        return (
            f"the stream cannot give its whole answer: {why}; what arrived is in .partial "
            "(and stream.snapshot())"
        )
