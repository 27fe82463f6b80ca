"""The seed API as protocols: every generated sync client is a `ModelProvider`, every
async one an `AsyncModelProvider`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from .types import CompletionRequest, CompletionResponse

if TYPE_CHECKING:
    from ._client import AsyncStreamOpening, StreamingResponse


@runtime_checkable
class ModelProvider(Protocol):
    def complete(self, request: CompletionRequest, /) -> CompletionResponse: ...

    def stream_completion(self, request: CompletionRequest, /) -> StreamingResponse: ...


@runtime_checkable
class AsyncModelProvider(Protocol):
    async def complete(self, request: CompletionRequest, /) -> CompletionResponse: ...

    # not a coroutine: what it returns is awaited, or used as `async with`
    def stream_completion(self, request: CompletionRequest, /) -> AsyncStreamOpening: ...
