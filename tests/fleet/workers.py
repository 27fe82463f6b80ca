"""What each worker process of the fleet tests runs: a client whose limits live in Redis,
sending its share of requests from several threads (sync) or tasks (async) at once, so
that without the shared limits the fleet would go well past them."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.synchronize import Event
from typing import Any

import modelwire
from modelwire.limits import Limits, RedisLimiter

# 10 requests a second, at most 10 at once after a quiet spell, at most 3 in flight
LIMITS = Limits(max_concurrency=3, requests_per_minute=600, burst_seconds=1)
PER_WORKER = 4  # threads or tasks in each worker
HI = [{"role": "user", "content": "hi"}]


def work(mode: str, redis_url: str, server_url: str, requests: int, go: Event, done: Any) -> None:
    limiter = RedisLimiter(LIMITS, url=redis_url, timeout=2.0)
    settings: dict[str, Any] = {"base_url": server_url, "api_key": "sk-fleet", "max_retries": 0}
    go.wait(30)
    if mode == "sync":
        with (
            modelwire.OpenAI(limits=limiter, **settings) as client,
            ThreadPoolExecutor(PER_WORKER) as pool,
        ):
            answers = list(
                pool.map(lambda _: client.complete(messages=HI, max_tokens=1), range(requests))
            )
    else:

        async def run() -> list[modelwire.CompletionResponse]:
            gate = asyncio.Semaphore(PER_WORKER)

            async def one() -> modelwire.CompletionResponse:
                async with gate:
                    return await async_client.complete(messages=HI, max_tokens=1)

            async with modelwire.AsyncOpenAI(limits=limiter, **settings) as async_client:
                answers = await asyncio.gather(*(one() for _ in range(requests)))
            await limiter.aclose()
            return answers

        answers = asyncio.run(run())
    limiter.close()
    done.put(sum(answer.content == "ok" for answer in answers))
