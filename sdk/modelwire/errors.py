"""The error hierarchy, rooted at `ProviderError`.

Every error says which provider raised it, the HTTP status and request id when there was
a response, the provider's own message, and whether retrying could help. Errors raised
during a stream carry `partial`: everything received before the failure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .types import CompletionResponse


class ProviderError(Exception):
    """Base of every error modelwire raises."""

    retryable: bool = False

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


class ConfigurationError(ProviderError):
    """The client is misconfigured (e.g. a missing API key)."""


class SpecError(ConfigurationError):
    """A provider spec is invalid; the message names the file and the key."""


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
    pass


class ContextLengthExceededError(BadRequestError):
    pass


class ContentFilterError(BadRequestError):
    """The provider's content filter refused the prompt (Azure OpenAI's
    `content_filter` code): rephrase it, or change the deployment's filter policy."""


class AuthenticationError(APIStatusError):
    pass


class TokenProviderError(AuthenticationError):
    """The client's token provider (`Auth.token`) failed or gave no token; nothing was
    sent."""


class PermissionDeniedError(APIStatusError):
    pass


class NotFoundError(APIStatusError):
    pass


class ConflictError(APIStatusError):
    retryable = True


class RequestTooLargeError(APIStatusError):
    pass


class UnprocessableEntityError(APIStatusError):
    pass


class RateLimitError(APIStatusError):
    retryable = True


class ServerError(APIStatusError):
    retryable = True


InternalServerError = ServerError


class OverloadedError(ServerError):
    retryable = True


# --------------------------------------------------------------------------- transport


class APIConnectionError(ProviderError):
    """The connection could not be made or broke before a response head arrived."""

    retryable = True


class APITimeoutError(APIConnectionError):
    retryable = True


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
