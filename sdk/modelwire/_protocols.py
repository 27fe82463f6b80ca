"""The seed API as protocols: every generated sync client is a `ModelProvider`, every
async one an `AsyncModelProvider`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from .types import CompletionRequest, CompletionResponse

if TYPE_CHECKING:
    from ._client import AsyncStreamingResponse, StreamingResponse


@runtime_checkable
class ModelProvider(Protocol):
    """What code that takes any sync client may rely on: every sync client and
    `modelwire.testing.MockProvider` is one (`isinstance` checks it)."""

    def complete(self, request: CompletionRequest, /) -> CompletionResponse:
        """One whole answer to `request`."""
        ...

    def stream_completion(self, request: CompletionRequest, /) -> StreamingResponse:
        """The answer to `request` as a stream of chunks."""
        ...


@runtime_checkable
class AsyncModelProvider(Protocol):
    """The async twin of `ModelProvider`: every async client and `AsyncMockProvider`."""

    async def complete(self, request: CompletionRequest, /) -> CompletionResponse:
        """One whole answer to `request`."""
        ...

    async def stream_completion(self, request: CompletionRequest, /) -> AsyncStreamingResponse:
        """The answer to `request` as a stream of chunks."""
        ...
