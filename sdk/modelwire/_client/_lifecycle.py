"""What the drivers do about connections that their caller abandoned: a stream dropped
without being closed, and pool slots left behind by cancelled requests.

Each piece comes twice, `async_*` for `_async.py` and `sync_*` for the `_sync.py`
generated from it (codegen/unasync.py renames one into the other).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

    import httpx

# the tasks that close dropped async streams, held until done (the loop keeps only weak
# references to its tasks)
_CLOSING: set[asyncio.Task[None]] = set()


def sync_release(response: httpx.Response) -> None:
    """Closes the response of a stream dropped unclosed: its connection goes back now."""
    with contextlib.suppress(Exception):  # a finalizer must not raise, and nothing waits
        response.close()


def async_release(response: httpx.Response) -> None:
    """Closes the response of an async stream dropped unclosed.

    A finalizer cannot await, and closing an httpx response is a coroutine: releasing the
    pool slot takes httpcore's async lock, and closing a half-read connection awaits its
    transport. Driving that coroutine by hand would stop at its first real suspension, so
    it is scheduled as a task on the running loop instead, as asyncio itself does for an
    async generator dropped unfinished: the slot is free at the loop's next turn, before
    any request waiting for it can run. With no running loop (the stream outlived it, or
    is dropped in another thread) nothing can be awaited; the connection then belongs to
    a loop that no longer runs and goes with the pool.
    """
    import asyncio

    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    task = loop.create_task(_close_quietly(response))
    _CLOSING.add(task)
    task.add_done_callback(_CLOSING.discard)


async def _close_quietly(response: httpx.Response) -> None:
    with contextlib.suppress(Exception):  # nobody awaits this task to be told
        await response.aclose()


# --------------------------------------------------------------------------- the pool
#
# httpcore 1.0 (under httpx 0.28) leaks pool slots when tasks are cancelled under
# contention, in two ways, and enough of them fill the pool until every request fails
# with PoolTimeout:
#
# - a request cancelled after the pool made a connection for it, but before it used it,
#   leaves that connection in the pool ("CONNECTING" with no socket, or connected and
#   never sent on): neither idle nor closed, it counts against `max_connections` for good;
# - a response closed by a task that is cancelled while closing (httpx closes a response
#   itself when its body ends) stops at the connection's async lock, a checkpoint even
#   uncontended, which anyio's shield does not guard against a plain `task.cancel()`: the
#   request is never removed from the pool, nor its connection given back.
#
# openai-python and anthropic-sdk-python leak neither: they run on httpx2, whose pool
# (httpcore2) drops the connections no request holds that never connected each time it
# reassigns its requests, and takes that lock without a checkpoint (`fast_acquire`). The
# pools modelwire creates get the same two rules: a connection that no request holds and
# that is neither idle nor closed is dropped (its socket closed, if it has one) before each
# reassignment, and a response's closing always takes its request out of the pool, even
# when it is cut short.


def _drop_abandoned(pool: Any) -> list[Any]:
    """Takes out of the pool the connections that no request holds and that are neither
    idle nor closed: nothing will ever use or release them. Returns them, to be closed."""
    claimed = {request.connection for request in pool._requests}
    abandoned = [
        connection
        for connection in pool._connections
        if connection not in claimed and not (connection.is_idle() or connection.is_closed())
    ]
    if abandoned:
        pool._connections = [c for c in pool._connections if c not in abandoned]
    return abandoned


def _forget(stream: Any) -> list[Any]:
    """After a closing that was cut short: the stream's request leaves the pool, and the
    connections to close (its own among them, left mid-exchange) are returned."""
    pool = stream._pool
    with pool._optional_thread_lock:
        if stream._pool_request not in pool._requests:
            return []
        pool._requests.remove(stream._pool_request)
        return list(pool._assign_requests_to_connections())


def _async_classes(pool_base: type[Any], stream_base: type[Any]) -> tuple[type[Any], type[Any]]:
    class MendedStream(stream_base):  # type: ignore[misc]
        async def aclose(self) -> None:
            try:
                await super().aclose()
            finally:
                for connection in _forget(self):
                    with contextlib.suppress(Exception):
                        await connection.aclose()

    class MendedPool(pool_base):  # type: ignore[misc]
        def _assign_requests_to_connections(self) -> list[Any]:
            return _drop_abandoned(self) + list(super()._assign_requests_to_connections())

        async def handle_async_request(self, request: Any) -> Any:
            response = await super().handle_async_request(request)
            if type(response.stream) is stream_base:
                response.stream.__class__ = MendedStream
            return response

    return MendedPool, MendedStream


def _sync_classes(pool_base: type[Any], stream_base: type[Any]) -> tuple[type[Any], type[Any]]:
    class MendedStream(stream_base):  # type: ignore[misc]
        def close(self) -> None:
            try:
                super().close()
            finally:
                for connection in _forget(self):
                    with contextlib.suppress(Exception):
                        connection.close()

    class MendedPool(pool_base):  # type: ignore[misc]
        def _assign_requests_to_connections(self) -> list[Any]:
            return _drop_abandoned(self) + list(super()._assign_requests_to_connections())

        def handle_request(self, request: Any) -> Any:
            response = super().handle_request(request)
            if type(response.stream) is stream_base:
                response.stream.__class__ = MendedStream
            return response

    return MendedPool, MendedStream


_MENDED: dict[type[Any], type[Any]] = {}


def _mend(http: Any, is_async: bool) -> None:
    # only httpcore's own pool, of the layout read above; anything else is left as it is
    import importlib

    pool = getattr(getattr(http, "_transport", None), "_pool", None)
    base = type(pool)
    name = "AsyncConnectionPool" if is_async else "ConnectionPool"
    if base.__module__.partition(".")[0] != "httpcore" or base.__name__ != name:
        return
    module = importlib.import_module(
        f"httpcore.{'_async' if is_async else '_sync'}.connection_pool"
    )
    stream_base = getattr(module, "PoolByteStream", None)
    needed = ("_requests", "_connections", "_optional_thread_lock")
    if stream_base is None or not all(hasattr(pool, attr) for attr in needed):
        return
    mended = _MENDED.get(base)
    if mended is None:
        make = _async_classes if is_async else _sync_classes
        mended = _MENDED[base] = make(base, stream_base)[0]
        mended.__name__ = mended.__qualname__ = base.__name__
    pool.__class__ = mended


def sync_mend_pool(http: httpx.Client) -> None:
    """Gives the pool of an httpx client that modelwire created the rules above."""
    _mend(http, is_async=False)


def async_mend_pool(http: httpx.AsyncClient) -> None:
    """Gives the pool of an httpx client that modelwire created the rules above."""
    _mend(http, is_async=True)
