"""What the live tests share: starting a server (a skip is a failure when required) and
the connection-pool probes behind the early-close tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from modelwire.local import LocalServer
from modelwire.local.pytest_plugin import local_server_or_skip

REQUIRED_ENV = "MODELWIRE_LIVE_REQUIRED"


def live_server(**kwargs: Any) -> Iterator[LocalServer]:
    """`local_server_or_skip(**kwargs)`; when REQUIRED_ENV is set, a missing engine fails."""
    try:
        yield from local_server_or_skip(**kwargs)
    except pytest.skip.Exception as exc:
        if os.environ.get(REQUIRED_ENV):
            pytest.fail(f"{REQUIRED_ENV} is set, but {exc.msg}")
        raise


def engine_or_skip(engine: str) -> None:
    """Skip (fail when REQUIRED_ENV is set) unless `engine` is installed."""
    from modelwire.local import LocalDependencyError, check_local_extra, find_llama_server

    try:
        if engine == "llama-server":
            find_llama_server()
        else:
            check_local_extra()
    except LocalDependencyError as exc:
        if os.environ.get(REQUIRED_ENV):
            pytest.fail(f"{REQUIRED_ENV} is set, but {exc.message}")
        pytest.skip(f"{engine} unavailable: {exc.message}")


def pool(client: Any) -> Any:
    """The httpcore connection pool under a client's httpx client (httpx 0.28, httpcore 1.x)."""
    return client._http._transport._pool


def checked_out(pool: Any) -> list[Any]:
    """Connections handed to a request and not yet given back."""
    busy = [conn for conn in pool.connections if not (conn.is_idle() or conn.is_closed())]
    return busy + list(pool._requests)
