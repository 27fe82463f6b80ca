"""Live tests: they talk to real local llama.cpp servers (SmolLM2-135M on 2 cores).

`local_server` is one `modelwire.local.LocalServer` (llama-cpp-python's server, embedding
off) and `llama_server` one running llama.cpp's `llama-server`, each started once for the
session. Without its engine the tests using a server are skipped, naming the install
command, unless MODELWIRE_LIVE_REQUIRED is set (as `nox -s tests` and `nox -s live` do):
then a missing engine fails them, so a broken install cannot pass as skipped tests.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from modelwire.local import LocalServer

from tests.live.support import live_server


@pytest.fixture(scope="session")
def local_server() -> Iterator[LocalServer]:
    yield from live_server(embedding=False)


@pytest.fixture(scope="session")
def llama_server() -> Iterator[LocalServer]:
    yield from live_server(engine="llama-server")
