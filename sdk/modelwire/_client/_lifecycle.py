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
# httpcore 1.0 (which httpx 0.28 uses) leaks a pool slot each time a request is
# cancelled after the pool created a connection for it but before the request used it:
# the connection stays in the pool, "CONNECTING" with no socket (or connected and never
# sent on), neither idle nor closed, and counts against `max_connections` for good. Under
# contention enough cancellations fill the pool and every later request fails with
# PoolTimeout. openai-python and anthropic-sdk-python do not leak because they run on
# httpx2, whose httpcore2 pool drops such connections each time it reassigns its requests
# ("a NEW-state connection whose request was cancelled"). The pools modelwire creates get
# the same rule: before each reassignment, a connection that no request holds and that
# was never used is dropped (and its socket closed, if it had one).


def _never_used(connection: Any) -> bool | None:
    """True: never connected; False: connected, never sent on; None: anything else (in use,
    used, or failed, which the pool removes itself)."""
    inner = getattr(connection, "_connection", None)
    if inner is None:
        return None if getattr(connection, "_connect_failed", True) else True
    state = getattr(inner, "_state", None)
    return False if getattr(state, "name", None) == "NEW" else None


def _drop_abandoned(pool: Any) -> list[Any]:
    """Drops the pool's abandoned connections; returns those with a socket to close."""
    claimed = {request.connection for request in pool._requests}
    kept, closing = [], []
    for connection in pool._connections:
        unused = None if connection in claimed else _never_used(connection)
        if unused is None:
            kept.append(connection)
        elif unused is False:
            closing.append(connection)
    if len(kept) != len(pool._connections):
        pool._connections = kept
    return closing


def _mend_class(base: type[Any]) -> type[Any]:
    class MendedPool(base):  # type: ignore[misc]
        def _assign_requests_to_connections(self) -> list[Any]:
            closing = _drop_abandoned(self)
            return closing + list(super()._assign_requests_to_connections())

    MendedPool.__name__ = MendedPool.__qualname__ = base.__name__
    return MendedPool


_MENDED: dict[type[Any], type[Any]] = {}


def _mend(http: Any) -> None:
    # only httpcore's own pool, of the layout read above; anything else is left as it is
    pool = getattr(getattr(http, "_transport", None), "_pool", None)
    base = type(pool)
    if base.__module__.partition(".")[0] == "httpcore" and base.__name__.endswith("ConnectionPool"):
        if not all(hasattr(pool, name) for name in ("_requests", "_connections")):
            return
        mended = _MENDED.get(base)
        if mended is None:
            mended = _MENDED[base] = _mend_class(base)
        pool.__class__ = mended


def sync_mend_pool(http: httpx.Client) -> None:
    """Gives the pool of an httpx client that modelwire created the rule above."""
    _mend(http)


def async_mend_pool(http: httpx.AsyncClient) -> None:
    """Gives the pool of an httpx client that modelwire created the rule above."""
    _mend(http)
