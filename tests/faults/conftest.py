"""Fixtures of the fault suite: the misbehaving servers (stopped, their threads joined,
after each test), the sync/async variant, and a client factory whose clients are closed
after each test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from .server import FaultServer, second_host
from .support import VARIANTS, Clients, Variant


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer("127.0.0.1", name="origin") as srv:
        yield srv


@pytest.fixture
def other_server() -> Iterator[FaultServer]:
    """A second server at another origin, the target of redirects."""
    with FaultServer(second_host(), name="other") as srv:
        yield srv


@pytest.fixture(params=VARIANTS, ids=lambda v: v.name)
def variant(request: pytest.FixtureRequest) -> Variant:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
async def make_client(variant: Variant, server: FaultServer) -> AsyncIterator[Clients]:
    clients = Clients(variant, server)
    yield clients
    await clients.close()
