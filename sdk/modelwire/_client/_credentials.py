"""A token provider's token for each attempt, fetched by the drivers just before they send
it (the call flow is pure and cannot await). A failing provider is a typed
`TokenProviderError`, raised before anything is sent.

As in `_lifecycle.py`, each piece comes twice: `async_token` for `_async.py`, `sync_token`
for the `_sync.py` generated from it.
"""

from __future__ import annotations

from typing import Any

from .._core.policy import Credential
from .._core.validation import check_token, token_failed
from ..errors import TokenProviderError
from ..spec import ProviderSpec


async def async_token(credential: Credential, spec: ProviderSpec) -> str:
    """The credential for one attempt: the key, or what the provider (sync or async)
    returns now."""
    if credential.provider is None:
        return credential.key or ""  # a static key in the query
    try:
        value: Any = credential.provider()
        if hasattr(value, "__await__"):
            value = await value
    except Exception as exc:
        raise token_failed(spec, exc) from exc
    return check_token(spec, value)


def sync_token(credential: Credential, spec: ProviderSpec) -> str:
    """The credential for one attempt: the key, or what the (sync) provider returns now."""
    if credential.provider is None:
        return credential.key or ""  # a static key in the query
    try:
        value: Any = credential.provider()
    except Exception as exc:
        raise token_failed(spec, exc) from exc
    if hasattr(value, "__await__"):
        close = getattr(value, "close", None)
        if close is not None:
            close()  # never awaited: closed, so that Python does not warn about it
        raise TokenProviderError(
            "the token provider is async (it returned an awaitable): use it with the async "
            "client, or give the sync client a sync provider",
            provider=spec.name,
        )
    return check_token(spec, value)
