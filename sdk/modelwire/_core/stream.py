"""One stream's state, pure: its decoder, its dialect's parser and its accumulator, and the
context every mid-stream error carries. The drivers feed it the bytes they read."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence

from .._framing import Decoder
from ..dialects.base import StreamParser
from ..errors import (
    ConfigurationError,
    ProviderError,
    StreamIncompleteError,
    StreamInterruptedError,
    StreamTimeoutError,
)
from ..hooks import ErrorEvent, Hooks
from ..types import NO_RATE_LIMITS, CompletionResponse, StreamingChunk
from .accumulate import Accumulator
from .policy import parse_rate_limits, scrub_error
from .watch import CallWatch

logger = logging.getLogger("modelwire")

# how much of a stream is held back, at most, while waiting for its first content
OPENING_LIMIT = 64 * 1024


class StreamOpening:
    """A stream's first reads, held back until its first content (text, reasoning, a tool
    call): until then nothing has reached the caller, so a first event that reports an
    error (an overload sent in a 200 stream) can still be retried like its status-code
    twin. It parses with its own decoder and parser; the stream reads the held bytes
    again from the start, with the state the caller sees."""

    __slots__ = ("_decode", "_parse", "_parser", "broken", "pieces", "size")

    def __init__(self, decoder: Decoder, parser: StreamParser) -> None:
        self._decode = decoder.feed
        self._parse = parser.parse
        self._parser = parser
        self.pieces: list[bytes] = []
        self.size = 0
        # the transport failure that ended the reading, for the stream to raise
        self.broken: tuple[bool, str] | None = None

    def feed(self, data: bytes) -> bool:
        """Holds one read back; True once the stream can be handed to the caller: its
        content began, it finished, or too much is held. Raises the parser's errors."""
        self.pieces.append(data)
        self.size += len(data)
        for event in self._decode(data):
            chunk = self._parse(event)
            if chunk is not None and (
                chunk.content or chunk.reasoning or chunk.tool_calls or chunk.items
            ):
                return True
        return self._parser.finished or self.size >= OPENING_LIMIT

    @property
    def held(self) -> bytes:
        return b"".join(self.pieces)


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
        "_watch",
        "add",
        "attempts",
        "decoder",
        "headers",
        "kept",
        "parser",
        "provider",
        "rate_limits",
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
        watch: CallWatch | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.decoder = decoder
        # the response head's headers, and the rate limits they announced
        self.headers = headers
        self.rate_limits = NO_RATE_LIMITS if headers is None else parse_rate_limits(headers)
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
        # the call's per-call hooks (None without them): told of the first chunk and the end
        self._watch = watch
        # whether the text is kept (for accumulate() and an error's partial): keep=False
        # streams keep none
        self.kept = True
        self._bind(accumulator.add)

    def _bind(self, step: Callable[[StreamingChunk], None]) -> None:
        """Sets `add`, the hot path's step: chosen once per stream, so that streams
        without hooks pay nothing for them."""
        on_chunk = self._hooks.on_chunk
        watch = self._watch
        on_first = watch.first_chunk if watch is not None and watch.wants_first_chunk else None
        if on_chunk is None and on_first is None:
            self.add: Callable[[StreamingChunk], None] = step
            return

        def add(chunk: StreamingChunk) -> None:
            nonlocal on_first
            step(chunk)
            if on_first is not None:
                first, on_first = on_first, None
                first(chunk)
            if on_chunk is not None:
                on_chunk(chunk)

        self.add = add

    def keep_no_text(self) -> None:
        """From now on only what a response says of itself is kept (`keep=False`): the
        driver's loop must not have bound `add` yet."""
        if self.chunks_seen:
            raise ConfigurationError(
                "keep=False must be chosen before the stream's first chunk is read"
            )
        self.kept = False
        self._bind(self._accumulator.tally)

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
        error.rate_limits = self.rate_limits
        return error

    def snapshot(self) -> CompletionResponse:
        """Everything received so far, as a response."""
        response = self._accumulator.snapshot()
        response.provider = self.provider
        response.request_id = self.request_id
        response.attempts = self.attempts
        response.status_code = self.status_code
        response.headers = self.headers
        response.rate_limits = self.rate_limits
        return response

    def ended(self) -> None:
        """The reading is over, however it ended (the driver calls this when its chunks end,
        on close() and when the stream is dropped): the call's end hook, once."""
        watch, self._watch = self._watch, None
        if watch is None:
            return
        if self._error is not None:
            watch.end(self.snapshot(), error=self._error)
        elif self.parser.finished:
            watch.end(self.snapshot())
        else:  # closed, cancelled or dropped before its terminal event
            watch.end(self.snapshot(), interrupted_by=self.stopped_by or "GeneratorExit")

    def finish(self) -> CompletionResponse:
        """The whole response, once the stream has ended (structured output parsed). Raises
        `StreamIncompleteError` when the reading stopped before the terminal event, so
        that what arrived is never taken for the whole answer."""
        if not self.parser.finished:
            raise self._with_context(StreamIncompleteError(self._why_incomplete()))
        if not self.kept:
            raise ConfigurationError(
                "this stream was read with keep=False, so its text was not kept: read it "
                "with keep=True (the default) to accumulate() it"
            )
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
