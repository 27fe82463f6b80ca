"""What a provider's answers mean, as pure functions: auth headers and URLs going out;
request ids, Retry-After and the typed error of an error status coming back."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from typing import Any

from ..errors import (
    ERROR_CLASSES,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ProviderError,
    RateLimitError,
    RequestTooLargeError,
    ServerError,
    UnprocessableEntityError,
    error_fields,
)
from ..spec import ProviderSpec

# --------------------------------------------------------------------------- going out


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


# --------------------------------------------------------------------------- coming back


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


def _finite_seconds(value: float) -> float | None:
    # a peer's `nan` would make every deadline comparison false, `inf` would never end
    return value if math.isfinite(value) and value >= 0 else None


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """`retry-after-ms`, then `Retry-After` in seconds or as an HTTP date; None unless
    the server named a finite wait of zero or more seconds."""
    value = headers.get("retry-after-ms")
    if value:
        try:
            return _finite_seconds(float(value) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return _finite_seconds(float(value))
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
    attempts: int | None = None,
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
        "attempts": attempts,
    }
    if issubclass(cls, APIStatusError):
        # a 503 or 529 may say when to come back as well as a 429
        return cls(message, retry_after=parse_retry_after(headers), **kwargs)
    return cls(message, **kwargs)


def retry_after_of(error: ProviderError) -> float | None:
    return error.retry_after if isinstance(error, APIStatusError) else None
