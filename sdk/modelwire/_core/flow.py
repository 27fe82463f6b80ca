"""The call flow: every attempt of one call, written once as a generator that the sync and
async drivers run.

As in httpx's `auth_flow`, the flow says what to do next and is told what happened: it
yields `Send`, `Read`, `Close` or `Sleep` and receives a `Head`, a piece of the body (b""
at its end) or `Broken` (the transport failed). Deadlines, retry decisions, Retry-After,
hooks, logging and the context of every error live here, so sync and async cannot drift
and the flow is tested without a socket. The drivers in `_client/` only do the I/O.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from ..errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ProviderError,
    StreamEventError,
    error_fields,
)
from ..hooks import ErrorEvent, Hooks, RequestEvent, ResponseEvent, RetryEvent
from ..spec import ProviderSpec
from ..types import Timeout
from .calls import HTTPCall
from .policy import (
    Headers,
    error_from_response,
    error_from_stream_event,
    request_id_from,
    retry_after_of,
    scrub_error,
    should_retry_header,
)
from .stream import StreamOpening

# sent on every attempt, 0 on the first: the server (and its logs) can tell a retry of a
# request from a new one, as the official SDKs' `x-stainless-retry-count` lets it
RETRY_COUNT_HEADER = "X-Modelwire-Retry-Count"

logger = logging.getLogger("modelwire")

# --------------------------------------------------------------------------- what is said


@dataclass(frozen=True, slots=True)
class Phases:
    """The transport's timeouts for one attempt, in seconds (None: no limit)."""

    connect: float | None
    read: float | None
    write: float | None
    pool: float | None


@dataclass(frozen=True, slots=True)
class Send:
    """Send this request; answer with its `Head`, or `Broken` when no head arrived."""

    method: str
    url: str
    headers: Mapping[str, str] = field(repr=False)  # the credentials among them
    content: bytes | None = field(repr=False)
    timeout: Phases


class Read:
    """Read the next piece of the body; answer with it (b"" at the end) or `Broken`."""

    __slots__ = ()


class Close:
    """Release the response; answer with None."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait before the next attempt; answer with None."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Head:
    """A response's status line and headers."""

    status: int
    headers: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Broken:
    """The transport failed: it timed out, or the connection could not be made or broke."""

    timed_out: bool
    detail: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """A good response: its head, its body and how many attempts it took. A stream is
    left open: `content` is what was read of it before its first content (the stream
    reads it first), and `broken` the transport failure that stopped that reading."""

    status: int
    headers: Mapping[str, str]
    content: bytes
    attempts: int
    request_id: str | None
    broken: Broken | None = None


READ = Read()
CLOSE = Close()
Command = Send | Read | Close | Sleep
Reply = Head | Broken | bytes | None
Flow = Generator[Command, Reply, Outcome]


# --------------------------------------------------------------------------- the flow


def phases(timeout: Timeout, *, stream: bool, remaining: float | None) -> Phases:
    """An attempt's timeouts: a stream waits `stream_idle` between reads; a whole call
    lets no single phase outlast what is left of its total."""
    read = timeout.stream_idle if stream else timeout.read
    connect, write = timeout.connect, timeout.write
    if remaining is not None and not stream:
        read, connect, write = (
            remaining if cap is None else min(cap, remaining) for cap in (read, connect, write)
        )
    return Phases(connect=connect, read=read, write=write, pool=connect)


def call_flow(
    call: HTTPCall,
    spec: ProviderSpec,
    hooks: Hooks,
    clock: Callable[[], float] = time.monotonic,
    opening: Callable[[], StreamOpening] | None = None,
) -> Flow:
    """Sends `call` until it succeeds or gives up; returns the good response, or raises the
    typed error of the last attempt. A stream is retried only before its first content:
    with `opening`, its first reads are held back until content arrives, and a first
    event that reports an error is retried as its status-code twin would be (without
    `opening`, the flow returns at the head)."""
    provider = spec.name
    started = clock()
    total = None if call.stream else call.timeout.total
    deadline = None if total is None else started + total
    attempt = 0
    while True:
        attempt += 1
        remaining = None if deadline is None else deadline - clock()
        if remaining is not None and remaining <= 0:
            raise _gave_up(
                call,
                hooks,
                provider,
                APITimeoutError(
                    f"the request took longer than its total timeout ({total}s)",
                    provider=provider,
                    attempts=attempt - 1,
                ),
            )
        if hooks.on_request is not None:
            hooks.on_request(
                RequestEvent(provider, call.method, call.url, call.model, call.stream, attempt)
            )
        reply = yield Send(
            call.method,
            call.url,
            _with_retry_count(call.headers, attempt),
            call.content,
            phases(call.timeout, stream=call.stream, remaining=remaining),
        )
        error: ProviderError
        head: Head | None = None
        if isinstance(reply, Broken):
            error = _broken(
                reply,
                f"timed out talking to {call.url}",
                f"could not reach {call.url}",
                provider,
                attempt,
            )
        else:
            assert isinstance(reply, Head)
            head = reply
            # a stream answered with JSON instead of events is an error body under a 200
            json_for_stream = call.stream and reply.status < 300 and _json_for_events(spec, reply)
            read: bytes | ProviderError
            if reply.status < 300 and call.stream and not json_for_stream:
                if opening is None:
                    return _succeeded(call, spec, hooks, reply, b"", attempt, clock() - started)
                opened = yield from _open_stream(opening(), spec, reply, attempt)
                if isinstance(opened, StreamOpening):
                    outcome = _succeeded(
                        call, spec, hooks, reply, opened.held, attempt, clock() - started
                    )
                    if opened.broken is not None:
                        outcome = replace(outcome, broken=Broken(*opened.broken))
                    return outcome
                read = opened
            else:
                read = yield from _read_body(call, provider, attempt, deadline, clock)
            if isinstance(read, ProviderError):
                error = read
            elif json_for_stream:
                error = _json_stream_error(spec, reply, read, attempt)
            elif reply.status < 300:
                return _succeeded(call, spec, hooks, reply, read, attempt, clock() - started)
            else:
                error = _status_error(call, spec, reply, read, attempt)
            read = b""  # what the peer said is in the error now, redacted; not in a local
        error = scrub_error(error, call.secrets)
        if head is not None and (told := should_retry_header(head.headers)) is not None:
            error.retryable = told  # the server's word wins over its status
        delay = call.retry.delay(attempt, retry_after_of(error)) if error.retryable else None
        if delay is not None and deadline is not None and clock() + delay >= deadline:
            error = APITimeoutError(
                f"the request took longer than its total timeout ({total}s); the last "
                f"attempt failed with {type(error).__name__}: {error}",
                provider=provider,
                request_id=error.request_id,
                attempts=attempt,
            )
            delay = None
        if delay is None:
            raise _gave_up(call, hooks, provider, error)
        logger.info(
            "retrying %s %s in %.2fs after %s (attempt %d)",
            call.method,
            call.url,
            delay,
            type(error).__name__,
            attempt,
        )
        if hooks.on_retry is not None:
            hooks.on_retry(RetryEvent(provider, call.method, call.url, attempt, delay, error))
        yield Sleep(delay)


def _with_retry_count(headers: Mapping[str, str], attempt: int) -> Mapping[str, str]:
    if any(name.lower() == "x-modelwire-retry-count" for name in headers):
        return headers  # the caller's own, as given
    sent = Headers(headers)
    sent[RETRY_COUNT_HEADER] = str(attempt - 1)
    return sent


def _read_body(
    call: HTTPCall,
    provider: str,
    attempt: int,
    deadline: float | None,
    clock: Callable[[], float],
) -> Generator[Command, Reply, bytes | ProviderError]:
    """The whole body, read piece by piece so that a slow one still ends at `deadline`;
    the response is closed either way."""
    parts: list[bytes] = []
    while True:
        piece = yield READ
        if isinstance(piece, Broken):
            yield CLOSE
            return _broken(
                piece,
                f"timed out reading the response from {call.url}",
                f"the connection broke while reading {call.url}",
                provider,
                attempt,
            )
        if not piece:
            yield CLOSE
            return b"".join(parts)
        assert isinstance(piece, bytes)
        parts.append(piece)
        if deadline is not None and clock() > deadline:
            yield CLOSE
            return APITimeoutError(
                f"reading the response from {call.url} took longer than the total timeout "
                f"({call.timeout.total}s)",
                provider=provider,
                attempts=attempt,
            )


def _open_stream(
    opening: StreamOpening, spec: ProviderSpec, head: Head, attempt: int
) -> Generator[Command, Reply, StreamOpening | ProviderError]:
    """Reads a 200 stream until its first content: the opening to hand to the caller, or
    the typed error its first event reported (the response closed), to be retried like
    the same fault sent as a status. Any other failure is the stream's to raise, with
    its context, when the caller reads it."""
    while True:
        piece = yield READ
        if isinstance(piece, Broken):
            opening.broken = (piece.timed_out, piece.detail)
            return opening
        assert isinstance(piece, bytes)
        if not piece:
            return opening
        try:
            if opening.feed(piece):
                return opening
        except StreamEventError as exc:
            error = error_from_stream_event(spec, exc, head.headers)
            if error is exc:
                return opening
            yield CLOSE
            error.attempts = attempt
            return error
        except ProviderError:
            return opening


def _broken(
    reply: Broken, timed_out: str, failed: str, provider: str, attempt: int
) -> ProviderError:
    if reply.timed_out:
        return APITimeoutError(f"{timed_out}: {reply.detail}", provider=provider, attempts=attempt)
    return APIConnectionError(f"{failed}: {reply.detail}", provider=provider, attempts=attempt)


def _status_error(
    call: HTTPCall, spec: ProviderSpec, head: Head, content: bytes, attempt: int
) -> ProviderError:
    if head.status < 400:
        location = head.headers.get("location", "?")
        return APIStatusError(
            f"{call.url} redirected ({head.status}) to {location}; credentials are never "
            "forwarded on a redirect: set base_url to the final address",
            provider=spec.name,
            status_code=head.status,
            request_id=request_id_from(spec, head.headers),
            retryable=False,
            attempts=attempt,
        )
    return error_from_response(
        spec,
        head.status,
        head.headers,
        content,
        attempts=attempt,
        secrets=call.secrets,
        hint=_missing_version_hint(call, spec) if head.status == 404 else None,
    )


def _missing_version_hint(call: HTTPCall, spec: ProviderSpec) -> str | None:
    """A 404 from a base URL without the `/v1` that the provider's own URL has: the
    commonest slip with OpenAI-compatible servers (`http://localhost:8080` for `.../v1`)."""
    wanted = "v1" in urlsplit(spec.base_url).path.split("/")
    if not wanted or "v1" in urlsplit(call.url).path.split("/"):
        return None
    return (
        f"the base URL has no /v1, which {spec.display_name}'s API is under: try a base_url "
        "ending in /v1"
    )


def _json_for_events(spec: ProviderSpec, head: Head) -> bool:
    """An SSE or event-stream head that announces a JSON body: no event will come."""
    if spec.stream_format == "ndjson":
        return False  # NDJSON records are JSON: an error among them is the parser's to read
    media = head.headers.get("content-type", "").partition(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _json_stream_error(
    spec: ProviderSpec, head: Head, content: bytes, attempt: int
) -> ProviderError:
    """The server's own error (message, type, code, body) from a JSON body that came in
    place of a stream, typed by the spec's rules like any error body."""
    error = error_from_response(spec, head.status, head.headers, content, attempts=attempt)
    if error_fields(error.body)[0] is None:
        error.message = (
            f"a stream was asked for, but the server answered {head.status} with a JSON body "
            f"and no event stream: {error.message}"
        )
        error.args = (error.message,)
    return error


def _succeeded(
    call: HTTPCall,
    spec: ProviderSpec,
    hooks: Hooks,
    head: Head,
    content: bytes,
    attempt: int,
    elapsed: float,
) -> Outcome:
    request_id = request_id_from(spec, head.headers)
    logger.debug(
        "%s %s -> %s in %.3fs (attempt %d, request id %s)",
        call.method,
        call.url,
        head.status,
        elapsed,
        attempt,
        request_id,
    )
    if hooks.on_response is not None:
        hooks.on_response(
            ResponseEvent(
                spec.name,
                call.method,
                call.url,
                call.model,
                call.stream,
                attempt,
                head.status,
                request_id,
                elapsed,
            )
        )
    return Outcome(head.status, head.headers, content, attempt, request_id)


def _gave_up(call: HTTPCall, hooks: Hooks, provider: str, error: ProviderError) -> ProviderError:
    """The error to raise when the call is given up; the exception is the signal, so the
    log line is only for debugging."""
    logger.debug(
        "%s %s failed after %s attempt(s): %r", call.method, call.url, error.attempts, error
    )
    if hooks.on_error is not None:
        hooks.on_error(ErrorEvent(provider, error))
    return error
