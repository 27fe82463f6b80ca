"""The fault matrix: each fault against a real misbehaving HTTP server, sync and async.

Every test runs once per variant (the `variant` fixture): the same body drives a sync or
an async client through `call()`. After a fault, each test checks the typed error, what
`partial` kept, that `attempts` equals the requests the server saw, and that the client
recovers: no connection stays checked out and the next request on it succeeds.
docs/faults.md is this file as a table; keep the two in line.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
import tracemalloc
from typing import Any

import httpx
import modelwire
import pytest
from modelwire._framing import event_stream_message
from modelwire.dialects.base import sse
from modelwire.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ContextLengthExceededError,
    InsecureTransportError,
    LineTooLongError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    ProviderError,
    RateLimitError,
    RequestTooLargeError,
    ServerError,
    StreamDecodeError,
    StreamEventError,
    StreamInterruptedError,
    StreamTimeoutError,
    UnprocessableEntityError,
)

from .server import FaultServer, Pause, Repeat, Reset, Respond, Stream, refused_url
from .support import (
    API_KEY,
    FAST_RETRY,
    MESSAGES,
    STREAMS,
    Clients,
    Variant,
    assert_pool_clean,
    call,
    completion_body,
    drain,
    error_body,
    error_event,
    pool_of,
    raises,
    whole_stream,
)

# generous sanity bounds only: a fault must end, not end on time to the millisecond
SLOW = 10.0


async def ask(client: Any, mode: str, **kwargs: Any) -> str:
    """The answer's text, by `complete()` or by a whole stream."""
    if mode == "complete":
        response = await call(client.complete, messages=MESSAGES, **kwargs)
    else:
        stream = await call(client.stream_completion, messages=MESSAGES, **kwargs)
        response = await call(stream.accumulate)
    return str(response.content)


async def stream_error(client: Any, **kwargs: Any) -> tuple[list[str], ProviderError]:
    """Opens a stream, reads it to the error that ends it, and returns both."""
    stream = await call(client.stream_completion, messages=MESSAGES, **kwargs)
    texts, error = await drain(stream)
    assert error is not None, f"the stream ended without an error after {texts}"
    assert stream.closed, "a failed stream must have released its response"
    return texts, error


async def assert_recovers(client: Any, server: FaultServer, provider: str = "openai") -> None:
    """Nothing is checked out, every scripted behaviour was used, and the client still works."""
    assert server.pending == 0, "the server has scripted responses no request used"
    assert_pool_clean(client)
    before = server.attempts
    server.script(Respond(200, completion_body(provider, "recovered")))
    assert await ask(client, "complete") == "recovered"
    assert server.attempts == before + 1
    assert_pool_clean(client)


def stream_of(provider: str, parts: list[Any], **kwargs: Any) -> Stream:
    return Stream(parts, content_type=STREAMS[provider][2], **kwargs)


MODES = ["complete", "stream"]


def good_answer(provider: str, mode: str) -> Respond | Stream:
    """A good "Hello!" as `complete()` or as a stream expects it."""
    if mode == "complete":
        return Respond(200, completion_body(provider))
    return stream_of(provider, whole_stream(provider, ["Hel", "lo!"]))


# --------------------------------------------------------------------------- connection


async def test_connection_refused_is_retried_then_raised(make_client: Clients) -> None:
    policy = dataclasses.replace(FAST_RETRY, max_retries=3)
    client = make_client(base_url=refused_url() + "/v1", max_retries=policy)
    started = time.monotonic()
    error = await raises(client.complete, messages=MESSAGES)
    assert type(error) is APIConnectionError
    assert error.attempts == 4  # max_retries + 1
    assert error.retryable
    assert error.provider == "openai"
    assert time.monotonic() - started < SLOW
    assert_pool_clean(client)


@pytest.mark.parametrize("mode", MODES)
async def test_reset_before_the_head_is_retried(
    make_client: Clients, server: FaultServer, mode: str
) -> None:
    client = make_client()
    server.script(Reset(), good_answer("openai", mode))
    assert await ask(client, mode) == "Hello!"
    assert server.attempts == 2
    await assert_recovers(client, server)


# --------------------------------------------------------------------------- mid-stream


def _cut(event: bytes) -> bytes:
    """The first half of an event: what a connection broken inside it delivered."""
    return event[: len(event) // 2]


@pytest.mark.parametrize("provider", ["openai", "anthropic", "ollama", "gemini", "bedrock"])
async def test_reset_mid_stream_keeps_the_partial_and_is_not_retried(
    make_client: Clients, server: FaultServer, provider: str
) -> None:
    client = make_client(provider)
    events = STREAMS[provider][0](["Hel", "lo"])
    half = _cut(STREAMS[provider][0](["never seen"])[-1])
    server.script(stream_of(provider, [*events, Pause(0.05), half, Pause(0.05)], end="reset"))
    texts, error = await stream_error(client)
    assert type(error) is StreamInterruptedError
    assert error.partial is not None and error.partial.content == "Hello"
    assert "".join(texts) == "Hello"
    assert error.attempts == 1 == server.attempts
    assert error.status_code == 200 and error.provider == provider
    await assert_recovers(client, server, provider)


async def test_head_then_silence_times_out_after_stream_idle(
    make_client: Clients, server: FaultServer
) -> None:
    client = make_client(timeout=modelwire.Timeout(stream_idle=0.3))
    server.script(stream_of("openai", STREAMS["openai"][0](["Hi"]), end="hang"))
    started = time.monotonic()
    _, error = await stream_error(client)
    assert type(error) is StreamTimeoutError
    assert 0.25 <= time.monotonic() - started < SLOW
    assert error.partial is not None and error.partial.content == "Hi"
    assert error.attempts == 1 == server.attempts
    await assert_recovers(client, server)


async def test_a_slow_drip_under_the_idle_limit_completes(
    make_client: Clients, server: FaultServer
) -> None:
    client = make_client(timeout=modelwire.Timeout(stream_idle=0.6))
    parts: list[Any] = []
    for event in whole_stream("openai", ["a", "b", "c", "d"]):
        parts += [event, Pause(0.12)]
    server.script(stream_of("openai", parts))
    started = time.monotonic()
    assert await ask(client, "stream") == "abcd"
    # the whole stream took longer than the idle limit, and that is fine
    assert time.monotonic() - started > 0.6
    assert server.attempts == 1
    await assert_recovers(client, server)


INVALID_JSON = {
    "openai": b'data: {"id":"chatcmpl-fault1","choices":[{"index":0,"delta":{"content":"x"\n\n',
    "anthropic": b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,\n\n',
    "ollama": b'{"model":"llama3.2","message":{"role":"assistant","content":"x"},"done":fal\n',
    "gemini": b'data: {"candidates":[{"content":{"parts":[{"text":"x"}],"role":"mod\r\n\r\n',
    "bedrock": event_stream_message(
        {":event-type": "contentBlockDelta", ":message-type": "event"},
        b'{"contentBlockIndex":0,"delta":{"text":"x"',
    ),
}


@pytest.mark.parametrize("provider", sorted(INVALID_JSON))
async def test_invalid_json_in_a_chunk(
    make_client: Clients, server: FaultServer, provider: str
) -> None:
    client = make_client(provider)
    events = STREAMS[provider][0](["Hel", "lo"])
    server.script(stream_of(provider, [*events, INVALID_JSON[provider], *STREAMS[provider][1]]))
    _, error = await stream_error(client)
    assert type(error) is StreamDecodeError
    assert "not valid JSON" in error.message
    assert error.partial is not None and error.partial.content == "Hello"
    assert error.attempts == 1 == server.attempts
    await assert_recovers(client, server, provider)


NOT_UTF8 = {
    "openai": b'data: {"choices":[{"index":0,"delta":{"content":"\xff\xfe\xc3"}}]}\n\n',
    "anthropic": b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
    b'"delta":{"type":"text_delta","text":"\xff\xfe\xc3"}}\n\n',
    "ollama": b'{"model":"llama3.2","message":{"role":"assistant","content":"\xff\xfe"},'
    b'"done":false}\n',
    "gemini": b'data: {"candidates":[{"content":{"parts":[{"text":"\xff\xfe\xc3"}]}}]}\r\n\r\n',
    "bedrock": event_stream_message(
        {":event-type": "contentBlockDelta", ":message-type": "event"},
        b'{"contentBlockIndex":0,"delta":{"text":"\xff\xfe\xc3"}}',
    ),
}


@pytest.mark.parametrize("provider", sorted(NOT_UTF8))
async def test_non_utf8_bytes_in_a_json_event(
    make_client: Clients, server: FaultServer, provider: str
) -> None:
    client = make_client(provider)
    events = STREAMS[provider][0](["Hel", "lo"])
    server.script(stream_of(provider, [*events, NOT_UTF8[provider], *STREAMS[provider][1]]))
    _, error = await stream_error(client)
    assert type(error) is StreamDecodeError
    assert "UTF-8" in error.message
    assert error.partial is not None and error.partial.content == "Hello"
    assert error.attempts == 1 == server.attempts
    await assert_recovers(client, server, provider)


# (provider, error event, message, error type) of errors sent in the middle of a stream
ERROR_EVENTS = {
    "gemini-unavailable": (
        "gemini",
        error_event("gemini", "The model is overloaded.", "UNAVAILABLE"),
        "The model is overloaded.",
        "UNAVAILABLE",
    ),
    "anthropic-overloaded": (
        "anthropic",
        error_event("anthropic", "Overloaded", "overloaded_error"),
        "Overloaded",
        "overloaded_error",
    ),
    "openrouter-finish-error": (
        "openrouter",
        sse(
            {
                "id": "gen-fault1",
                "object": "chat.completion.chunk",
                "created": 1733000000,
                "model": "openai/gpt-4o-mini",
                "provider": "OpenAI",
                "error": {"code": "server_error", "message": "Provider disconnected unexpectedly"},
                "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}],
            }
        ),
        "Provider disconnected unexpectedly",
        None,
    ),
    "openrouter-error-only": (
        "openrouter",
        sse({"error": {"code": 502, "message": "Upstream error from OpenAI", "type": "upstream"}}),
        "Upstream error from OpenAI",
        "upstream",
    ),
    "bedrock-throttling": (
        "bedrock",
        error_event("bedrock", "Too many tokens, please wait", "ThrottlingException"),
        "Too many tokens, please wait",
        "ThrottlingException",
    ),
    "ollama-error": (
        "ollama",
        error_event("ollama", "an error was encountered while running the model: unexpected EOF"),
        "an error was encountered while running the model: unexpected EOF",
        None,
    ),
}


@pytest.mark.parametrize("case", sorted(ERROR_EVENTS))
async def test_an_error_event_mid_stream(
    make_client: Clients, server: FaultServer, case: str
) -> None:
    provider, event, message, etype = ERROR_EVENTS[case]
    client = make_client(provider)
    events = STREAMS[provider][0](["Hel", "lo"])
    server.script(stream_of(provider, [*events, event, *STREAMS[provider][1]]))
    _, error = await stream_error(client)
    assert type(error) is StreamEventError
    assert error.message == message
    assert error.error_type == etype
    assert error.partial is not None and error.partial.content == "Hello"
    assert error.attempts == 1 == server.attempts
    assert error.provider == provider
    await assert_recovers(client, server, provider)


@pytest.mark.parametrize("end", ["done", "close"])
@pytest.mark.parametrize("provider", ["openai", "anthropic", "ollama", "gemini", "bedrock"])
async def test_a_stream_without_its_terminal_event(
    make_client: Clients, server: FaultServer, provider: str, end: str
) -> None:
    """`done`: the body ends cleanly but early; `close`: a FIN inside the chunked body."""
    client = make_client(provider)
    events = STREAMS[provider][0](["Hel", "lo", " there"])
    server.script(stream_of(provider, events, end=end))
    _, error = await stream_error(client)
    assert type(error) is StreamInterruptedError
    assert error.partial is not None and error.partial.content == "Hello there"
    assert error.attempts == 1 == server.attempts
    await assert_recovers(client, server, provider)


@pytest.mark.parametrize("provider", ["openai", "ollama"])
async def test_a_10mb_line_is_refused_without_buffering_it(
    make_client: Clients, server: FaultServer, provider: str
) -> None:
    client = make_client(provider, max_line_bytes=1 << 20)
    events = STREAMS[provider][0](["Hi"])
    prefix = b"data: " if provider == "openai" else b""
    huge = [prefix, Repeat(b"x" * 65536, 160), b"\n\n"]  # a 10 MiB line
    server.script(stream_of(provider, [*events, *huge, *STREAMS[provider][1]]))
    tracemalloc.start()
    try:
        _, error = await stream_error(client)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert type(error) is LineTooLongError
    assert isinstance(error, StreamDecodeError)
    assert error.partial is not None and error.partial.content == "Hi"
    assert peak < 8 << 20, f"reading a 10 MiB line took {peak / 2**20:.1f} MiB"
    assert error.attempts == 1 == server.attempts
    await assert_recovers(client, server, provider)


# --------------------------------------------------------------------------- HTTP status


# (provider, status, error type, header, value): a server asking to wait 0.1 s
RETRY_AFTER = {
    "openai-429-retry-after": ("openai", 429, "requests", "Retry-After", "0.1"),
    "openai-429-retry-after-ms": ("openai", 429, "requests", "retry-after-ms", "100"),
    "openai-503-retry-after": ("openai", 503, "server_error", "Retry-After", "0.1"),
    "anthropic-529-retry-after": ("anthropic", 529, "overloaded_error", "retry-after", "0.1"),
}


@pytest.mark.parametrize("case", sorted(RETRY_AFTER))
async def test_a_retry_waits_what_retry_after_asks_then_succeeds(
    make_client: Clients, server: FaultServer, case: str
) -> None:
    provider, status, etype, header, value = RETRY_AFTER[case]
    client = make_client(provider)  # its own backoff is milliseconds: a wait of 0.1 s is asked
    body = error_body(
        provider, status, etype, "Rate limit reached for gpt-4o-mini", "rate_limit_exceeded"
    )
    server.script(Respond(status, body, {header: value}), Respond(200, completion_body(provider)))
    started = time.monotonic()
    assert await ask(client, "complete") == "Hello!"
    assert time.monotonic() - started >= 0.09  # it waited what the server asked
    assert server.attempts == 2
    await assert_recovers(client, server, provider)


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "1e400", "soon"])
@pytest.mark.parametrize("header", ["Retry-After", "retry-after-ms"])
async def test_a_retry_after_that_names_no_finite_wait_is_ignored(
    make_client: Clients, server: FaultServer, header: str, value: str
) -> None:
    # not a bare ValueError, not a sleep past the deadline: the client's own backoff
    client = make_client("openai", timeout=modelwire.Timeout(total=5.0))
    body = error_body("openai", 429, "requests", "Rate limit reached", "rate_limit_exceeded")
    server.script(Respond(429, body, {header: value}), Respond(200, completion_body("openai")))
    started = time.monotonic()
    assert await ask(client, "complete") == "Hello!"
    assert time.monotonic() - started < 2.0 and server.attempts == 2


# (provider, status, body) of server errors that a retry can get past
SERVER_ERRORS: dict[str, tuple[str, int, str | dict[str, Any]]] = {
    "openai-500": (
        "openai",
        500,
        error_body(
            "openai",
            500,
            "server_error",
            "The server had an error while processing your request. Sorry about that!",
        ),
    ),
    "openai-502": ("openai", 502, "<html><body><h1>502 Bad Gateway</h1></body></html>"),
    "openai-503": (
        "openai",
        503,
        error_body("openai", 503, "server_error", "The engine is currently overloaded"),
    ),
    "anthropic-500": (
        "anthropic",
        500,
        error_body("anthropic", 500, "api_error", "Internal server error"),
    ),
    "anthropic-529": (
        "anthropic",
        529,
        error_body("anthropic", 529, "overloaded_error", "Overloaded"),
    ),
    "bedrock-503": (
        "bedrock",
        503,
        error_body("bedrock", 503, "ServiceUnavailableException", "Bedrock is unavailable"),
    ),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", sorted(SERVER_ERRORS))
async def test_a_server_error_then_success(
    make_client: Clients, server: FaultServer, case: str, mode: str
) -> None:
    provider, status, body = SERVER_ERRORS[case]
    client = make_client(provider)
    content_type = "text/html" if isinstance(body, str) else "application/json"
    server.script(
        Respond(status, body, {"Content-Type": content_type}), good_answer(provider, mode)
    )
    assert await ask(client, mode) == "Hello!"
    assert server.attempts == 2
    await assert_recovers(client, server, provider)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("provider", "status", "cls"),
    [("openai", 503, ServerError), ("anthropic", 529, OverloadedError)],
)
async def test_retries_exhausted(
    make_client: Clients,
    server: FaultServer,
    provider: str,
    status: int,
    cls: type[ProviderError],
    mode: str,
) -> None:
    client = make_client(provider)
    body = error_body(provider, status, "overloaded_error", "Overloaded")
    server.script(*[Respond(status, body, {"request-id": "req_retry"})] * 3)
    error = await raises(ask, client, mode)
    assert type(error) is cls
    assert error.retryable
    assert error.status_code == status
    assert error.attempts == 3 == server.attempts  # max_retries + 1
    await assert_recovers(client, server, provider)


# status -> (error class, OpenAI error type and code, Anthropic error type, message)
CLIENT_ERRORS: dict[int, tuple[type[ProviderError], str, str | None, str, str]] = {
    400: (BadRequestError, "invalid_request_error", None, "invalid_request_error", "Bad input"),
    401: (
        AuthenticationError,
        "invalid_request_error",
        "invalid_api_key",
        "authentication_error",
        "Incorrect API key provided",
    ),
    403: (
        PermissionDeniedError,
        "request_forbidden",
        "unsupported_country_region_territory",
        "permission_error",
        "Country, region, or territory not supported",
    ),
    404: (
        NotFoundError,
        "invalid_request_error",
        "model_not_found",
        "not_found_error",
        "The model `gpt-9` does not exist",
    ),
    413: (
        RequestTooLargeError,
        "invalid_request_error",
        None,
        "request_too_large",
        "Request exceeds the maximum allowed number of bytes.",
    ),
    422: (
        UnprocessableEntityError,
        "invalid_request_error",
        None,
        "invalid_request_error",
        "Unprocessable entity",
    ),
}

# provider -> (request id header, error type the provider's body carries)
REQUEST_IDS = {
    "openai": "x-request-id",
    "anthropic": "request-id",
    "openrouter": "x-request-id",
    "ollama": None,
}


@pytest.mark.parametrize("provider", sorted(REQUEST_IDS))
@pytest.mark.parametrize("status", sorted(CLIENT_ERRORS))
async def test_a_client_error_is_typed_and_not_retried(
    make_client: Clients, server: FaultServer, status: int, provider: str
) -> None:
    cls, openai_type, openai_code, anthropic_type, message = CLIENT_ERRORS[status]
    etype = {"openai": openai_type, "anthropic": anthropic_type}.get(provider)
    code = status if provider == "openrouter" else openai_code
    body = error_body(provider, status, etype, message, code)
    id_header = REQUEST_IDS[provider]
    headers = {id_header: f"req_{status}abc"} if id_header else {}
    client = make_client(provider)
    server.script(Respond(status, body, headers))
    error = await raises(client.complete, messages=MESSAGES)
    assert type(error) is cls
    assert error.message == message
    assert error.error_type == etype
    assert error.status_code == status
    assert error.request_id == (f"req_{status}abc" if id_header else None)
    assert error.provider == provider
    assert not error.retryable
    assert error.attempts == 1 == server.attempts
    assert error.body == json.loads(body)
    await assert_recovers(client, server, provider)


@pytest.mark.parametrize("provider", sorted(REQUEST_IDS))
async def test_a_client_error_raises_from_stream_completion(
    make_client: Clients, server: FaultServer, provider: str
) -> None:
    etype = {"openai": "invalid_request_error", "anthropic": "authentication_error"}.get(provider)
    body = error_body(provider, 401, etype, "invalid x-api-key", 401)
    client = make_client(provider)
    server.script(Respond(401, body))
    error = await raises(client.stream_completion, messages=MESSAGES)
    assert type(error) is AuthenticationError
    assert error.message == "invalid x-api-key"
    assert error.attempts == 1 == server.attempts
    await assert_recovers(client, server, provider)


CONTEXT_ERRORS = {
    "openai": error_body(
        "openai",
        400,
        "invalid_request_error",
        "This model's maximum context length is 128000 tokens. However, your messages "
        "resulted in 130412 tokens. Please reduce the length of the messages.",
        "context_length_exceeded",
    ),
    "anthropic": error_body(
        "anthropic",
        400,
        "invalid_request_error",
        "prompt is too long: 208310 tokens > 200000 maximum",
    ),
    "ollama": error_body("ollama", 400, None, "the input exceeds the context length of the model"),
    "gemini": error_body(
        "gemini",
        400,
        "INVALID_ARGUMENT",
        "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
    ),
}


# Google's errors say what happened in `status`: (HTTP status, status, class, retryable)
GEMINI_ERRORS = {
    "quota": (429, "RESOURCE_EXHAUSTED", RateLimitError, True),
    "overloaded": (503, "UNAVAILABLE", OverloadedError, True),
    "bad-key": (400, "INVALID_ARGUMENT", AuthenticationError, False),
    "bad-argument": (400, "INVALID_ARGUMENT", BadRequestError, False),
    "denied": (403, "PERMISSION_DENIED", PermissionDeniedError, False),
    "no-model": (404, "NOT_FOUND", NotFoundError, False),
}


@pytest.mark.parametrize("case", sorted(GEMINI_ERRORS))
async def test_a_gemini_error_is_typed_by_its_status(
    make_client: Clients, server: FaultServer, case: str
) -> None:
    status, google_status, cls, retryable = GEMINI_ERRORS[case]
    message = {
        "bad-key": "API key not valid. Please pass a valid API key.",
        "bad-argument": "Invalid value at 'generation_config.temperature'.",
    }.get(case, f"{google_status} happened")
    client = make_client("gemini", max_retries=0)
    server.script(Respond(status, error_body("gemini", status, google_status, message)))
    error = await raises(client.complete, messages=MESSAGES)
    assert type(error) is cls
    assert (error.message, error.error_type, error.status_code) == (message, google_status, status)
    assert error.retryable is retryable
    assert error.attempts == 1 == server.attempts
    await assert_recovers(client, server, "gemini")


@pytest.mark.parametrize("provider", sorted(CONTEXT_ERRORS))
async def test_context_length_exceeded(
    make_client: Clients, server: FaultServer, provider: str
) -> None:
    client = make_client(provider)
    server.script(Respond(400, CONTEXT_ERRORS[provider]))
    error = await raises(client.complete, messages=MESSAGES)
    assert type(error) is ContextLengthExceededError
    assert isinstance(error, BadRequestError)
    assert not error.retryable
    assert error.attempts == 1 == server.attempts
    await assert_recovers(client, server, provider)


# --------------------------------------------------------------------------- redirects & security


@pytest.mark.parametrize("own_http_client", [False, True], ids=["default", "following-client"])
@pytest.mark.parametrize("status", [302, 307])
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_a_redirect_to_another_host_never_carries_the_key(
    make_client: Clients,
    server: FaultServer,
    other_server: FaultServer,
    variant: Variant,
    provider: str,
    status: int,
    own_http_client: bool,
) -> None:
    kwargs: dict[str, Any] = {}
    if own_http_client:
        # even a caller's client set to follow redirects must not follow one with the key
        http_cls = httpx.AsyncClient if variant.is_async else httpx.Client
        kwargs["http_client"] = http_cls(follow_redirects=True)
    client = make_client(provider, **kwargs)
    target = other_server.url + "/v1/messages"
    server.script(Respond(status, b"", {"Location": target}))
    other_server.script(Respond(200, completion_body(provider)))
    error = await raises(client.complete, messages=MESSAGES)
    assert type(error) is APIStatusError
    assert error.status_code == status
    assert "set base_url" in error.message and target in error.message
    assert not error.retryable
    assert error.attempts == 1 == server.attempts
    # the key went to the origin, and nothing at all to the other host
    assert API_KEY in " ".join(server.requests[0].headers.values())
    assert other_server.attempts == 0
    for seen in other_server.requests:
        assert API_KEY not in " ".join(seen.headers.values())
    await assert_recovers(client, server, provider)
    if own_http_client:
        await call(
            kwargs["http_client"].aclose if variant.is_async else kwargs["http_client"].close
        )


@pytest.mark.parametrize("provider", ["openai", "anthropic", "openrouter"])
async def test_a_key_over_plain_http_to_a_remote_host_is_refused_before_any_io(
    make_client: Clients, server: FaultServer, provider: str
) -> None:
    # .invalid never resolves: had anything been attempted, it could not have left the host
    with pytest.raises(InsecureTransportError) as info:
        make_client(provider, base_url="http://api.modelwire-fault.invalid/v1")
    assert "https" in str(info.value)
    assert API_KEY not in str(info.value)
    assert server.attempts == 0
    # loopback is fine, and so is an explicit opt-in (neither sends anything yet)
    make_client(
        provider, base_url="http://api.modelwire-fault.invalid/v1", allow_insecure_http=True
    )
    assert server.attempts == 0


# --------------------------------------------------------------------------- per-call policy


async def test_max_retries_per_call_overrides_the_clients(
    make_client: Clients, server: FaultServer
) -> None:
    client = make_client(max_retries=dataclasses.replace(FAST_RETRY, max_retries=3))
    unavailable = Respond(503, error_body("openai", 503, "server_error", "Service Unavailable"))
    server.script(unavailable)
    error = await raises(client.complete, messages=MESSAGES, max_retries=0)
    assert type(error) is ServerError and error.attempts == 1 == server.attempts
    server.script(unavailable, unavailable)
    error = await raises(client.stream_completion, messages=MESSAGES, max_retries=1)
    assert type(error) is ServerError and error.attempts == 2
    assert server.attempts == 3
    # a per-call count keeps the client's delays
    request = client._config.request(None, {"messages": MESSAGES, "max_retries": 1})
    planned = client._config.chat_call(request, stream=False)
    assert planned.retry == dataclasses.replace(FAST_RETRY, max_retries=1)
    await assert_recovers(client, server)


@pytest.mark.parametrize("where", ["client", "call"])
@pytest.mark.parametrize("slow", ["head", "body"])
async def test_the_total_timeout_ends_a_slow_complete(
    make_client: Clients, server: FaultServer, slow: str, where: str
) -> None:
    if where == "client":
        client = make_client(timeout=modelwire.Timeout(total=0.5))
        kwargs: dict[str, Any] = {}
    else:
        client = make_client()
        kwargs = {"timeout": 0.5}
    if slow == "head":
        server.script(Respond(200, completion_body("openai"), delay=3.0))
    else:
        # a body that drips one piece every 0.3 s: no read ever waits long, the whole does
        text = completion_body("openai")
        pieces: list[Any] = []
        for i in range(0, len(text), len(text) // 10 + 1):
            pieces += [text[i : i + len(text) // 10 + 1], Pause(0.3)]
        server.script(Stream(pieces, content_type="application/json"))
    started = time.monotonic()
    error = await raises(client.complete, messages=MESSAGES, **kwargs)
    elapsed = time.monotonic() - started
    assert isinstance(error, APITimeoutError)
    assert "total timeout" in error.message
    assert 0.45 <= elapsed < 2.5, elapsed
    assert error.attempts == 1 == server.attempts
    await assert_recovers(client, server)


# --------------------------------------------------------------------------- releasing connections


@pytest.mark.parametrize("how", ["close", "context-manager"])
async def test_closing_a_stream_early_releases_the_connection(
    make_client: Clients, server: FaultServer, variant: Variant, how: str
) -> None:
    client = make_client()
    events = STREAMS["openai"][0](["one", "two", "three"])
    server.script(stream_of("openai", [*events, Pause(0.2), *events], end="hang"))
    stream = await call(client.stream_completion, messages=MESSAGES)
    assert pool_of(client)._requests, "an open stream holds its connection"
    if how == "close":
        await call(stream.__anext__ if variant.is_async else stream.__next__)
        await call(stream.close)
    elif variant.is_async:
        async with stream:
            await stream.__anext__()
    else:
        with stream:
            next(stream)
    assert stream.closed
    await assert_recovers(client, server)


async def test_a_finished_stream_hands_its_connection_back_for_reuse(
    make_client: Clients, server: FaultServer
) -> None:
    client = make_client()
    server.script(stream_of("openai", whole_stream("openai", ["Hel", "lo!"])))
    assert await ask(client, "stream") == "Hello!"
    await assert_recovers(client, server)
    (connection,) = pool_of(client).connections
    assert connection._connection._request_count == 2  # keep-alive: one connection, reused


# --------------------------------------------------------------------------- secrets


async def test_the_key_never_appears_in_logs_errors_or_reprs(
    make_client: Clients, server: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client("anthropic")
    shown: list[str] = [repr(client), str(client)]
    overloaded = Respond(529, error_body("anthropic", 529, "overloaded_error", "Overloaded"))
    unauthorized = Respond(
        401, error_body("anthropic", 401, "authentication_error", "invalid x-api-key")
    )
    server.script(overloaded, Respond(200, completion_body("anthropic")))
    await ask(client, "complete")
    server.script(overloaded, overloaded, overloaded, unauthorized)
    errors = [await raises(ask, client, "complete"), await raises(ask, client, "stream")]
    events = STREAMS["anthropic"][0](["Hel", "lo"])
    server.script(stream_of("anthropic", events, end="reset"))
    _, interrupted = await stream_error(client)
    errors.append(interrupted)
    refused = make_client("anthropic", base_url=refused_url())
    errors.append(await raises(refused.complete, messages=MESSAGES))
    for error in errors:
        shown += [str(error), repr(error), repr(error.body), repr(error.partial)]
        shown += [repr(vars(error))]
    assert [type(e) for e in errors] == [
        OverloadedError,
        AuthenticationError,
        StreamInterruptedError,
        APIConnectionError,
    ]
    assert any("retrying" in r.getMessage() for r in caplog.records), "no retry was logged"
    for record in caplog.records:
        shown += [record.getMessage(), repr(record.args), record.exc_text or ""]
    shown.append(caplog.text)
    leaks = [text for text in shown if API_KEY in text or API_KEY[-12:] in text]
    assert not leaks
    # it did go where it belongs
    assert all(seen.headers["x-api-key"] == API_KEY for seen in server.requests)


# --------------------------------------------------------------------------- Bedrock


async def test_a_corrupt_event_stream_message_is_a_typed_error_with_the_partial(
    make_client: Clients, server: FaultServer
) -> None:
    client = make_client("bedrock")
    events = STREAMS["bedrock"][0](["Hel", "lo"])
    corrupt = bytearray(STREAMS["bedrock"][0](["never seen"])[-1])
    corrupt[-1] ^= 0xFF  # the message CRC no longer matches
    server.script(stream_of("bedrock", [*events, bytes(corrupt), *STREAMS["bedrock"][1]]))
    _, error = await stream_error(client)
    assert type(error) is StreamDecodeError
    assert "fails its CRC32" in error.message
    assert error.partial is not None and error.partial.content == "Hello"
    assert error.attempts == 1 == server.attempts
    await assert_recovers(client, server, "bedrock")


# (status, x-amzn-ErrorType, error class, retried): Bedrock names its error type in a header
BEDROCK_ERRORS = {
    "throttling": (429, "ThrottlingException", RateLimitError, True),
    "validation": (400, "ValidationException", BadRequestError, False),
    "access-denied": (403, "AccessDeniedException", PermissionDeniedError, False),
    "model-not-ready": (429, "ModelNotReadyException", ServerError, True),
    "unavailable": (503, "ServiceUnavailableException", OverloadedError, True),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", sorted(BEDROCK_ERRORS))
async def test_bedrock_error_types_from_the_header(
    make_client: Clients, server: FaultServer, case: str, mode: str
) -> None:
    status, etype, cls, retried = BEDROCK_ERRORS[case]
    client = make_client("bedrock")
    headers = {
        "x-amzn-ErrorType": f"{etype}:http://internal.amazon.com/coral/com.amazon.bedrock/",
        "x-amzn-RequestId": "req-bedrock-1",
        "Content-Type": "application/json",
    }
    answer = Respond(status, {"message": f"{etype} happened"}, headers)  # no __type in the body
    once = make_client("bedrock", max_retries=0)
    server.script(answer)
    error = await raises(ask, once, mode)
    assert type(error) is cls and error.error_type == etype
    assert error.status_code == status and error.retryable is retried
    assert error.request_id == "req-bedrock-1" and f"{etype} happened" in error.message
    assert error.attempts == 1 == server.attempts
    if retried:  # with retries, the second attempt's answer comes through
        server.script(answer, good_answer("bedrock", mode))
        assert await ask(client, mode) == "Hello!"
        assert server.attempts == 3
    await assert_recovers(client, server, "bedrock")
