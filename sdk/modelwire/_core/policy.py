"""Pure request policy shared by the sync and async shells: headers, URLs, secrets,
error mapping, retry decisions and timeouts. No I/O here."""

from __future__ import annotations

import ipaddress
import json
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from ..errors import (
    ERROR_CLASSES,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    InsecureTransportError,
    NotFoundError,
    PermissionDeniedError,
    ProviderError,
    RateLimitError,
    RequestTooLargeError,
    ServerError,
    UnprocessableEntityError,
)
from ..spec import ProviderSpec

DEFAULT_MAX_RETRIES = 2


@dataclass(frozen=True, slots=True)
class Timeout:
    """Timeouts in seconds; None means no limit.

    `connect`: to open a connection. `read`: between bytes of a non-streamed response.
    `stream_idle`: between bytes of a stream (a slow drip under it never times out).
    `total`: a whole `complete()` call, retries included.
    """

    connect: float | None = 10.0
    read: float | None = 600.0
    write: float | None = 600.0
    stream_idle: float | None = 120.0
    total: float | None = None

    @classmethod
    def coerce(cls, value: float | Timeout | None, base: Timeout | None = None) -> Timeout:
        """A `Timeout` from a number (read, stream_idle and total; connect and write kept
        from `base`), from a `Timeout`, or `base` itself for None."""
        base = base or cls()
        if isinstance(value, Timeout):
            return value
        if value is None:
            return base
        return replace(base, read=value, stream_idle=value, total=value)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When and how long to wait before retrying; pass one as a client's `max_retries=`.

    `max_retries`: retries after the first attempt. Retry n waits
    `min(initial_delay * 2**(n-1), max_delay)` seconds with jitter, or the server's
    Retry-After when it sent one (up to `max_retry_after`; longer raises at once).
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    initial_delay: float = 0.5
    max_delay: float = 8.0
    # never sleep longer than this for a server's Retry-After: raise instead
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ConfigurationError("max_retries must be 0 or more")
        if min(self.initial_delay, self.max_delay, self.max_retry_after) < 0:
            raise ConfigurationError("retry delays must be 0 or more")

    def delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before retry number `attempt` (1-based), or None to give up."""
        if attempt > self.max_retries:
            return None
        if retry_after is not None:
            if retry_after > self.max_retry_after:
                return None
            return max(retry_after, 0.0)
        backoff: float = min(self.initial_delay * 2.0 ** (attempt - 1), self.max_delay)
        # jitter (half to all of the backoff) keeps clients that failed together from
        # retrying together
        return backoff * (0.5 + random.random() / 2)


# --------------------------------------------------------------------------- secrets & URLs


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_transport_security(
    url: str, has_key: bool, allow_insecure: bool, provider: str | None = None
) -> None:
    parts = urlsplit(url)
    insecure = has_key and parts.scheme == "http" and not allow_insecure
    if insecure and not is_loopback(parts.hostname or ""):
        raise InsecureTransportError(
            f"refusing to send an API key over plain http to {parts.hostname}: use "
            "https, or pass allow_insecure_http=True if this network is trusted",
            provider=provider,
        )


def redact(value: str | None) -> str:
    if not value:
        return "<unset>"
    return "<redacted>"


def auth_headers(spec: ProviderSpec, api_key: str | None) -> dict[str, str]:
    if not api_key or spec.auth.type == "none":
        return {}
    if spec.auth.type == "bearer":
        return {"Authorization": f"Bearer {api_key}"}
    assert spec.auth.header is not None
    return {spec.auth.header: api_key}


def join_url(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + "/" + path.lstrip("/")


# --------------------------------------------------------------------------- errors


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: RequestTooLargeError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """`retry-after-ms`, then `Retry-After` in seconds or as an HTTP date."""
    value = headers.get("retry-after-ms")
    if value:
        try:
            return float(value) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    import email.utils  # only for the rare HTTP-date form; slow to import

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def request_id_from(spec: ProviderSpec, headers: Mapping[str, str]) -> str | None:
    for name in spec.request_id_headers:
        value = headers.get(name)
        if value:
            return value
    return None


def error_fields(body: Any) -> tuple[str | None, str | None, str | None]:
    """(message, type, code) from the error bodies providers send."""
    if not isinstance(body, dict):
        return None, None, None
    error = body.get("error", body)
    if isinstance(error, str):
        return error, None, None
    if not isinstance(error, dict):
        return None, None, None
    message = error.get("message") or body.get("message")
    etype = error.get("type")
    code = error.get("code")
    # OpenRouter wraps the upstream error in metadata.raw
    return (
        str(message) if message is not None else None,
        str(etype) if etype is not None else None,
        str(code) if code is not None else None,
    )


def decode_body(content: bytes) -> Any:
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return content.decode("utf-8", "replace")


def error_from_response(
    spec: ProviderSpec,
    status: int,
    headers: Mapping[str, str],
    content: bytes,
    *,
    body: Any = None,
) -> ProviderError:
    """The typed error for an error status, mapped by the spec's rules first."""
    if body is None:
        body = decode_body(content)
    message, etype, code = error_fields(body)
    if message is None:
        text = body if isinstance(body, str) else json.dumps(body)[:500]
        message = text.strip()[:500] or f"HTTP {status} with an empty body"
    cls: type[ProviderError] | None = None
    retryable: bool | None = None
    for rule in spec.errors:
        if rule.status is not None and rule.status != status:
            continue
        if rule.type is not None and rule.type != etype:
            continue
        if rule.code is not None and rule.code != code:
            continue
        if rule.message_contains is not None and rule.message_contains not in message:
            continue
        cls = ERROR_CLASSES[rule.error]
        retryable = rule.retryable
        break
    if cls is None:
        cls = _STATUS_CLASSES.get(status) or (ServerError if status >= 500 else APIStatusError)
    kwargs: dict[str, Any] = {
        "provider": spec.name,
        "status_code": status,
        "request_id": request_id_from(spec, headers),
        "error_type": etype,
        "error_code": code,
        "body": body,
        "retryable": retryable if retryable is not None else status in spec.retry_statuses,
    }
    if issubclass(cls, APIStatusError):
        # a 503 or 529 may say when to come back as well as a 429
        return cls(message, retry_after=parse_retry_after(headers), **kwargs)
    return cls(message, **kwargs)


def retry_after_of(error: ProviderError) -> float | None:
    return error.retry_after if isinstance(error, APIStatusError) else None
