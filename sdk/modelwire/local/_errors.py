"""The errors of the local server: its own, since no provider raised them (`provider` is None).

All are `ConfigurationError`s: what to install, which file to point at, which argument to
change. Each message says what to fix.
"""

from __future__ import annotations

from typing import Any

from ..errors import ConfigurationError

__all__ = ["LocalDependencyError", "LocalServerError", "LocalServerStartupError"]


class LocalServerError(ConfigurationError):
    """The local model server could not be set up or started."""


class LocalDependencyError(LocalServerError):
    """What the local server needs (llama-cpp-python, a model file) is not installed."""


class LocalServerStartupError(LocalServerError):
    """The server process exited or did not become ready; `log_tail` holds its last output."""

    def __init__(self, message: str, *, log_tail: str = "", **kw: Any) -> None:
        super().__init__(message, **kw)
        self.log_tail = log_tail
