"""A module that is imported on first attribute access.

httpx takes about as long to import as the rest of modelwire together; a client class
can be imported (and its signature inspected) without it, and the first client made
loads it. Type checkers see the real module: the proxy exists at run time only.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands in for `name` in `namespace` until first used, then replaces itself."""

    __slots__ = ("_name", "_namespace")

    def __init__(self, name: str, namespace: dict[str, Any]) -> None:
        self._name = name
        self._namespace = namespace

    def __getattr__(self, attribute: str) -> Any:
        module: ModuleType = import_module(self._name)
        # later lookups in the owning module find the real module, not this proxy
        self._namespace[self._name] = module
        return getattr(module, attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"
