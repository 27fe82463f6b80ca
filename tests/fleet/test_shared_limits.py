"""Limits shared through a real Redis: several processes together stay within them, as
the server's own request log counts; a Redis that goes away gives a typed error, or the
documented fallback, within its timeout, never a hang."""

from __future__ import annotations

import asyncio
import multiprocessing
import time

import modelwire
import pytest
from modelwire import LimiterUnavailableError
from modelwire.limits import Limiter, LimitKey, Limits, RedisLimiter

from .counting_server import CountingServer
from .redis_server import RedisServer
from .workers import HI, LIMITS, work

WORKERS = ("sync", "sync", "async", "async")
REQUESTS = 10  # each: 40 in all, 4 s at 10 a second after the first 10


def test_processes_sharing_a_redis_limiter_together_stay_within_it(
    redis_url: str, counting_server: CountingServer
) -> None:
    context = multiprocessing.get_context("spawn")  # fresh interpreters, as a fleet has
    go, done = context.Event(), context.Queue()
    processes = [
        context.Process(
            target=work, args=(mode, redis_url, counting_server.url, REQUESTS, go, done)
        )
        for mode in WORKERS
    ]
    for process in processes:
        process.start()
    time.sleep(1.0)  # every worker is up and waiting
    started = time.monotonic()
    go.set()
    answered = [done.get(timeout=60) for _ in processes]
    elapsed = time.monotonic() - started
    for process in processes:
        process.join(10)
        assert process.exitcode == 0

    total = len(WORKERS) * REQUESTS
    assert answered == [REQUESTS] * len(WORKERS)
    assert len(counting_server.arrivals) == total
    # the bucket: 10 at once, then 10 a second; one more for a request on a window's edge
    for window in (0.25, 0.5, 1.0, 2.0):
        assert counting_server.most_in_any_window(window) <= 10 + 10 * window + 1, window
    assert counting_server.most <= LIMITS.max_concurrency  # type: ignore[operator]
    assert counting_server.most >= 2  # the workers did overlap: the limit was what held them
    assert elapsed >= (total - 10) / 10 - 0.5  # no faster than the bucket refills


def redis_limiter(url: str, **kwargs: object) -> RedisLimiter:
    return RedisLimiter(Limits(max_concurrency=1, tokens_per_minute=600), url=url, **kwargs)  # type: ignore[arg-type]


def test_a_stopped_redis_gives_a_typed_error_within_the_timeout(
    redis_server: RedisServer, redis_url: str, counting_server: CountingServer
) -> None:
    limiter = redis_limiter(redis_url, timeout=0.5)
    client = modelwire.OpenAI(base_url=counting_server.url, api_key="sk-x", limits=limiter)
    assert client.complete(messages=HI, max_tokens=1).content == "ok"
    redis_server.stop()
    try:
        started = time.monotonic()
        with pytest.raises(
            LimiterUnavailableError, match=r"did not answer within 0\.5 s"
        ) as caught:
            client.complete(messages=HI, max_tokens=1)
        assert time.monotonic() - started < 2.0
        assert caught.value.retryable
        assert redis_url not in str(caught.value)

        async def async_call() -> None:
            async with modelwire.AsyncOpenAI(
                base_url=counting_server.url, api_key="sk-x", limits=limiter
            ) as async_client:
                await async_client.complete(messages=HI, max_tokens=1)

        started = time.monotonic()
        with pytest.raises(LimiterUnavailableError):
            asyncio.run(async_call())
        assert time.monotonic() - started < 2.0
        assert len(counting_server.arrivals) == 1  # nothing was sent while Redis was down
    finally:
        redis_server.start()
    # Redis came back empty (its scripts too): the limiter loads them again and goes on
    assert client.complete(messages=HI, max_tokens=1).content == "ok"
    assert len(counting_server.arrivals) == 2
    client.close()
    limiter.close()


def test_with_a_fallback_calls_go_on_under_in_process_limits_while_redis_is_down(
    redis_server: RedisServer, redis_url: str, counting_server: CountingServer
) -> None:
    fallback = Limiter(Limits(max_concurrency=1))
    limiter = redis_limiter(redis_url, timeout=0.5, fallback=fallback)
    client = modelwire.OpenAI(base_url=counting_server.url, api_key="sk-x", limits=limiter)
    redis_server.stop()
    try:
        started = time.monotonic()
        assert client.complete(messages=HI, max_tokens=1).content == "ok"
        assert time.monotonic() - started < 2.0
        assert fallback.in_flight(LimitKey("openai", "gpt-4o-mini")) == 0  # settled there
    finally:
        redis_server.start()
    client.close()
    limiter.close()


async def test_async_tokens_are_reconciled_in_redis(
    redis_url: str, counting_server: CountingServer
) -> None:
    # each call is estimated at 5 + 95 = 100 of the 600 a minute, and uses 4 (3 + 1)
    limiter = redis_limiter(redis_url)
    async with modelwire.AsyncOpenAI(
        base_url=counting_server.url, api_key="sk-x", limits=limiter
    ) as client:
        for _ in range(12):  # without reconciling, the seventh would wait 10 s
            await asyncio.wait_for(client.complete(messages=HI, max_tokens=95), 2.0)
    counting_server.usage = (300, 300)  # now each uses 600: the bucket goes empty
    async with modelwire.AsyncOpenAI(
        base_url=counting_server.url, api_key="sk-x", limits=limiter
    ) as client:
        await client.complete(messages=HI, max_tokens=95)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(client.complete(messages=HI, max_tokens=95), 0.5)
    await limiter.aclose()
    limiter.close()


def test_a_holder_that_never_settles_frees_its_slot_when_its_lease_ends(redis_url: str) -> None:
    limiter = RedisLimiter(Limits(max_concurrency=1), url=redis_url, lease=0.5)
    key = LimitKey("openai", "gpt-4o-mini")
    request = modelwire.CompletionRequest(messages=HI, max_tokens=1)  # type: ignore[arg-type]
    first = limiter.acquire(key, request)
    assert first is not None  # and its worker "dies": never settled
    started = time.monotonic()
    second = limiter.acquire(key, request)
    assert second is not None
    assert 0.3 <= time.monotonic() - started < 2.0
    second.settle()
    third = limiter.acquire(key, request)  # a settled slot is free at once
    assert third is not None
    limiter.close()


def test_observe_empties_the_shared_bucket_until_the_reset(redis_url: str) -> None:
    limiter = RedisLimiter(Limits(requests_per_minute=6000), url=redis_url)
    other_process = RedisLimiter(Limits(requests_per_minute=6000), url=redis_url)
    key = LimitKey("openai", "gpt-4o-mini")
    request = modelwire.CompletionRequest(messages=HI, max_tokens=1)  # type: ignore[arg-type]

    limiter.observe(
        key, modelwire.RateLimits(requests=modelwire.RateLimit(remaining=0, reset_after=0.4))
    )
    started = time.monotonic()
    permit = other_process.acquire(key, request)  # learnt by one, obeyed by all
    assert permit is not None
    assert 0.3 <= time.monotonic() - started < 2.0
    limiter.close()
    other_process.close()


def test_the_redis_password_appears_in_no_repr_and_no_error() -> None:
    from .redis_server import free_port

    url = f"redis://:s3cret-redis-password@127.0.0.1:{free_port()}/0"  # nothing listens
    limiter = RedisLimiter(Limits(max_concurrency=1), url=url, timeout=0.5)
    assert "s3cret" not in repr(limiter)
    request = modelwire.CompletionRequest(messages=HI, max_tokens=1)  # type: ignore[arg-type]
    with pytest.raises(LimiterUnavailableError) as caught:
        limiter.acquire(LimitKey("openai", "gpt-4o-mini"), request)
    assert "s3cret" not in str(caught.value) and "s3cret" not in repr(caught.value)
    assert "s3cret" not in repr(caught.value.__cause__)
    limiter.close()
