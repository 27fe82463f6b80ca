"""A call as a whole, for the per-call hooks (`on_start`, `on_first_chunk`, `on_end`): one
`CallWatch` per chat or embeddings call, made only when such a hook is set.

It fires the start at once and the end exactly once, however the call ends: a whole
answer, a typed error, a stream read to its end, failed, closed, cancelled or dropped.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..errors import ProviderError
from ..hooks import EndEvent, FirstChunkEvent, Hooks, StartEvent
from ..types import CompletionResponse, EmbeddingResponse, StreamingChunk


class CallWatch:
    __slots__ = ("_clock", "_ended", "_hooks", "_started", "start")

    def __init__(
        self, hooks: Hooks, start: StartEvent, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._hooks = hooks
        self._clock = clock
        self._ended = False
        self.start = start
        self._started = clock()
        if hooks.on_start is not None:
            hooks.on_start(start)

    @property
    def wants_first_chunk(self) -> bool:
        return self._hooks.on_first_chunk is not None

    def first_chunk(self, chunk: StreamingChunk) -> None:
        if self._hooks.on_first_chunk is not None:
            elapsed = self._clock() - self._started
            self._hooks.on_first_chunk(FirstChunkEvent(self.start, chunk, elapsed))

    def end(
        self,
        response: CompletionResponse | EmbeddingResponse | None,
        *,
        error: ProviderError | None = None,
        interrupted_by: str | None = None,
    ) -> None:
        """The call is over; only the first end counts."""
        if self._ended:
            return
        self._ended = True
        if self._hooks.on_end is not None:
            elapsed = self._clock() - self._started
            self._hooks.on_end(EndEvent(self.start, response, error, interrupted_by, elapsed))

    def failed(self, exc: BaseException) -> None:
        """The call raised before it had an answer: a typed error, or something else that
        stopped it (a cancellation, a KeyboardInterrupt)."""
        if isinstance(exc, ProviderError):
            self.end(exc.partial, error=exc)
        else:
            self.end(None, interrupted_by=type(exc).__name__)
