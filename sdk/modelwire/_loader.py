"""Clients from a user's own spec file at run time: a YAML (or JSON) file in, a sync and
an async client class out, made exactly as the generated ones are (a `Client` subclass
bound to the spec), with no generation step and no Python."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._client import AsyncClient, Client
from .dialects import get_dialect
from .spec import ProviderSpec, read_spec_file


@dataclass(frozen=True)
class LoadedProvider:
    """The classes built from one spec; `client()`/`async_client()` instantiate them."""

    spec: ProviderSpec
    sync_class: type[Client]
    async_class: type[AsyncClient]

    def client(self, **kwargs: Any) -> Client:
        """A sync client for the spec, with the client settings given (`api_key=`, ...)."""
        return self.sync_class(**kwargs)

    def async_client(self, **kwargs: Any) -> AsyncClient:
        """An async client for the spec, with the client settings given."""
        return self.async_class(**kwargs)


def load_spec(source: str | Path | ProviderSpec) -> LoadedProvider:
    """Reads and validates a provider spec and builds its client classes."""
    spec = source if isinstance(source, ProviderSpec) else read_spec_file(source)
    get_dialect(spec.dialect)  # fail now, not at the first request
    namespace = {"spec": spec, "__doc__": f"Client for {spec.display_name} (from its spec)."}
    sync_class = type(spec.class_name, (Client,), dict(namespace))
    async_class = type(f"Async{spec.class_name}", (AsyncClient,), dict(namespace))
    return LoadedProvider(spec, sync_class, async_class)
