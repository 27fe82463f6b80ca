"""`replay_cassette()`: recorded HTTP traffic (a vcrpy cassette) replayed into a real
generated client.

vcrpy is optional: it is imported when `replay_cassette()` is called, and its absence is
reported with the install command.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib import import_module
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

import modelwire

from .._client import AsyncClient as AsyncBaseClient
from .._client import Client as BaseClient
from ..providers import client_class, registry
from ..spec import ProviderSpec
from ._mock import PLACEHOLDER_KEY

__all__ = ["CassetteReplay", "replay_cassette"]

_C = TypeVar("_C", bound="BaseClient | AsyncBaseClient")

_VCR_INSTALL_HINT = "pip install vcrpy"


def _import_vcr() -> Any:
    try:
        return import_module("vcr")
    except ImportError:
        raise ImportError(
            f"replay_cassette() needs vcrpy, which is not installed: {_VCR_INSTALL_HINT}"
        ) from None


class CassetteReplay(Generic[_C]):
    """The context manager `replay_cassette` returns: `with` for a sync client, `async with`
    for an async one. Entering starts vcrpy's replay and makes the client; leaving closes
    the client and stops the replay."""

    def __init__(self, path: str | Path, make: Callable[[], _C], match_on: Sequence[str]) -> None:
        self.path = Path(path)
        self._make = make
        self._match_on = tuple(match_on)
        self._cassette: Any = None
        self._client: _C | None = None

    def _start(self) -> _C:
        if not self.path.is_file():
            raise FileNotFoundError(f"no cassette at {self.path}")
        vcr = _import_vcr()
        replayer = vcr.VCR(record_mode="none", match_on=self._match_on)
        self._cassette = replayer.use_cassette(str(self.path))
        self._cassette.__enter__()
        try:
            self._client = self._make()
        except BaseException as exc:
            self._cassette.__exit__(type(exc), exc, exc.__traceback__)
            raise
        return self._client

    def _stop(self, *exc_info: object) -> None:
        """Stops the replay; `exc_info` is what `__exit__` was given."""
        cassette, self._cassette = self._cassette, None
        if cassette is not None:
            cassette.__exit__(*exc_info)

    def __enter__(self) -> _C:
        return self._start()

    def __exit__(self, *exc_info: object) -> None:
        try:
            if isinstance(self._client, BaseClient):
                self._client.close()
        finally:
            self._stop(*exc_info)

    async def __aenter__(self) -> _C:
        return self._start()

    async def __aexit__(self, *exc_info: object) -> None:
        if not isinstance(self._client, AsyncBaseClient):
            self.__exit__(*exc_info)  # a sync client is closed as by `with`
            return
        try:
            await self._client.close()
        finally:
            self._stop(*exc_info)


def _client_class(client: str, asynchronous: bool) -> tuple[type[Any], str | None]:
    """(class, model) for a provider name ("openai", "openai/gpt-4o-mini") or a class
    name exported by modelwire ("OpenAI", "AsyncAnthropic")."""
    if "/" not in client and client[:1].isupper():
        found = getattr(modelwire, client, None)
        if isinstance(found, type) and issubclass(found, (BaseClient, AsyncBaseClient)):
            return found, None
    name, model = registry.split(client)
    return client_class(name, asynchronous=asynchronous), model


@overload
def replay_cassette(
    path: str | Path,
    client: type[_C],
    /,
    *,
    match_on: Sequence[str] = ...,
    **client_kwargs: Any,
) -> CassetteReplay[_C]: ...


@overload
def replay_cassette(
    path: str | Path,
    client: str,
    /,
    *,
    asynchronous: bool = ...,
    match_on: Sequence[str] = ...,
    **client_kwargs: Any,
) -> CassetteReplay[Any]: ...


def replay_cassette(
    path: str | Path,
    client: type[Any] | str,
    /,
    *,
    asynchronous: bool = False,
    match_on: Sequence[str] = ("method", "path"),
    **client_kwargs: Any,
) -> CassetteReplay[Any]:
    """Replays a vcrpy cassette into a generated client: `with replay_cassette(path,
    "openai") as client: ...` (or a class such as `modelwire.AsyncAnthropic`, with
    `async with`).

    Requests are matched on method and path (modelwire's request bodies differ from the
    recording client's); each recorded response plays once, in order, and a request with
    no recorded answer raises vcrpy's CannotOverwriteExistingCassetteException. Client
    keyword arguments are passed on, with defaults for replay: a placeholder API key,
    the provider's own base URL (not a *_BASE_URL variable) and `max_retries=0`.
    Needs vcrpy (`pip install vcrpy`), imported only here.
    """
    _import_vcr()  # fail now, naming the install command
    if isinstance(client, str):
        cls, model = _client_class(client, asynchronous)
        if model is not None:
            client_kwargs.setdefault("model", model)
    else:
        cls = client
    spec: ProviderSpec = cls.spec
    if spec.auth.type != "none":
        client_kwargs.setdefault("api_key", PLACEHOLDER_KEY)
    client_kwargs.setdefault("base_url", spec.base_url)
    client_kwargs.setdefault("max_retries", 0)

    def make() -> Any:
        return cls(**client_kwargs)

    return CassetteReplay(path, make, match_on)
