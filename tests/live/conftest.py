"""Live tests: they talk to a real local llama.cpp server (SmolLM2-135M on 2 cores).

`local_server` is one `modelwire.local.LocalServer` (embedding off) started once for the
session. Without the `local` extra the tests using it are skipped, naming the install command.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from modelwire.local import LocalServer
from modelwire.local.pytest_plugin import local_server_or_skip


@pytest.fixture(scope="session")
def local_server() -> Iterator[LocalServer]:
    yield from local_server_or_skip(embedding=False)
