"""Resilience against real misbehaving servers, sync and async: fallback chains across
providers, retries of a stream whose first event is an error, `x-should-retry`, and the
rate limits every answer carries. docs/faults.md has these rows too.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator
from typing import Any

import modelwire
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from modelwire import RateLimit
from modelwire.dialects.base import sse
from modelwire.errors import (
    APIConnectionError,
    AuthenticationError,
    ConfigurationError,
    OverloadedError,
    ProviderError,
    RateLimitError,
    ServerError,
    StreamEventError,
    StreamInterruptedError,
)

from .server import FaultServer, Pause, Reset, Respond, Stream, refused_url
from .support import (
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
    raises,
    whole_stream,
)

NO_RETRY = dataclasses.replace(FAST_RETRY, max_retries=0)


@pytest.fixture
def backup() -> Iterator[FaultServer]:
    """A second provider's server, the next in a chain."""
    with FaultServer("127.0.0.1", name="backup") as srv:
        yield srv


@pytest.fixture
async def make_backup(variant: Variant, backup: FaultServer) -> AsyncIterator[Clients]:
    clients = Clients(variant, backup)
    yield clients
    await clients.close()


def stream_of(provider: str, parts: list[Any], **kwargs: Any) -> Stream:
    return Stream(parts, content_type=STREAMS[provider][2], **kwargs)


def good_stream(provider: str, texts: list[str]) -> Stream:
    return stream_of(provider, whole_stream(provider, texts))


def overloaded_first(provider: str) -> Stream:
    """A 200 stream whose first event is the provider's overload error."""
    if provider == "anthropic":
        event = error_event("anthropic", "Overloaded", "overloaded_error")
    else:  # OpenRouter's error chunk, with the status it stands for in its code
        event = sse({"error": {"code": 502, "message": "Upstream overloaded"}})
    return stream_of(provider, [event])


# --------------------------------------------------------------------------- fallback


# an error as a first event only exists in a stream
BEFORE_CONTENT = [
    *((mode, fault) for mode in ("complete", "stream") for fault in ("503", "reset", "refused")),
    ("stream", "overloaded-first-event"),
]


@pytest.mark.parametrize(("mode", "fault"), BEFORE_CONTENT)
async def test_the_first_provider_fails_before_content_and_the_second_answers(
    make_client: Clients,
    make_backup: Clients,
    server: FaultServer,
    backup: FaultServer,
    mode: str,
    fault: str,
) -> None:
    if fault == "refused":
        first = make_client("anthropic", max_retries=NO_RETRY, base_url=refused_url())
    else:
        first = make_client("anthropic", max_retries=NO_RETRY)
        server.script(
            {
                "503": Respond(503, error_body("anthropic", 503, "api_error", "down")),
                "reset": Reset(),
                "overloaded-first-event": overloaded_first("anthropic"),
            }[fault]
        )
    second = make_backup("openai", max_retries=NO_RETRY)
    backup.script(
        Respond(200, completion_body("openai", "Hello!"))
        if mode == "complete"
        else good_stream("openai", ["Hel", "lo!"])
    )
    chain = modelwire.fallback(first, second)
    if mode == "complete":
        response = await call(chain.complete, messages=MESSAGES)
        texts = [response.content]
    else:
        stream = await call(chain.stream_completion, messages=MESSAGES)
        texts, error = await drain(stream)
        assert error is None
        response = await call(stream.accumulate)
        assert stream.closed
    assert "".join(texts) == "Hello!" == response.content
    assert server.attempts == (0 if fault == "refused" else 1) and backup.attempts == 1
    tried = response.fallback_attempts
    assert [(a.index, a.provider, a.error is None) for a in tried] == [
        (0, "anthropic", False),
        (1, "openai", True),
    ]
    expected = {
        "503": ServerError,
        "reset": APIConnectionError,
        "overloaded-first-event": OverloadedError,
        "refused": APIConnectionError,
    }[fault]
    assert isinstance(tried[0].error, expected)
    assert tried[0].model == first.model and tried[1].model == second.model
    assert all(a.seconds >= 0 for a in tried)
    assert_pool_clean(first if fault != "refused" else second)
    assert_pool_clean(second)


async def test_the_first_provider_fails_after_content_and_no_second_request_is_made(
    make_client: Clients, make_backup: Clients, server: FaultServer, backup: FaultServer
) -> None:
    first = make_client("openai", max_retries=NO_RETRY)
    events = STREAMS["openai"][0](["Hel", "lo"])
    server.script(stream_of("openai", [*events, Pause(0.02)], end="reset"))
    chain = modelwire.fallback(first, make_backup("anthropic"))
    stream = await call(chain.stream_completion, messages=MESSAGES)
    texts, error = await drain(stream)
    assert type(error) is StreamInterruptedError
    assert "".join(texts) == "Hello"
    assert error.partial is not None and error.partial.content == "Hello"
    assert backup.attempts == 0 and server.attempts == 1
    assert [(a.provider, type(a.error)) for a in error.fallback_attempts] == [
        ("openai", StreamInterruptedError)
    ]
    assert_pool_clean(first)


async def test_a_bad_key_never_falls_through(
    make_client: Clients, make_backup: Clients, server: FaultServer, backup: FaultServer
) -> None:
    server.script(Respond(401, error_body("openai", 401, "invalid_request_error", "bad key")))
    chain = modelwire.fallback(make_client("openai"), make_backup("anthropic"))
    error = await raises(chain.complete, messages=MESSAGES)
    assert type(error) is AuthenticationError
    assert backup.attempts == 0
    assert [a.provider for a in error.fallback_attempts] == ["openai"]


async def test_every_provider_failing_raises_the_last_error_with_every_try(
    make_client: Clients, make_backup: Clients, server: FaultServer, backup: FaultServer
) -> None:
    # each client retries on its own before the chain moves on: 2 + 2 requests
    retry_once = dataclasses.replace(FAST_RETRY, max_retries=1)
    server.script(*[Respond(529, error_body("anthropic", 529, "overloaded_error", "busy"))] * 2)
    backup.script(*[Respond(429, error_body("openai", 429, "rate_limit_exceeded", "slow"))] * 2)
    chain = modelwire.fallback(
        make_client("anthropic", max_retries=retry_once),
        make_backup("openai", max_retries=retry_once),
    )
    error = await raises(chain.complete, messages=MESSAGES)
    assert type(error) is RateLimitError and error.attempts == 2
    assert server.attempts == 2 and backup.attempts == 2
    assert [type(a.error) for a in error.fallback_attempts] == [OverloadedError, RateLimitError]


async def test_what_falls_through_is_configurable(
    make_client: Clients, make_backup: Clients, server: FaultServer, backup: FaultServer
) -> None:
    server.script(Respond(503, error_body("openai", 503, "server_error", "down")))
    chain = modelwire.fallback(
        make_client("openai", max_retries=NO_RETRY),
        make_backup("openai"),
        fall_through=(RateLimitError,),
    )
    error = await raises(chain.complete, messages=MESSAGES)
    assert type(error) is ServerError and backup.attempts == 0
    server.script(Respond(401, error_body("openai", 401, "invalid_request_error", "bad key")))
    backup.script(Respond(200, completion_body("openai", "from the backup")))
    chain = modelwire.fallback(
        make_client("openai"),
        make_backup("openai"),
        fall_through=lambda error: isinstance(error, AuthenticationError),
    )
    response = await call(chain.complete, messages=MESSAGES)
    assert response.content == "from the backup"


async def test_sync_and_async_clients_cannot_be_mixed(
    make_client: Clients, variant: Variant
) -> None:
    client = make_client("openai")
    other = (modelwire.OpenAI if variant.is_async else modelwire.AsyncOpenAI)(
        api_key="sk-x", base_url="http://127.0.0.1:9/v1"
    )
    with pytest.raises(ConfigurationError, match="clients of one kind"):
        modelwire.fallback(client, other)
    with pytest.raises(ConfigurationError, match="at least one client"):
        modelwire.fallback()
    with pytest.raises(ConfigurationError, match="argument 2 is a str"):
        modelwire.fallback(client, "openai")  # type: ignore[call-overload]
    await call(other.close)


# --------------------------------------------------------------------------- first events


@pytest.mark.parametrize("provider", ["anthropic", "openrouter"])
async def test_an_overload_as_the_first_event_of_a_200_stream_is_retried(
    make_client: Clients, server: FaultServer, provider: str
) -> None:
    client = make_client(provider)
    server.script(overloaded_first(provider), good_stream(provider, ["Hel", "lo!"]))
    stream = await call(client.stream_completion, messages=MESSAGES)
    texts, error = await drain(stream)
    assert error is None and "".join(texts) == "Hello!"
    assert stream.attempts == 2 == server.attempts
    assert_pool_clean(client)


@pytest.mark.parametrize("provider", ["anthropic", "openrouter"])
async def test_a_first_event_overload_raises_the_status_codes_error_when_retries_run_out(
    make_client: Clients, server: FaultServer, provider: str
) -> None:
    client = make_client(provider)
    server.script(*[overloaded_first(provider)] * 3)
    error = await raises(client.stream_completion, messages=MESSAGES)
    assert type(error) is (OverloadedError if provider == "anthropic" else ServerError)
    assert error.retryable and error.attempts == 3 == server.attempts
    assert error.partial is None
    assert_pool_clean(client)


async def test_an_error_event_after_content_is_never_retried(
    make_client: Clients, server: FaultServer
) -> None:
    client = make_client("anthropic")
    events = STREAMS["anthropic"][0](["Hel", "lo"])
    server.script(
        stream_of(
            "anthropic", [*events, error_event("anthropic", "Overloaded", "overloaded_error")]
        )
    )
    stream = await call(client.stream_completion, messages=MESSAGES)
    texts, error = await drain(stream)
    assert type(error) is StreamEventError and "".join(texts) == "Hello"
    assert error.partial is not None and error.partial.content == "Hello"
    assert server.attempts == 1


@pytest.mark.parametrize("mode", ["complete", "stream"])
async def test_x_should_retry_is_honoured(
    make_client: Clients, server: FaultServer, mode: str
) -> None:
    client = make_client("openai")
    server.script(
        Respond(
            400, error_body("openai", 400, "invalid_request_error", "x"), {"x-should-retry": "true"}
        ),
        Respond(200, completion_body("openai"))
        if mode == "complete"
        else good_stream("openai", ["Hello!"]),
        Respond(503, error_body("openai", 503, "server_error", "x"), {"x-should-retry": "false"}),
    )
    if mode == "complete":
        assert (await call(client.complete, messages=MESSAGES)).attempts == 2
        error = await raises(client.complete, messages=MESSAGES)
    else:
        stream = await call(client.stream_completion, messages=MESSAGES)
        assert stream.attempts == 2
        await call(stream.accumulate)
        error = await raises(client.stream_completion, messages=MESSAGES)
    assert type(error) is ServerError and not error.retryable and error.attempts == 1
    assert server.attempts == 3


# --------------------------------------------------------------------------- rate limits

LIMITS = {
    "x-ratelimit-limit-requests": "500",
    "x-ratelimit-remaining-requests": "499",
    "x-ratelimit-reset-requests": "120ms",
    "x-ratelimit-limit-tokens": "30000",
    "x-ratelimit-remaining-tokens": "0",
    "x-ratelimit-reset-tokens": "6m0s",
}


async def test_complete_stream_and_error_carry_the_rate_limits_and_headers(
    make_client: Clients, server: FaultServer
) -> None:
    client = make_client("openai", max_retries=NO_RETRY)
    headers = {**LIMITS, "x-request-id": "req_rl"}
    server.script(
        Respond(200, completion_body("openai"), headers),
        Stream(whole_stream("openai", ["Hi"]), headers=headers),
        Respond(
            429,
            error_body("openai", 429, "rate_limit_exceeded", "slow"),
            {**headers, "retry-after": "7"},
        ),
    )
    requests = RateLimit(limit=500, remaining=499, reset_after=0.12)
    tokens = RateLimit(limit=30000, remaining=0, reset_after=360.0)

    response = await call(client.complete, messages=MESSAGES)
    assert (response.status_code, response.request_id) == (200, "req_rl")
    assert response.headers is not None and response.headers["x-ratelimit-limit-tokens"] == "30000"
    assert (response.rate_limits.requests, response.rate_limits.tokens) == (requests, tokens)

    stream = await call(client.stream_completion, messages=MESSAGES)
    assert stream.rate_limits.tokens == tokens
    whole = await call(stream.accumulate)
    assert whole.rate_limits == stream.rate_limits and whole.status_code == 200
    assert whole.headers is not None and whole.headers["x-request-id"] == "req_rl"

    error = await raises(client.complete, messages=MESSAGES)
    assert isinstance(error, RateLimitError) and error.rate_limits is not None
    assert error.rate_limits.tokens == tokens and error.rate_limits.retry_after == 7.0


async def test_an_error_mid_stream_carries_the_streams_rate_limits(
    make_client: Clients, server: FaultServer
) -> None:
    client = make_client("openai")
    events = STREAMS["openai"][0](["Hel"])
    server.script(Stream([*events], headers=LIMITS, end="close"))
    stream = await call(client.stream_completion, messages=MESSAGES)
    _, error = await drain(stream)
    assert type(error) is StreamInterruptedError
    assert error.rate_limits is not None and error.rate_limits.requests.remaining == 499


# --------------------------------------------------------------------------- the property

# what a provider does with one request: answer, fail before any content in one of three
# ways, or fail after some of its content
FAULTS = ["answer", "503", "reset", "overloaded-first-event", "cut-after-content"]
PROVIDERS = ["anthropic", "openrouter", "openai"]


def _behaviour(provider: str, fault: str, words: list[str]) -> Any:
    if fault == "answer":
        return good_stream(provider, words)
    if fault == "503":
        return Respond(503, error_body(provider, 503, "api_error", "down", code=503))
    if fault == "reset":
        return Reset()
    if fault == "overloaded-first-event":
        return overloaded_first(provider) if provider != "openai" else Reset()
    return stream_of(provider, STREAMS[provider][0](words[:1]), end="close")


def _answer_words(place: int) -> list[str]:
    return [f"p{place}-a ", f"p{place}-b ", f"p{place}-c"]


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_no_fault_schedule_ever_delivers_content_twice(is_async: bool) -> None:
    with (
        FaultServer("127.0.0.1") as s0,
        FaultServer("127.0.0.1") as s1,
        FaultServer("127.0.0.1") as s2,
    ):
        servers = [s0, s1, s2]

        @settings(
            max_examples=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            database=None,
        )
        @given(st.lists(st.sampled_from(FAULTS), min_size=1, max_size=3))
        def check(schedule: list[str]) -> None:
            before = [s.attempts for s in servers]
            # the chain must stop at the first answer or the first failure after content
            last = next(
                (i for i, f in enumerate(schedule) if f in ("answer", "cut-after-content")),
                len(schedule) - 1,
            )
            for place, fault in enumerate(schedule[: last + 1]):
                servers[place].script(_behaviour(PROVIDERS[place], fault, _answer_words(place)))
            texts, error, tried = _run(is_async, servers[: len(schedule)])
            delivered = "".join(texts)
            # one request to each provider up to that one, none after it (an unscripted
            # request would get a 418 and show here)
            sent = [s.attempts - b for s, b in zip(servers, before, strict=True)]
            assert sent == [1] * (last + 1) + [0] * (len(servers) - last - 1)
            assert all(s.pending == 0 for s in servers)
            words = _answer_words(last)
            if schedule[last] == "answer":
                assert error is None and delivered == "".join(words)
            elif schedule[last] == "cut-after-content":
                assert isinstance(error, StreamInterruptedError)
                assert delivered == words[0] == error.partial.content  # type: ignore[union-attr]
            else:
                assert error is not None and delivered == ""
            # one answer's text, in order, never a word twice nor two providers mixed
            assert delivered == "".join(words)[: len(delivered)]
            assert len(tried) == last + 1

        check()


def _run(is_async: bool, servers: list[FaultServer]) -> tuple[list[str], Any, Any]:
    """Streams through a chain of one client per server: the texts delivered, the error
    that ended the stream, and the chain's record of tries."""
    kinds = {"anthropic": "Anthropic", "openrouter": "OpenRouter", "openai": "OpenAI"}
    paths = {"anthropic": "", "openrouter": "/api/v1", "openai": "/v1"}

    def make(place: int) -> Any:
        provider = PROVIDERS[place]
        cls = getattr(modelwire, ("Async" if is_async else "") + kinds[provider])
        return cls(
            api_key="sk-property-test",
            base_url=servers[place].url + paths[provider],
            max_retries=NO_RETRY,
        )

    async def go() -> tuple[list[str], Any, Any]:
        clients = [make(place) for place in range(len(servers))]
        chain = modelwire.fallback(*clients)
        texts: list[str] = []
        error: ProviderError | None = None
        tried: Any = ()
        try:
            stream = await call(chain.stream_completion, messages=MESSAGES)
        except ProviderError as exc:
            error, tried = exc, exc.fallback_attempts
        else:
            texts, error = await drain(stream)
            tried = stream.fallback_attempts if error is None else error.fallback_attempts
            await call(stream.close)
        for client in clients:
            await call(client.close)
        return texts, error, tried

    return asyncio.run(go())
