"""The sync and async clients: the drivers of the pure call flow in `modelwire._core`."""

from ._async import AsyncBaseClient, AsyncClient, AsyncStreamingResponse, AsyncStreamOpening
from ._sync import BaseClient, Client, StreamingResponse

__all__ = [
    "AsyncBaseClient",
    "AsyncClient",
    "AsyncStreamOpening",
    "AsyncStreamingResponse",
    "BaseClient",
    "Client",
    "StreamingResponse",
]
