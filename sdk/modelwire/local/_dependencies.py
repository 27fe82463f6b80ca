"""Whether llama-cpp-python with its server extra is installed, checked without importing it."""

from __future__ import annotations

import importlib.util

from ._errors import LocalDependencyError

__all__ = ["INSTALL_HINT", "check_local_extra"]

INSTALL_HINT = 'pip install "modelwire[local]"'

# What `llama-cpp-python[server]` brings. Found, not imported: llama_cpp runs in the child.
_SERVER_MODULES = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "pydantic_settings")


def check_local_extra() -> None:
    """Raise `LocalDependencyError` unless llama-cpp-python with its server extra is installed."""
    missing = [name for name in _SERVER_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise LocalDependencyError(
            f"The local model server needs llama-cpp-python with its server extra "
            f"(missing: {', '.join(missing)}). Install it with: {INSTALL_HINT}"
        )
