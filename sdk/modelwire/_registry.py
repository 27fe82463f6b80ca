"""Providers by name: `client("openai")`, `client("anthropic/claude-sonnet-4-5")`.

The table of providers is generated (`providers/__init__.py`); looking a name up in it,
splitting off the model and building the client is this ordinary code.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from typing import TYPE_CHECKING, Any

from .errors import ConfigurationError

if TYPE_CHECKING:
    from ._client import AsyncClient, Client


class Registry:
    """Provider name -> (module, sync class, async class), under `package`."""

    def __init__(self, package: str, table: Mapping[str, tuple[str, str, str]]) -> None:
        self._package = package
        self._table = table
        self._modules = {cls: module for module, *classes in table.values() for cls in classes}

    def module_attribute(self, name: str) -> Any:
        """The package's `__getattr__`: a class name imports its module on first use."""
        module = self._modules.get(name)
        if module is None:
            raise AttributeError(f"module {self._package!r} has no attribute {name!r}")
        return getattr(import_module(f"{self._package}.{module}"), name)

    def split(self, target: str) -> tuple[str, str | None]:
        """("provider", "model") from "provider/model"; the model may be absent."""
        name, _, model = target.partition("/")
        if name not in self._table and name.replace("-", "_") in self._table:
            # "openai-responses" names the spec `openai_responses`
            name = name.replace("-", "_")
        if name not in self._table:
            raise ConfigurationError(
                f"unknown provider {name!r}: use one of {', '.join(sorted(self._table))}, "
                "optionally followed by /model"
            )
        return name, model or None

    def client_class(self, name: str, *, asynchronous: bool = False) -> type[Any]:
        _, sync_name, async_name = self._table[self.split(name)[0]]
        cls: type[Any] = self.module_attribute(async_name if asynchronous else sync_name)
        return cls

    def client(self, target: str, **kwargs: Any) -> Client:
        name, model = self.split(target)
        if model is not None:
            kwargs.setdefault("model", model)
        made: Client = self.client_class(name)(**kwargs)
        return made

    def async_client(self, target: str, **kwargs: Any) -> AsyncClient:
        name, model = self.split(target)
        if model is not None:
            kwargs.setdefault("model", model)
        made: AsyncClient = self.client_class(name, asynchronous=True)(**kwargs)
        return made
