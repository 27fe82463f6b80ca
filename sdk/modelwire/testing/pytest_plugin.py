"""modelwire's pytest plugin (entry point `pytest11: modelwire`).

Provides the function-scoped fixtures `mock_provider` and `async_mock_provider`: a fresh
`modelwire.testing.MockProvider` / `AsyncMockProvider` per test, with an empty script; and
registers `modelwire.local.pytest_plugin`, whose session-scoped fixture
`modelwire_local_server` is one real llama.cpp server shared by the whole test session
(skipped, naming the install command, when the `local` extra is not installed).

This module loads in every pytest run of anyone who installs modelwire, so it imports
nothing at import time beyond pytest itself: the mocks are imported by their fixtures, and
modelwire.local only when pytest registers its plugin. `local_server_or_skip` and
`modelwire_local_server` are still importable from here; they live in
`modelwire.local.pytest_plugin`.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import import_module
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from modelwire.local.pytest_plugin import local_server_or_skip, modelwire_local_server
    from modelwire.testing import AsyncMockProvider, MockProvider

__all__ = [
    "async_mock_provider",
    "local_server_or_skip",
    "mock_provider",
    "modelwire_local_server",
]

_LOCAL_PLUGIN = "modelwire.local.pytest_plugin"
_FROM_LOCAL_PLUGIN = ("local_server_or_skip", "modelwire_local_server")

# pytest registers these along with this plugin: `modelwire_local_server` comes from there
pytest_plugins = [_LOCAL_PLUGIN]


def __getattr__(name: str) -> Any:
    """`local_server_or_skip` and `modelwire_local_server`, from modelwire.local's plugin."""
    if name in _FROM_LOCAL_PLUGIN:
        return getattr(import_module(_LOCAL_PLUGIN), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@pytest.fixture
def mock_provider() -> Iterator[MockProvider]:
    """A `MockProvider` (OpenAI-compatible, in memory) with an empty script, closed after."""
    from modelwire.testing import MockProvider

    mock = MockProvider()
    try:
        yield mock
    finally:
        mock.close()


@pytest.fixture
def async_mock_provider() -> Iterator[AsyncMockProvider]:
    """An `AsyncMockProvider` with an empty script.

    A plain (not async) fixture, so it works with or without pytest-asyncio and in any of
    its modes; the mock holds no sockets, so it needs no async close.
    """
    from modelwire.testing import AsyncMockProvider

    yield AsyncMockProvider()
