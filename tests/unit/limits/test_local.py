"""The in-process limiter, through real clients on an in-memory transport, sync and async."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import modelwire
import pytest
from modelwire.limits import Limiter, LimitKey, Limits
from modelwire.testing import AsyncMockProvider, MockProvider
from modelwire.types import RateLimit, RateLimits

from tests.unit.support import OPENAI_TEXT

KEY = LimitKey("openai", "gpt-4o-mini")
HI = [{"role": "user", "content": "hi"}]  # estimated at 1 + 4 tokens besides max_tokens


class Busy:
    """Answers after `delay` seconds and keeps the most requests it ever had at once."""

    def __init__(self, delay: float = 0.05, usage: tuple[int, int] = (3, 1)) -> None:
        self.delay, self.usage = delay, usage
        self.now = self.most = self.served = 0
        self.lock = threading.Lock()

    def _body(self) -> dict[str, Any]:
        prompt, completion = self.usage
        return {**OPENAI_TEXT, "usage": {"prompt_tokens": prompt, "completion_tokens": completion}}

    def _enter(self) -> None:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def _leave(self) -> None:
        with self.lock:
            self.now -= 1
            self.served += 1

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self._enter()
        time.sleep(self.delay)
        self._leave()
        return httpx.Response(200, json=self._body())

    async def answer_async(self, request: httpx.Request) -> httpx.Response:
        self._enter()
        await asyncio.sleep(self.delay)
        self._leave()
        return httpx.Response(200, json=self._body())

    def client(self, limits: Any) -> modelwire.OpenAI:
        http = httpx.Client(transport=httpx.MockTransport(self))
        return modelwire.OpenAI(api_key="sk-x", http_client=http, max_retries=0, limits=limits)

    def async_client(self, limits: Any) -> modelwire.AsyncOpenAI:
        http = httpx.AsyncClient(transport=httpx.MockTransport(self.answer_async))
        return modelwire.AsyncOpenAI(api_key="sk-x", http_client=http, max_retries=0, limits=limits)


def test_sync_calls_never_exceed_the_concurrency_limit() -> None:
    server = Busy()
    client = server.client(Limits(max_concurrency=2))
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: client.complete(messages=HI, max_tokens=1), range(8)))
    assert (server.most, server.served) == (2, 8)


async def test_async_calls_never_exceed_the_concurrency_limit() -> None:
    server = Busy()
    async with server.async_client(Limits(max_concurrency=3)) as client:
        await asyncio.gather(*(client.complete(messages=HI, max_tokens=1) for _ in range(9)))
    assert (server.most, server.served) == (3, 9)


def test_one_limiter_is_shared_by_a_sync_and_an_async_client() -> None:
    server = Busy(delay=0.1)
    shared = Limiter(Limits(max_concurrency=2))
    sync_client, async_client = server.client(shared), server.async_client(shared)

    async def both() -> None:
        loop = asyncio.get_running_loop()
        sync_calls = [
            loop.run_in_executor(None, lambda: sync_client.complete(messages=HI, max_tokens=1))
            for _ in range(3)
        ]
        async_calls = [async_client.complete(messages=HI, max_tokens=1) for _ in range(3)]
        await asyncio.gather(*sync_calls, *async_calls)

    asyncio.run(both())
    assert (server.most, server.served) == (2, 6)
    assert shared.in_flight(KEY) == 0


def test_requests_per_minute_is_a_bucket_that_starts_full_and_refills_evenly() -> None:
    server = Busy(delay=0)
    client = server.client(Limits(requests_per_minute=300))  # 300 at once, then 5 a second
    started = time.monotonic()
    for _ in range(302):
        client.complete(messages=HI, max_tokens=1)
    elapsed = time.monotonic() - started
    assert 0.35 <= elapsed < 2.0  # the last two waited 0.2 s each


async def test_tokens_are_reconciled_with_the_usage_the_response_reports() -> None:
    # each request is estimated at 5 + 95 = 100 tokens of the 300 a minute; it uses 4
    server = Busy(delay=0, usage=(3, 1))
    async with server.async_client(Limits(tokens_per_minute=300)) as client:
        for _ in range(20):  # without reconciling, the fourth would wait 20 s
            await asyncio.wait_for(client.complete(messages=HI, max_tokens=95), 1.0)


async def test_without_usage_the_estimate_stands_and_the_bucket_empties() -> None:
    limiter = Limiter(Limits(tokens_per_minute=300))
    async with AsyncMockProvider("openai", limits=limiter) as mock:
        for _ in range(4):
            mock.reply("ok", usage=None)
        for _ in range(3):
            await mock.complete(messages=HI, max_tokens=95)
        with pytest.raises(TimeoutError):  # 100 tokens short: 20 s at 5 a second
            await asyncio.wait_for(mock.complete(messages=HI, max_tokens=95), 0.3)
        assert mock.pending == 1  # the fourth was never sent
        assert (
            limiter.in_flight(LimitKey(mock.spec.name, mock.model)) == 0
        )  # cancelled: no slot kept


async def test_usage_above_the_estimate_is_paid_for_by_the_next_calls() -> None:
    server = Busy(delay=0, usage=(200, 100))  # 300 used, 6 estimated
    async with server.async_client(Limits(tokens_per_minute=600)) as client:
        await client.complete(messages=HI, max_tokens=1)
        await client.complete(messages=HI, max_tokens=1)  # the bucket is at 0 now
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(client.complete(messages=HI, max_tokens=1), 0.3)


def test_a_stream_holds_its_slot_until_it_is_closed_and_settles_with_its_usage() -> None:
    limiter = Limiter(Limits(max_concurrency=1, tokens_per_minute=1000))
    mock = MockProvider("openai", limits=limiter)
    mock.reply("one two three", usage=(3, 3)).reply("again", usage=(1, 1))
    key = LimitKey(mock.spec.name, mock.model)
    with mock.stream_completion(messages=HI, max_tokens=95) as stream:
        assert limiter.in_flight(key) == 1
        assert stream.accumulate().usage == modelwire.Usage(input_tokens=3, output_tokens=3)
    assert limiter.in_flight(key) == 0
    with mock.stream_completion(messages=HI, max_tokens=95) as stream:  # never read
        pass
    assert limiter.in_flight(key) == 0
    # 1000 - 100 (estimated) + 100 - 6 (the first's usage) - 100 (the second: no usage read)
    state = limiter._states[key]
    assert state.tokens is not None and 890 <= state.tokens.level <= 900


async def test_an_async_stream_read_to_the_end_frees_its_slot() -> None:
    limiter = Limiter(Limits(max_concurrency=1))
    async with AsyncMockProvider("openai", limits=limiter) as mock:
        mock.reply("one two").reply("three")
        for _ in range(2):  # the second waits for nothing: the first freed its slot
            stream = await asyncio.wait_for(mock.stream_completion(messages=HI), 1.0)
            async with stream:
                assert (await stream.accumulate()).content
        assert limiter.in_flight(LimitKey(mock.spec.name, mock.model)) == 0


def test_a_failed_call_frees_its_slot() -> None:
    limiter = Limiter(Limits(max_concurrency=1))
    mock = MockProvider("openai", limits=limiter, max_retries=0)
    mock.fail(500).reply("fine")
    with pytest.raises(modelwire.ServerError):
        mock.complete(messages=HI)
    assert mock.complete(messages=HI).content == "fine"
    assert limiter.in_flight(LimitKey(mock.spec.name, mock.model)) == 0


@pytest.fixture
def observed() -> Iterator[Limiter]:
    yield Limiter(Limits(requests_per_minute=6000, tokens_per_minute=100_000))


def test_observe_empties_a_bucket_until_the_provider_says_it_resets(observed: Limiter) -> None:
    client = Busy(delay=0).client(observed)
    client.complete(messages=HI, max_tokens=1)
    observed.observe(KEY, RateLimits(requests=RateLimit(remaining=0, reset_after=0.3)))
    started = time.monotonic()
    client.complete(messages=HI, max_tokens=1)
    assert 0.25 <= time.monotonic() - started < 1.0


async def test_observe_lowers_a_bucket_to_what_remains(observed: Limiter) -> None:
    async with Busy(delay=0, usage=(0, 0)).async_client(observed) as client:
        await client.complete(messages=HI, max_tokens=1)
        observed.observe(
            KEY, RateLimits(tokens=RateLimit(remaining=10), requests=RateLimit(remaining=5000))
        )
        state = observed._states[KEY]
        assert state.tokens is not None and state.tokens.level <= 10
        assert state.requests is not None and 4999 <= state.requests.level <= 5000
        with pytest.raises(TimeoutError):  # 105 tokens wanted, 10 there, 1666 a second
            await asyncio.wait_for(client.complete(messages=HI, max_tokens=100), 0.01)


def test_observe_ignores_figures_the_provider_did_not_give(observed: Limiter) -> None:
    observed.observe(KEY, RateLimits())
    state = observed._states[KEY]
    assert state.requests is not None and state.requests.level == 6000
    unlimited = Limiter()
    unlimited.observe(
        KEY, RateLimits(requests=RateLimit(remaining=0))
    )  # no limits for the key: nothing
    assert unlimited._states == {}


async def test_burst_seconds_sets_how_much_goes_at_once() -> None:
    server = Busy(delay=0)
    # 10 a second, holding half a second's worth: 5 at once, then one every 0.1 s
    async with server.async_client(Limits(requests_per_minute=600, burst_seconds=0.5)) as client:
        started = time.monotonic()
        for _ in range(5):
            await client.complete(messages=HI, max_tokens=1)
        assert time.monotonic() - started < 0.1
        for _ in range(3):
            await client.complete(messages=HI, max_tokens=1)
        assert 0.25 <= time.monotonic() - started < 1.0


def test_a_stream_dropped_unclosed_gives_its_slot_back() -> None:
    limiter = Limiter(Limits(max_concurrency=1))
    mock = MockProvider("openai", limits=limiter).reply("one two three").reply("again")
    stream = mock.stream_completion(messages=HI)
    next(iter(stream))
    with pytest.warns(ResourceWarning, match="unclosed"):
        del stream
        gc.collect()
    assert limiter.in_flight(LimitKey(mock.spec.name, mock.model)) == 0
    assert mock.complete(messages=HI).content == "again"  # the slot is free: no wait
