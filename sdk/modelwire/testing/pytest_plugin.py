"""modelwire's pytest plugin (entry point `pytest11: modelwire`).

Provides the session-scoped fixture `modelwire_local_server`: one real llama.cpp server
(`modelwire.local.LocalServer`, SmolLM2-135M by default) shared by the whole test session
and stopped at its end; and the function-scoped fixtures `mock_provider` and
`async_mock_provider`: a fresh `modelwire.testing.MockProvider` / `AsyncMockProvider` per
test, with an empty script. Tests using it are skipped, naming the install command, when the
`local` extra (llama-cpp-python[server] and the bundled model) is not installed; any other
failure, including a MODELWIRE_LOCAL_MODEL that points nowhere, is an error.

This module loads in every pytest run of anyone who installs modelwire, so it imports
nothing at import time beyond pytest itself: modelwire.local is imported by the fixture.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from modelwire.local import LocalServer
    from modelwire.testing import AsyncMockProvider, MockProvider

__all__ = [
    "async_mock_provider",
    "local_server_or_skip",
    "mock_provider",
    "modelwire_local_server",
]


def local_server_or_skip(**kwargs: Any) -> Iterator[LocalServer]:
    """Start a `LocalServer(**kwargs)`, yield it, and stop it; skip if the extra is missing.

    A generator meant to back a fixture: `yield from local_server_or_skip(embedding=True)`.
    """
    from modelwire.local import MODEL_ENV_VAR, LocalDependencyError, LocalServer, check_local_extra

    try:
        check_local_extra()
    except LocalDependencyError as exc:
        pytest.skip(f"modelwire local server unavailable: {exc.message}")
    server = LocalServer(**kwargs)
    if kwargs.get("model_path") is None and not os.environ.get(MODEL_ENV_VAR):
        try:
            server.model_path  # noqa: B018 -- the bundled model: not installed skips
        except LocalDependencyError as exc:
            pytest.skip(f"modelwire local server unavailable: {exc.message}")
    # a model path the user chose that does not work is an error, not a skip
    with server:
        yield server


@pytest.fixture(scope="session")
def modelwire_local_server() -> Iterator[LocalServer]:
    """A real local llama.cpp server for the whole session (`.base_url`, `.model_id`)."""
    yield from local_server_or_skip()


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
