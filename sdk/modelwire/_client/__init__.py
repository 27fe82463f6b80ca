"""The sync and async clients: the drivers of the pure call flow in `modelwire._core`."""

from ._async import AsyncBaseClient, AsyncClient, AsyncStreamingResponse
from ._sync import BaseClient, Client, StreamingResponse

__all__ = [
    "AsyncBaseClient",
    "AsyncClient",
    "AsyncStreamingResponse",
    "BaseClient",
    "Client",
    "StreamingResponse",
]
