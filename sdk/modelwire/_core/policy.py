"""What a provider's answers mean, as pure functions: auth headers and URLs going out;
request ids, Retry-After and the typed error of an error status coming back."""

from __future__ import annotations

import base64
import json
import math
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit, urlunsplit

from ..auth import Auth, TokenProvider
from ..errors import (
    ERROR_CLASSES,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    ProviderError,
    RateLimitError,
    RequestTooLargeError,
    ServerError,
    StreamEventError,
    UnprocessableEntityError,
    error_fields,
)
from ..spec import ProviderSpec
from ..types import NO_RATE_LIMITS, RateLimit, RateLimits

# --------------------------------------------------------------------------- going out


def redact(value: str | None) -> str:
    if not value:
        return "<unset>"
    return "<redacted>"


# a header whose name says it carries a credential: its value is a secret wherever it
# came from (the spec's auth, a setting, default_headers, extra_headers)
_SECRET_HEADER = re.compile(r"auth|key|token|secret|password|cookie|session", re.IGNORECASE)


def is_secret_header(name: str) -> bool:
    return _SECRET_HEADER.search(name) is not None


class Secrets(tuple[str, ...]):
    """The credentials to redact; its repr shows how many, never one."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Secrets({len(self)} redacted)"


NO_SECRETS = Secrets()


class CallSecrets(Sequence[str]):
    """One call's secrets, which grow by each token a token provider hands out for it (one
    per attempt): the call flow redacts them all from what the server says back."""

    __slots__ = ("_values",)

    def __init__(self, values: Iterable[str]) -> None:
        self._values = secrets_of(values)

    def add(self, token: str) -> None:
        self._values = secrets_of([*self._values, token])

    def __getitem__(self, index: Any) -> Any:
        return self._values[index]

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"CallSecrets({len(self)} redacted)"


def secrets_of(values: Iterable[str | None]) -> Secrets:
    """The secrets to redact, longest first (so that a secret containing another is
    replaced whole); an `Authorization` value counts both whole and without its scheme."""
    found: set[str] = set()
    for value in values:
        if not value:
            continue
        found.add(value)
        scheme, _, credential = value.partition(" ")
        if credential.strip() and scheme.lower() in ("bearer", "basic", "token"):
            found.add(credential.strip())
    return Secrets(sorted(found, key=len, reverse=True))


REDACTED = "<redacted>"


class Headers(dict[str, str]):
    """Headers whose repr shows every name and no credential (a traceback that captures
    locals, a debugger, a log of a local all use the repr)."""

    __slots__ = ()

    def __repr__(self) -> str:
        shown = (f"{k!r}: {REDACTED if is_secret_header(k) else repr(v)}" for k, v in self.items())
        return "Headers({" + ", ".join(shown) + "})"


def scrub(value: Any, secrets: Sequence[str]) -> Any:
    """`value` with every secret replaced by "<redacted>": in a string, and in the keys and
    values of dicts and lists at any depth (a peer's body may echo what it was sent)."""
    if not secrets:
        return value
    # an explicit stack, not recursion: a peer's body may be nested very deep
    if isinstance(value, str):
        return _scrub_text(value, secrets)
    if not isinstance(value, (dict, list)):
        return value
    root: list[Any] = [value]
    stack: list[tuple[Any, Any, Any]] = [(root, 0, value)]
    while stack:
        parent, key, item = stack.pop()
        if isinstance(item, str):
            parent[key] = _scrub_text(item, secrets)
        elif isinstance(item, dict):
            copy: dict[Any, Any] = {}
            for k, v in item.items():
                k = _scrub_text(k, secrets) if isinstance(k, str) else k
                copy[k] = v
                stack.append((copy, k, v))
            parent[key] = copy
        elif isinstance(item, list):
            items = list(item)
            parent[key] = items
            stack.extend((items, i, v) for i, v in enumerate(items))
    return root[0]


# a secret this long is replaced wherever it appears; a shorter one (a test key, a short
# password) only where it stands alone, so that "k" does not redact every "key"
_ANYWHERE = 8


def _scrub_text(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret not in text:
            continue
        if len(secret) >= _ANYWHERE:
            text = text.replace(secret, REDACTED)
        else:
            text = re.sub(rf"(?<![\w]){re.escape(secret)}(?![\w])", REDACTED, text)
    return text


def scrub_error(error: ProviderError, secrets: Sequence[str]) -> ProviderError:
    """`error` with no secret left in what it says: its message, `.body` and arguments."""
    if not secrets:
        return error
    error.message = _scrub_text(error.message, secrets)
    error.args = tuple(scrub(arg, secrets) for arg in error.args)
    if error.body is not None:
        error.body = scrub(error.body, secrets)
    raw_output = getattr(error, "raw_output", None)
    if isinstance(raw_output, str):
        error.raw_output = _scrub_text(raw_output, secrets)  # type: ignore[attr-defined]
    return error


@dataclass(frozen=True, slots=True)
class Credential:
    """Where a client's credential goes (a header, with its scheme, or a query parameter)
    and what it is: a static key, or a token provider called before every attempt."""

    header: str | None
    scheme: str | None
    query: str | None
    key: str | None = field(default=None, repr=False)
    provider: TokenProvider | None = field(default=None, repr=False)

    @property
    def per_attempt(self) -> bool:
        """Whether the driver adds it to each attempt as it sends it: a token (fetched
        then), or a key in the URL (kept out of the URL that logs and hooks see)."""
        return self.provider is not None or (self.query is not None and bool(self.key))

    def headers(self, value: str | None) -> dict[str, str]:
        """The header that carries `value` (none for a query credential or no value)."""
        if not value or self.header is None:
            return {}
        return {self.header: f"{self.scheme} {value}" if self.scheme else value}

    def apply(
        self, url: str, headers: Mapping[str, str], value: str
    ) -> tuple[str, Mapping[str, str]]:
        """The URL and headers of one attempt, carrying `value`."""
        if self.query is not None:
            return add_query(url, {self.query: value}), headers
        sent = Headers(headers)
        sent.update(self.headers(value))
        return url, sent


def credential_for(spec: ProviderSpec, auth: Auth | None, api_key: str | None) -> Credential:
    """The spec's placement of the key, unless `auth` names another (or a token provider)."""
    if auth is not None:
        return Credential(auth.header, auth.scheme, auth.query, api_key, auth.token_provider)
    kind = spec.auth.type
    if kind == "bearer":
        return Credential("Authorization", "Bearer", None, api_key)
    if kind == "header":
        return Credential(spec.auth.header, None, None, api_key)
    if kind == "query":
        return Credential(None, None, spec.auth.param, api_key)
    return Credential(None, None, None)


def auth_headers(spec: ProviderSpec, api_key: str | None) -> dict[str, str]:
    """The headers that carry `api_key` where the spec puts it."""
    if spec.auth.type == "none":
        return {}
    return credential_for(spec, None, api_key).headers(api_key)


def add_query(url: str, params: Mapping[str, str]) -> str:
    """`url` with `params` added to its query string."""
    if not params:
        return url
    return url + ("&" if "?" in url else "?") + urlencode(params)


def split_userinfo(url: str) -> tuple[str, str | None, str | None]:
    """`url` without its `user:password@` part, and the (percent-decoded) user and
    password it held (None when it held none)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None, None
    host = parts.netloc.rpartition("@")[2]
    bare = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    user = unquote(parts.username or "")
    password = None if parts.password is None else unquote(parts.password)
    return bare, user, password


def basic_auth(user: str, password: str | None) -> str:
    """The `Authorization` value of HTTP Basic auth (RFC 7617, UTF-8)."""
    token = base64.b64encode(f"{user}:{password or ''}".encode()).decode("ascii")
    return f"Basic {token}"


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
    """An error body as JSON, else as text (also when it nests too deep to decode)."""
    try:
        return json.loads(content)
    except (ValueError, RecursionError):
        return content.decode("utf-8", "replace")


def error_from_response(
    spec: ProviderSpec,
    status: int,
    headers: Mapping[str, str],
    content: bytes,
    *,
    body: Any = None,
    attempts: int | None = None,
    secrets: Sequence[str] = (),
    hint: str | None = None,
) -> ProviderError:
    """The typed error for an error status, mapped by the spec's rules first; no secret
    the server echoes (`secrets`) is left in its message or body. A `hint` (what to
    change, as the caller can tell it) ends the message."""
    if body is None:
        body = decode_body(content)
    body = scrub(body, secrets)
    message, etype, code = error_fields(body)
    if etype is None:
        etype = error_type_from(spec, body, headers)
    if message is None:
        text = body if isinstance(body, str) else _json_preview(body)
        message = text.strip()[:500] or f"HTTP {status} with an empty body"
    if hint:
        message = f"{message}; {hint}"
    cls, retryable = _mapped(spec, status, etype, code, message)
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
    error: ProviderError
    if issubclass(cls, APIStatusError):
        # a 503 or 529 may say when to come back as well as a 429
        error = cls(message, retry_after=parse_retry_after(headers), **kwargs)
    else:
        error = cls(message, **kwargs)
    error.rate_limits = parse_rate_limits(headers)
    return error


def _mapped(
    spec: ProviderSpec, status: int | None, etype: str | None, code: str | None, message: str
) -> tuple[type[ProviderError] | None, bool | None]:
    """The error class (and retryability, when the rule says) of the spec's first error
    rule that matches; (None, None) when none does."""
    for rule in spec.errors:
        if rule.status is not None and rule.status != status:
            continue
        if rule.type is not None and rule.type != etype:
            continue
        if rule.code is not None and rule.code != code:
            continue
        if rule.message_contains is not None and rule.message_contains not in message:
            continue
        return ERROR_CLASSES[rule.error], rule.retryable
    return None, None


# the error types providers send in a stream for what would otherwise be an error status
_EVENT_TYPE_CLASSES: dict[str, type[APIStatusError]] = {
    "overloaded_error": OverloadedError,  # Anthropic
    "rate_limit_error": RateLimitError,  # Anthropic
    "rate_limit_exceeded": RateLimitError,  # OpenAI
    "api_error": ServerError,  # Anthropic
    "server_error": ServerError,  # OpenAI
}


def error_from_stream_event(
    spec: ProviderSpec, event: StreamEventError, headers: Mapping[str, str]
) -> ProviderError:
    """The error a stream's first event reported, typed as its status-code twin would be
    (Anthropic's `overloaded_error` is an `OverloadedError`, OpenRouter's `{"error":
    {"code": 502}}` a `ServerError`), so that the call flow retries it the same way; the
    `StreamEventError` itself when it names no such fault."""
    status = _status_in(event.error_code)
    cls, retryable = _mapped(spec, status, event.error_type, event.error_code, event.message)
    if cls is None:
        cls = _EVENT_TYPE_CLASSES.get(event.error_type or "")
    if cls is None and status is not None:
        cls = _STATUS_CLASSES.get(status) or (ServerError if status >= 500 else None)
    if cls is None:
        return event
    if retryable is None:
        retryable = cls.retryable if status is None else status in spec.retry_statuses
    kwargs: dict[str, Any] = {
        "provider": spec.name,
        "status_code": status,
        "request_id": request_id_from(spec, headers),
        "error_type": event.error_type,
        "error_code": event.error_code,
        "body": event.body,
        "retryable": retryable,
    }
    if issubclass(cls, APIStatusError):
        error: ProviderError = cls(event.message, retry_after=parse_retry_after(headers), **kwargs)
    else:
        error = cls(event.message, **kwargs)
    error.rate_limits = parse_rate_limits(headers)
    return error


def _status_in(code: str | None) -> int | None:
    # OpenRouter puts the HTTP status it would have sent in the error's `code`
    if code is not None and code.isdigit() and 400 <= int(code) <= 599:
        return int(code)
    return None


def should_retry_header(headers: Mapping[str, str]) -> bool | None:
    """What the server's `x-should-retry` header says (true or false), which overrides
    the status, as openai-python and anthropic-sdk-python honour it; None without one."""
    value = headers.get("x-should-retry", "").strip().lower()
    if value == "true":
        return True
    if value == "false":
        return False
    return None


# --------------------------------------------------------------------------- rate limits

# a header's name for each RateLimits window: OpenAI, Groq and OpenRouter's
# x-ratelimit-{limit,remaining,reset}-<window>, Anthropic's
# anthropic-ratelimit-<window>-{limit,remaining,reset}
_WINDOWS = ("requests", "tokens", "input-tokens", "output-tokens")

# Go's duration form, as OpenAI and Groq send resets: "6m0s", "1s", "20ms", "1h2m3.5s"
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def parse_duration(value: str) -> float | None:
    """Seconds from a duration such as "6m0s", "1s", "20ms" or a plain number of seconds;
    None for anything else, or for a duration that is not finite."""
    text = value.strip()
    try:
        return _finite_seconds(float(text))
    except ValueError:
        pass
    if not text or _DURATION.sub("", text):
        return None  # something besides number-unit pairs
    total = sum(float(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION.findall(text))
    return _finite_seconds(total)


def _reset_seconds(value: str, now: float) -> float | None:
    """A reset as a duration (OpenAI, Groq), epoch milliseconds (OpenRouter) or an RFC
    3339 time (Anthropic), as seconds from `now`."""
    seconds = parse_duration(value)
    if seconds is not None:
        # OpenRouter sends the reset as an epoch time in milliseconds
        return max(seconds / 1000.0 - now, 0.0) if seconds > 1e11 else seconds
    from datetime import datetime

    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    return _finite_seconds(max(when.timestamp() - now, 0.0))


def _count(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return int(number) if math.isfinite(number) and number >= 0 else None


def parse_rate_limits(headers: Mapping[str, str], now: float | None = None) -> RateLimits:
    """Every provider's rate-limit headers as one `RateLimits`; a header that is absent,
    unreadable or not finite leaves its field None, and nothing here raises. `now` (a
    Unix time, default the clock) is what an absolute reset is measured from."""
    get = headers.get
    if not any(name.lower().startswith(_RATE_LIMIT_PREFIXES) for name in headers):
        return NO_RATE_LIMITS
    clock = time.time() if now is None else now
    windows: dict[str, RateLimit] = {}
    for window in _WINDOWS:
        openai = f"x-ratelimit-{{}}-{window}"
        anthropic = f"anthropic-ratelimit-{window}-{{}}"
        limit = get(openai.format("limit")) or get(anthropic.format("limit"))
        remaining = get(openai.format("remaining")) or get(anthropic.format("remaining"))
        reset = get(openai.format("reset")) or get(anthropic.format("reset"))
        if window == "requests":
            # OpenRouter's own form: x-ratelimit-{limit,remaining,reset}, reset in epoch ms
            limit = limit or get("x-ratelimit-limit")
            remaining = remaining or get("x-ratelimit-remaining")
            reset = reset or get("x-ratelimit-reset")
        windows[window.replace("-", "_")] = RateLimit(
            limit=_count(limit),
            remaining=_count(remaining),
            reset_after=None if reset is None else _reset_seconds(reset, clock),
        )
    return RateLimits(retry_after=parse_retry_after(headers), **windows)


_RATE_LIMIT_PREFIXES = ("x-ratelimit-", "anthropic-ratelimit-", "retry-after")


def error_type_from(spec: ProviderSpec, body: Any, headers: Mapping[str, str]) -> str | None:
    """The error type a body without `type` names elsewhere: AWS's `__type` or the spec's
    `error_type_header` (each `Name:namespace` or `namespace#Name`: the name alone)."""
    value = body.get("__type") if isinstance(body, dict) else None
    if not isinstance(value, str) and spec.error_type_header:
        value = headers.get(spec.error_type_header.lower()) or headers.get(spec.error_type_header)
    if not isinstance(value, str) or not value:
        return None
    return value.partition(":")[0].rpartition("#")[2] or None


def _json_preview(body: Any) -> str:
    try:
        return json.dumps(body)[:500]
    except (ValueError, RecursionError):
        return "(a JSON body nested too deep to show)"


def retry_after_of(error: ProviderError) -> float | None:
    return error.retry_after if isinstance(error, APIStatusError) else None
