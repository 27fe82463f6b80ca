"""batch() and async_batch(): bounded concurrency, results as they come or in order, each
item's own error, progress, lazy reading of the requests, and stopping early."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import modelwire
import pytest
from modelwire import BatchProgress, BatchResult, ConfigurationError, Limits
from modelwire.errors import BadRequestError, RequestValidationError

from tests.unit.support import OPENAI_TEXT


def prompt(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


class Server:
    """Answers each prompt with itself after the seconds it names ("0.05 a"), a 400 for
    "bad", and keeps the most requests it had at once and the ones cancelled."""

    def __init__(self) -> None:
        self.now = self.most = self.cancelled = 0
        self.lock = threading.Lock()

    @staticmethod
    def _parse(request: httpx.Request) -> tuple[str, float]:
        text = json.loads(request.content)["messages"][0]["content"]
        delay = float(text.split()[0]) if text[0].isdigit() else 0.0
        return text, delay

    def _answer(self, text: str) -> httpx.Response:
        if text == "bad":
            return httpx.Response(400, json={"error": {"message": "no", "type": "invalid"}})
        message = {"role": "assistant", "content": text}
        choice = {"index": 0, "message": message, "finish_reason": "stop"}
        return httpx.Response(200, json={**OPENAI_TEXT, "choices": [choice]})

    def _enter(self) -> None:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def _leave(self) -> None:
        with self.lock:
            self.now -= 1

    def __call__(self, request: httpx.Request) -> httpx.Response:
        text, delay = self._parse(request)
        self._enter()
        time.sleep(delay)
        self._leave()
        return self._answer(text)

    async def answer_async(self, request: httpx.Request) -> httpx.Response:
        text, delay = self._parse(request)
        self._enter()
        try:
            await asyncio.sleep(delay)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self._leave()
        return self._answer(text)

    def client(self, **kwargs: Any) -> modelwire.OpenAI:
        http = httpx.Client(transport=httpx.MockTransport(self))
        return modelwire.OpenAI(api_key="sk-x", http_client=http, max_retries=0, **kwargs)

    def async_client(self, **kwargs: Any) -> modelwire.AsyncOpenAI:
        http = httpx.AsyncClient(transport=httpx.MockTransport(self.answer_async))
        return modelwire.AsyncOpenAI(api_key="sk-x", http_client=http, max_retries=0, **kwargs)


PROMPTS = [prompt("0.3 slow"), prompt("0.15 mid"), prompt("bad"), prompt("0.05 fast")]


def contents(results: list[BatchResult]) -> list[str | None]:
    return [r.response.content if r.response else None for r in results]


def test_results_come_as_they_complete_with_their_index_and_each_its_own_error() -> None:
    with modelwire.batch(Server().client(), PROMPTS, concurrency=4) as results:
        got = list(results)
    assert [r.index for r in got] == [2, 3, 1, 0]
    assert contents(got) == [None, "0.05 fast", "0.15 mid", "0.3 slow"]
    assert isinstance(got[0].error, BadRequestError) and not got[0].ok
    assert all(r.ok and r.error is None for r in got[1:])


async def test_async_results_come_as_they_complete_and_can_keep_input_order() -> None:
    async with Server().async_client() as client:
        async with modelwire.async_batch(client, PROMPTS, concurrency=4) as results:
            done = [r.index async for r in results]
        async with modelwire.async_batch(client, PROMPTS, concurrency=4, ordered=True) as results:
            ordered = [r async for r in results]
    assert done == [2, 3, 1, 0]
    assert [r.index for r in ordered] == [0, 1, 2, 3]
    assert contents(ordered) == ["0.3 slow", "0.15 mid", None, "0.05 fast"]
    assert isinstance(ordered[2].error, BadRequestError)


def test_sync_keeps_input_order_when_asked() -> None:
    with modelwire.batch(Server().client(), PROMPTS, concurrency=4, ordered=True) as results:
        assert [r.index for r in results] == [0, 1, 2, 3]


def test_no_more_than_concurrency_run_at_once() -> None:
    server = Server()
    with modelwire.batch(server.client(), [prompt("0.02 x")] * 12, concurrency=3) as results:
        assert len(list(results)) == 12
    assert server.most == 3


async def test_async_no_more_than_concurrency_run_at_once() -> None:
    server = Server()
    async with server.async_client() as client:
        results = modelwire.async_batch(client, [prompt("0.02 x")] * 12, concurrency=5)
        async with results:
            assert len([r async for r in results]) == 12
    assert server.most == 5


async def test_the_clients_limits_hold_under_a_batch() -> None:
    server = Server()
    async with server.async_client(limits=Limits(max_concurrency=2)) as client:
        results = modelwire.async_batch(client, [prompt("0.02 x")] * 8, concurrency=8)
        async with results:
            assert all([r.ok async for r in results])
    assert server.most == 2


def test_progress_is_reported_after_each_result() -> None:
    seen: list[BatchProgress] = []
    with modelwire.batch(Server().client(), PROMPTS, concurrency=2, on_progress=seen.append) as b:
        list(b)
    assert [(p.done, p.total) for p in seen] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert seen[-1].failed == 1 and seen[-1].in_flight == 0
    assert all(p.in_flight <= 2 for p in seen)


async def test_async_progress_without_a_length_has_no_total() -> None:
    seen: list[BatchProgress] = []
    async with Server().async_client() as client:
        requests = (p for p in PROMPTS)
        async with modelwire.async_batch(client, requests, on_progress=seen.append) as results:
            [r async for r in results]
    assert [p.total for p in seen] == [None] * 4
    assert seen[-1] == BatchProgress(done=4, failed=1, in_flight=0, total=None)


def test_requests_are_read_only_as_slots_free_up() -> None:
    pulled = 0

    def requests() -> Iterator[dict[str, Any]]:
        nonlocal pulled
        for _ in range(100):
            pulled += 1
            yield prompt("0 x")

    with modelwire.batch(Server().client(), requests(), concurrency=4) as results:
        next(iter(results))
        assert pulled <= 5  # 4 started, one more when the first ended
        assert len(list(results)) == 99
    assert pulled == 100


def test_fields_apply_to_every_request_and_a_bad_one_is_its_own_error() -> None:
    server = Server()
    requests: list[Any] = [prompt("0 a"), {"messages": "not a list"}, prompt("0 b")]
    with modelwire.batch(server.client(), requests, max_tokens=7, ordered=True) as results:
        got = list(results)
    assert isinstance(got[1].error, RequestValidationError)
    assert [r.ok for r in got] == [True, False, True]


def test_leaving_early_starts_nothing_more_and_waits_for_those_in_flight() -> None:
    server = Server()
    started = time.monotonic()
    with modelwire.batch(server.client(), [prompt("0.2 x")] * 20, concurrency=3) as results:
        for _ in results:
            break
    assert time.monotonic() - started < 1.0  # 3 in flight ended, 17 never started
    assert server.now == 0


async def test_breaking_out_cancels_what_is_in_flight() -> None:
    server = Server()
    async with server.async_client() as client:
        requests = [prompt("0 first"), *[prompt("30 slow")] * 5]
        async with modelwire.async_batch(client, requests, concurrency=4) as results:
            async for result in results:
                assert result.index == 0
                break
    assert server.cancelled == 3 and server.now == 0
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_cancelling_the_task_cancels_what_is_in_flight() -> None:
    server = Server()
    async with server.async_client() as client:

        async def run() -> None:
            async with modelwire.async_batch(client, [prompt("30 x")] * 6, concurrency=3) as r:
                async for _ in r:
                    pass

        task = asyncio.ensure_future(run())
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert server.cancelled == 3 and server.now == 0


@pytest.mark.parametrize("bad", [0, -1, 1.5])
def test_concurrency_must_be_a_whole_number_from_one(bad: Any) -> None:
    with pytest.raises(ConfigurationError, match="concurrency"):
        modelwire.batch(Server().client(), PROMPTS, concurrency=bad)
    with pytest.raises(ConfigurationError, match="concurrency"):
        modelwire.async_batch(Server().async_client(), PROMPTS, concurrency=bad)
