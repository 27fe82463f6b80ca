"""The sync and async clients: the drivers of the pure call flow in `modelwire._core`."""

from ._async import (
    AsyncBaseClient,
    AsyncBatches,
    AsyncClient,
    AsyncStreamingResponse,
    AsyncStreamOpening,
)
from ._sync import BaseClient, Batches, Client, StreamingResponse

__all__ = [
    "AsyncBaseClient",
    "AsyncBatches",
    "AsyncClient",
    "AsyncStreamOpening",
    "AsyncStreamingResponse",
    "BaseClient",
    "Batches",
    "Client",
    "StreamingResponse",
]
