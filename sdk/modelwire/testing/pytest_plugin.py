"""modelwire's pytest plugin (entry point `pytest11: modelwire`).

Provides the session-scoped fixture `modelwire_local_server`: one real llama.cpp server
(`modelwire.local.LocalServer`, SmolLM2-135M by default) shared by the whole test session
and stopped at its end. Tests using it are skipped, naming the install command, when the
`local` extra is not installed; any other startup failure is an error.

This module loads in every pytest run of anyone who installs modelwire, so it imports
nothing at import time beyond pytest itself: modelwire.local is imported by the fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from modelwire.local import LocalServer

__all__ = ["local_server_or_skip", "modelwire_local_server"]


def local_server_or_skip(**kwargs: Any) -> Iterator[LocalServer]:
    """Start a `LocalServer(**kwargs)`, yield it, and stop it; skip if the extra is missing.

    A generator meant to back a fixture: `yield from local_server_or_skip(embedding=True)`.
    """
    from modelwire.local import LocalDependencyError, LocalServer, check_local_extra

    try:
        check_local_extra()
        server = LocalServer(**kwargs)
        server.model_path  # noqa: B018 -- resolve the model now: a missing one skips
    except LocalDependencyError as exc:
        pytest.skip(f"modelwire local server unavailable: {exc.message}")
    with server:
        yield server


@pytest.fixture(scope="session")
def modelwire_local_server() -> Iterator[LocalServer]:
    """A real local llama.cpp server for the whole session (`.base_url`, `.model_id`)."""
    yield from local_server_or_skip()
