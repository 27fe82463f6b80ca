"""Where a client's credential goes (a header, or a query parameter) and where it comes
from (a static key, or a token provider called before every attempt).

Without `auth=`, a client sends its key where its spec says (`auth:` in the YAML). With
`Auth.token(provider)` it asks `provider` for a fresh token before each request it sends,
retries included: for short-lived tokens such as Entra ID's or Google's OAuth tokens.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeAlias

TokenProvider: TypeAlias = Callable[[], str] | Callable[[], Awaitable[str]]
"""A callable returning a token, or an awaitable of one (for the async client)."""


@dataclass(frozen=True, slots=True)
class Auth:
    """How a client authenticates: build one with `Auth.header`, `Auth.query` or
    `Auth.token`.

    `header` and `scheme`: the header the credential is sent in, and the word before it
    (`Authorization: Bearer <token>`); or `query`: the query parameter it is sent as.
    `token_provider`: called before each attempt for the credential; unset, the client's
    `api_key` (or its spec's key variable) is the credential.
    """

    header: str | None = None
    scheme: str | None = None
    query: str | None = None
    token_provider: TokenProvider | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if (self.header is None) == (self.query is None):
            raise ValueError("Auth needs exactly one of header= or query=")
        if self.scheme is not None and self.header is None:
            raise ValueError("Auth's scheme= goes with header=, not query=")

    @classmethod
    def in_header(cls, name: str, *, scheme: str | None = None) -> Auth:
        """The API key in the header `name` (with `scheme`, "<scheme> <key>")."""
        return cls(header=name, scheme=scheme)

    @classmethod
    def in_query(cls, param: str) -> Auth:
        """The API key as the query parameter `param` (Gemini's legacy `?key=`). Prefer a
        header: URLs end up in proxies' and HTTP libraries' logs."""
        return cls(query=param)

    @classmethod
    def token(
        cls,
        provider: TokenProvider,
        *,
        header: str = "Authorization",
        scheme: str | None = "Bearer",
    ) -> Auth:
        """A token from `provider`, called before every attempt, sent as
        `Authorization: Bearer <token>` unless another header or scheme is named."""
        if not callable(provider):
            raise TypeError(f"Auth.token needs a callable, not {type(provider).__name__}")
        return cls(header=header, scheme=scheme, token_provider=provider)
