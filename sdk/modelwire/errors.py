"""The error hierarchy, rooted at `ProviderError`.

Every error says which provider raised it, the HTTP status and request id when there was
a response, the provider's own message, and whether retrying could help. Errors raised
during a stream carry `partial`: everything received before the failure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import ValidationError

    from .types import BatchJob, CompletionResponse, FallbackAttempt, RateLimits


class ProviderError(Exception):
    """Base of every error modelwire raises.

    Its attributes say what is known: `provider` (the spec's name), `status_code` and
    `request_id` (when a response arrived), `error_type` and `error_code` (from the
    provider's error body, which is `body`), `retryable` (whether retrying could help),
    `partial` (for a failed stream: the `CompletionResponse` of everything received before
    the failure) and `attempts` (how many times the call was tried).
    """

    retryable: bool = False
    # what the response's headers said of the rate limits (None when no response came)
    rate_limits: RateLimits | None = None
    # every client a fallback chain tried, this error's own attempt last (see fallback())
    fallback_attempts: tuple[FallbackAttempt, ...] = ()

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        status_code: int | None = None,
        request_id: str | None = None,
        error_type: str | None = None,
        error_code: str | None = None,
        body: Any = None,
        retryable: bool | None = None,
        partial: CompletionResponse | None = None,
        attempts: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status_code = status_code
        self.request_id = request_id
        self.error_type = error_type
        self.error_code = error_code
        self.body = body
        if retryable is not None:
            self.retryable = retryable
        self.partial = partial
        self.attempts = attempts

    def __str__(self) -> str:
        where = []
        if self.provider:
            where.append(self.provider)
        if self.status_code is not None and not isinstance(self, StreamError):
            # a stream fails after its 200 head: the status would only mislead
            where.append(str(self.status_code))
        if self.request_id:
            where.append(f"request id {self.request_id}")
        prefix = f"[{', '.join(where)}] " if where else ""
        return prefix + self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


# --------------------------------------------------------------------------- before any I/O


class RequestValidationError(ProviderError, ValueError):
    """The request is wrong and was not sent; the message says what to change."""


class CapabilityError(RequestValidationError):
    """The provider or model cannot do what was asked (images, embeddings, tools, ...)."""


class InsecureTransportError(RequestValidationError):
    """A key would have been sent over plain http to a host that is not loopback."""


class ClientClosedError(ProviderError, RuntimeError):
    """A call on a client that was closed; nothing was sent."""


class ConfigurationError(ProviderError):
    """The client is misconfigured (e.g. a missing API key)."""


class SpecError(ConfigurationError):
    """A provider spec is invalid; the message names the file and the key."""


class LimitExceededError(RequestValidationError):
    """The request can never pass the client's limits (its estimated tokens exceed the
    tokens per minute); the message says which figure to change."""


class LimiterUnavailableError(ProviderError):
    """The shared limiter's store (Redis) did not answer in time; nothing was sent. Its
    `__cause__` is the store's own error."""

    retryable = True


# --------------------------------------------------------------------------- HTTP status


class UnexpectedResponseError(ProviderError):
    """A successful response whose body does not have the shape its API documents."""


class APIStatusError(ProviderError):
    """The provider answered with an error status.

    `retry_after`: the seconds the server asked to wait (Retry-After or retry-after-ms),
    which a retry honours; None when it did not say.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class BadRequestError(APIStatusError):
    """HTTP 400: the provider refused the request as malformed or invalid."""


class ContextLengthExceededError(BadRequestError):
    """The prompt (with `max_tokens`) does not fit the model's context window: a 400 that
    the spec's error mapping recognises by the provider's error code or message."""


class ContentFilterError(BadRequestError):
    """The provider's content filter refused the prompt (Azure OpenAI's
    `content_filter` code): rephrase it, or change the deployment's filter policy."""


class AuthenticationError(APIStatusError):
    """HTTP 401: the API key is missing, wrong or revoked."""


class TokenProviderError(AuthenticationError):
    """The client's token provider (`Auth.token`) failed or gave no token; nothing was
    sent."""


class PermissionDeniedError(APIStatusError):
    """HTTP 403: the key is valid but may not use this model or endpoint."""


class NotFoundError(APIStatusError):
    """HTTP 404: no such model or endpoint (is the base URL the API's, e.g. with `/v1`?)."""


class ConflictError(APIStatusError):
    """HTTP 409: the request conflicts with the provider's state; retried by default."""

    retryable = True


class RequestTooLargeError(APIStatusError):
    """HTTP 413: the request body is larger than the provider accepts."""


class UnprocessableEntityError(APIStatusError):
    """HTTP 422: the request is well-formed but the provider cannot process it."""


class RateLimitError(APIStatusError):
    """HTTP 429: too many requests or tokens; retried, honouring `retry_after`."""

    retryable = True


class ServerError(APIStatusError):
    """HTTP 5xx: the provider failed; retried for the spec's `retry_statuses` (500, 502,
    503, 504 by default). `InternalServerError` is the same class."""

    retryable = True


InternalServerError = ServerError


class OverloadedError(ServerError):
    """The provider is overloaded (Anthropic's 529 or `overloaded_error`); retried."""

    retryable = True


# --------------------------------------------------------------------------- transport


class APIConnectionError(ProviderError):
    """The connection could not be made, or broke before a whole response arrived (a
    stream that breaks later raises `StreamInterruptedError`)."""

    retryable = True


class APITimeoutError(APIConnectionError):
    """A call timed out outside a stream: connecting, sending, waiting for or reading the
    response (`Timeout.read`), or past the `total` deadline; the message says which."""

    retryable = True


# --------------------------------------------------------------------------- provider batches


class BatchTimeoutError(ProviderError, TimeoutError):
    """`client.batches.wait()` gave up: the job had not ended within its `timeout`. The
    job goes on at the provider; `job` is how it was last seen (wait again, or cancel)."""

    def __init__(self, message: str, *, job: BatchJob, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.job = job


class BatchItemError(ProviderError):
    """One request of a provider's batch job did not succeed (the others are unaffected).

    `error_type` is the provider's error type, or `canceled` / `expired` for a request
    that never ran; `status_code` is the HTTP status the request got, where the provider
    says; `body` is the provider's error entry."""


# --------------------------------------------------------------------------- mid-stream


class StreamError(ProviderError):
    """A stream failed after it started; `partial` holds what arrived before."""


class StreamInterruptedError(StreamError):
    """The stream ended (or the connection broke) before its terminal event."""


class StreamTimeoutError(StreamError):
    """No stream event arrived within the idle timeout."""


class StreamIncompleteError(StreamError):
    """`accumulate()` was asked for the whole answer of a stream that cannot give it any
    more: it was closed, its reading was cancelled or interrupted, or it had already
    failed. `partial` (like `snapshot()`) holds what arrived."""


class StreamEventError(StreamError):
    """The provider sent an error event in the middle of the stream."""


class StreamDecodeError(StreamError):
    """A stream event could not be decoded (invalid JSON, not UTF-8, ...)."""


class LineTooLongError(StreamDecodeError):
    """A single SSE line or NDJSON record exceeded the configured limit."""


class ResponseFailedError(ProviderError):
    """The provider took the request but reported that producing the answer failed (the
    Responses API's `failed` status); `error_code` and the message are the provider's."""


class OutputValidationError(ProviderError):
    """The model's structured output does not validate against the requested schema."""

    def __init__(self, message: str, *, raw_output: str = "", **kw: Any) -> None:
        super().__init__(message, **kw)
        self.raw_output = raw_output


ERROR_CLASSES: dict[str, type[ProviderError]] = {
    cls.__name__: cls
    for cls in (
        BadRequestError,
        ContextLengthExceededError,
        ContentFilterError,
        AuthenticationError,
        PermissionDeniedError,
        NotFoundError,
        ConflictError,
        RequestTooLargeError,
        UnprocessableEntityError,
        RateLimitError,
        ServerError,
        OverloadedError,
        APIStatusError,
    )
}
"""Error classes a spec may name in its error mapping."""


def error_fields(body: Any) -> tuple[str | None, str | None, str | None]:
    """(message, type, code) from the error bodies providers send: the one reader of
    them, for error statuses and for errors sent mid-stream alike."""
    if not isinstance(body, dict):
        return None, None, None
    error = body.get("error", body)
    if isinstance(error, str):
        return error, None, None
    if not isinstance(error, dict):
        return None, None, None
    message = error.get("message") or body.get("message")
    # Google's APIs name the kind of error `status` (RESOURCE_EXHAUSTED, ...), not `type`
    etype = error.get("type")
    if etype is None and isinstance(error.get("status"), str):
        etype = error["status"]
    code = error.get("code")
    return (
        str(message) if message is not None else None,
        str(etype) if etype is not None else None,
        str(code) if code is not None else None,
    )


# --------------------------------------------------------------------------- cost


class CostUnknownError(ProviderError, LookupError):
    """`modelwire.cost.estimate()` cannot price a response: its model or provider is not in
    the price table, or it reported no usage. Never a guess."""


def _union_branch(part: str) -> bool:
    # pydantic names each branch of a union in the location: `float`, `Timeout`, `str`,
    # `function-after[...]`; the field names of a request are lower-case words
    return part[:1].isupper() or "[" in part or part in ("float", "int", "str", "bool")


def _branch(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """The location up to the innermost union branch in it (empty: in no union)."""
    for i in range(len(loc) - 1, -1, -1):
        if _union_branch(str(loc[i])):
            return loc[: i + 1]
    return ()


def _matching_branches(items: list[Any]) -> list[Any]:
    """Leaves out the union branches whose `type` tag is not the one given (a part of
    type "image" is no TextPart): what is left is what the caller meant."""
    mismatched = {
        _branch(item["loc"])
        for item in items
        if item["type"] == "literal_error" and item["loc"][-1:] == ("type",)
    } - {()}
    kept = [item for item in items if _branch(item["loc"]) not in mismatched]
    return kept or items


def validation_problems(error: ValidationError, subject: str = "request") -> str:
    """pydantic's report in a line or two: each field once (the first three), with what was
    given; `subject` names the whole when the problem is at the top. A field whose parts
    are reported too is left to them (the deeper finding says more)."""
    items = _matching_branches(error.errors(include_url=False))
    seen: dict[str, str] = {}
    for item in items:
        # a union reports every branch: keep the first word on each field
        where = ".".join(str(p) for p in item["loc"] if not _union_branch(str(p)))
        if where in seen:
            continue
        message = item["msg"].removeprefix("Value error, ")
        given = item.get("input")
        shown = "" if isinstance(given, (dict, list)) else f" (given {given!r:.40})"
        prefix = f"{where or subject}: " if where or subject else ""
        seen[where] = f"{prefix}{message}{shown}"
    deepest = [
        line
        for where, line in seen.items()
        if not any(other.startswith(f"{where}.") for other in seen if where)
    ]
    return "; ".join(deepest[:3])
