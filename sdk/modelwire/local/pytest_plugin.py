"""The `modelwire_local_server` and `modelwire_llama_server` pytest fixtures, and
`local_server_or_skip` for your own.

`modelwire_local_server` is one real llama.cpp server (`LocalServer`: llama-cpp-python's,
SmolLM2-135M by default) shared by the whole test session and stopped at its end;
`modelwire_llama_server` is the same with llama.cpp's own `llama-server` (which also
serves Anthropic's Messages API and OpenAI's Responses API). Tests using one are skipped,
naming the install command, when its engine (llama-cpp-python[server], or llama-server)
or the bundled model is not installed; any other failure, including a
MODELWIRE_LOCAL_MODEL or MODELWIRE_LLAMA_SERVER that points nowhere, is an error.

modelwire's pytest plugin (`modelwire.testing.pytest_plugin`, entry point
`pytest11: modelwire`) registers this module, so it loads in every pytest run of anyone who
installs modelwire: it imports nothing at import time beyond pytest itself, and the server
(with httpx) is imported by the fixture.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ._server import LocalServer

__all__ = ["local_server_or_skip", "modelwire_llama_server", "modelwire_local_server"]


def local_server_or_skip(**kwargs: Any) -> Iterator[LocalServer]:
    """Start a `LocalServer(**kwargs)`, yield it, and stop it; skip if its engine is missing.

    A generator meant to back a fixture: `yield from local_server_or_skip(embedding=True)`,
    or `local_server_or_skip(engine="llama-server")`.
    """
    from ._dependencies import check_local_extra
    from ._errors import LocalDependencyError
    from ._llama_server import LLAMA_SERVER_ENV_VAR, find_llama_server
    from ._model import MODEL_ENV_VAR
    from ._server import LocalServer

    try:
        if kwargs.get("engine") == "llama-server":
            if kwargs.get("server_binary") is None and not os.environ.get(LLAMA_SERVER_ENV_VAR):
                find_llama_server()  # not installed skips; a path the user chose must work
        else:
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


@pytest.fixture(scope="session")
def modelwire_llama_server() -> Iterator[LocalServer]:
    """A real llama.cpp `llama-server` for the whole session (`.url`, `.base_url`, `.model_id`)."""
    yield from local_server_or_skip(engine="llama-server")
