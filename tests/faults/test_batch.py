"""A batch left early against a real loopback server: nothing more is started, the
requests in flight are cancelled (async) or waited for (sync), and no connection stays
checked out of the client's pool."""

from __future__ import annotations

import asyncio
import time

import modelwire

from .server import FaultServer, Respond
from .support import API_KEY, MESSAGES, assert_pool_clean, completion_body

REQUESTS = [{"messages": MESSAGES}] * 10


def script(server: FaultServer, slow: float) -> None:
    body = completion_body("openai")
    server.script(Respond(200, body), *[Respond(200, body, delay=slow)] * 3)


async def test_breaking_out_of_an_async_batch_cancels_in_flight_requests(
    server: FaultServer,
) -> None:
    script(server, slow=20.0)
    async with modelwire.AsyncOpenAI(base_url=server.url + "/v1", api_key=API_KEY) as client:
        started = time.monotonic()
        async with modelwire.async_batch(client, REQUESTS, concurrency=4) as results:
            async for result in results:
                assert result.ok  # the fast one, whichever request it answered
                break
        assert time.monotonic() - started < 5.0  # cancelled, not waited for
        assert_pool_clean(client)
        await asyncio.sleep(0.1)
        # the three in flight and the first; the one that took the first's slot at most
        assert server.attempts in (4, 5)


def test_breaking_out_of_a_sync_batch_waits_for_in_flight_requests_and_starts_no_more(
    server: FaultServer,
) -> None:
    script(server, slow=0.3)
    with modelwire.OpenAI(base_url=server.url + "/v1", api_key=API_KEY) as client:
        with modelwire.batch(client, REQUESTS, concurrency=4) as results:
            for result in results:
                assert result.ok
                break
        assert_pool_clean(client)
        assert server.attempts in (4, 5)  # as above: nothing started after leaving
