"""Faults of a stream's life, sync and async, against the loopback server: a hook that
raises on a stream, a stream dropped unclosed, cancellations under pool contention, a BOM
before the first event, `accumulate()` after the reading stopped early, and a JSON error
body under a 200 answering a stream. docs/faults.md has them as a table."""

from __future__ import annotations

import asyncio
import gc
import random
import time
import warnings
import weakref
from collections.abc import Iterator
from typing import Any

import modelwire
import pytest
from modelwire.errors import (
    APIStatusError,
    ConfigurationError,
    StreamIncompleteError,
    StreamTimeoutError,
)

from .server import FaultServer, Pause, Respond
from .support import (
    MESSAGES,
    STREAMS,
    VARIANTS,
    Clients,
    Variant,
    assert_pool_clean,
    call,
    completion_body,
    error_body,
    pool_of,
    raises,
    whole_stream,
)
from .test_faults import assert_recovers, stream_of

BOM = b"\xef\xbb\xbf"


async def next_chunk(stream: Any) -> Any:
    return await call(stream.__anext__ if hasattr(stream, "__anext__") else stream.__next__)


@pytest.fixture
def no_gc() -> Iterator[None]:
    """The cyclic GC off: what is freed is freed by reference counting alone, at once."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def settle(variant: Variant) -> None:
    """An async finalizer closes on the loop's next turn (see modelwire/_client/_lifecycle.py)."""
    if variant.is_async:
        for _ in range(3):
            await asyncio.sleep(0)


# --------------------------------------------------------------------------- hooks


async def test_an_on_response_hook_that_raises_on_a_stream_leaks_no_connection(
    make_client: Clients, server: FaultServer
) -> None:
    def on_response(event: modelwire.ResponseEvent) -> None:
        if event.stream:
            raise RuntimeError("the hook failed")

    client = make_client(hooks=modelwire.Hooks(on_response=on_response))
    for _ in range(12):
        server.script(stream_of("openai", whole_stream("openai", ["Hel", "lo!"])))
        with pytest.raises(RuntimeError, match="the hook failed"):
            await call(client.stream_completion, messages=MESSAGES)
        assert_pool_clean(client)  # closed at once, every time: the pool cannot run dry
    await assert_recovers(client, server)


# --------------------------------------------------------------------------- dropped streams


@pytest.mark.parametrize("read", [0, 1], ids=["never-read", "break-without-with"])
async def test_a_stream_dropped_unclosed_releases_its_connection_and_warns(
    make_client: Clients, server: FaultServer, variant: Variant, no_gc: None, read: int
) -> None:
    client = make_client()
    events = STREAMS["openai"][0](["one", "two", "three"])
    server.script(stream_of("openai", [*events, Pause(0.2), *events], end="hang"))
    stream = await call(client.stream_completion, messages=MESSAGES)
    for _ in range(read):
        await next_chunk(stream)
    assert pool_of(client)._requests, "an open stream holds its connection"
    alive = weakref.ref(stream)
    with pytest.warns(ResourceWarning, match="unclosed .*StreamingResponse"):
        del stream
    assert alive() is None, "with the GC off, only a reference cycle keeps it"
    await settle(variant)
    assert_pool_clean(client)
    await assert_recovers(client, server)


async def test_a_stream_iterated_without_a_name_reads_to_its_end(
    make_client: Clients, server: FaultServer, variant: Variant, no_gc: None
) -> None:
    # `for chunk in client.stream_completion(...)`: nothing but the loop holds the stream
    client = make_client()
    events = STREAMS["openai"][0](["one", "two"])
    server.script(stream_of("openai", [*events, Pause(0.1), *whole_stream("openai", ["three"])]))
    texts = []
    if variant.is_async:
        async for chunk in await client.stream_completion(messages=MESSAGES):
            texts.append(chunk.content)
    else:
        for chunk in client.stream_completion(messages=MESSAGES):
            texts.append(chunk.content)
    assert "".join(texts) == "onetwothree"
    await settle(variant)
    assert_pool_clean(client)


async def test_a_stream_read_with_keep_false_keeps_no_text(
    make_client: Clients, server: FaultServer, variant: Variant
) -> None:
    client = make_client()
    server.script(stream_of("openai", whole_stream("openai", ["Hel", "lo!"])))
    stream = await call(client.stream_completion, messages=MESSAGES)
    texts = []
    if variant.is_async:
        async for chunk in stream.iter_chunks(keep=False):
            texts.append(chunk.content)
    else:
        for chunk in stream.iter_chunks(keep=False):
            texts.append(chunk.content)
    assert "".join(texts) == "Hello!"
    kept = stream.snapshot()
    assert kept.content == "" and kept.finish_reason == "stop" and kept.usage is not None
    with pytest.raises(ConfigurationError, match="keep=False"):
        await call(stream.accumulate)
    await call(stream.close)
    assert_pool_clean(client)


async def test_keep_false_after_the_first_chunk_is_refused(
    make_client: Clients, server: FaultServer
) -> None:
    client = make_client()
    server.script(stream_of("openai", whole_stream("openai", ["Hel", "lo!"])))
    stream = await call(client.stream_completion, messages=MESSAGES)
    await next_chunk(stream)
    with pytest.raises(ConfigurationError, match="before the stream's first chunk"):
        await next_chunk(stream.iter_chunks(keep=False))
    await call(stream.close)


@pytest.mark.parametrize("how", ["close", "read-to-the-end"])
async def test_a_stream_closed_or_finished_warns_of_nothing_when_dropped(
    make_client: Clients, server: FaultServer, variant: Variant, no_gc: None, how: str
) -> None:
    client = make_client()
    server.script(stream_of("openai", whole_stream("openai", ["Hel", "lo!"])))
    stream = await call(client.stream_completion, messages=MESSAGES)
    if how == "close":
        await call(stream.close)
    else:
        assert (await call(stream.accumulate)).content == "Hello!"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        del stream
    await assert_recovers(client, server)


# --------------------------------------------------------------------------- cancellation


# task cancellation is asyncio's: the sync client has no tasks to cancel (KeyboardInterrupt
# is its case, below)
ASYNC_ONLY = [variant for variant in VARIANTS if variant.is_async]


@pytest.mark.parametrize("variant", ASYNC_ONLY, ids=lambda v: v.name)
async def test_ten_thousand_cancellations_under_pool_contention_leave_the_pool_whole(
    make_client: Clients, server: FaultServer, variant: Variant
) -> None:
    client = make_client()
    pool = pool_of(client)
    pool._max_connections = pool._max_keepalive_connections = 5  # contention: 50 tasks, 5 slots
    events = STREAMS["openai"][0](["one", "two", "three"])
    end = STREAMS["openai"][1]
    body = [events[0], Pause(0.001), *events[1:], *end]

    async def one() -> None:
        stream = await client.stream_completion(messages=MESSAGES, timeout=modelwire.Timeout(5))
        async with stream:
            async for _ in stream:
                pass

    async def cancel_soon(task: asyncio.Task[None], turns: int) -> None:
        for _ in range(turns):
            await asyncio.sleep(0)
        task.cancel()

    rng = random.Random(18)
    cancelled = 0
    started = time.monotonic()
    while cancelled < 10_000:
        server.script(*[stream_of("openai", body) for _ in range(50)])
        tasks = [asyncio.create_task(one()) for _ in range(50)]
        cancellers = [asyncio.create_task(cancel_soon(t, rng.randrange(0, 20))) for t in tasks]
        results = await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*cancellers)
        cancelled += sum(isinstance(r, asyncio.CancelledError) for r in results)
        assert time.monotonic() - started < 240, "10,000 cancellations must end in bounded time"
        assert not [r for r in results if r is not None and not isinstance(r, BaseException)]
    # every behaviour not consumed yet is dropped: the next request must get its own answer
    with server._lock:
        server._script.clear()
    await asyncio.sleep(0.05)
    assert not pool._requests, f"cancelled requests still hold the pool: {pool}"
    stuck = [c.info() for c in pool.connections if not (c.is_idle() or c.is_closed())]
    assert not stuck, f"slots leaked by cancellations: {stuck}"
    # a request the client cancelled may still reach the server late and take one answer:
    # there are enough for those and for this one
    server.script(*[Respond(200, completion_body("openai", "recovered")) for _ in range(60)])
    response = await client.complete(messages=MESSAGES)
    assert response.content == "recovered"
    assert_pool_clean(client)


# --------------------------------------------------------------------------- lost data


@pytest.mark.parametrize("provider", ["openai", "anthropic", "openrouter"])
async def test_a_bom_before_the_first_event_loses_no_event(
    make_client: Clients, server: FaultServer, provider: str
) -> None:
    client = make_client(provider)
    events = whole_stream(provider, ["Hel", "lo!"])
    events[0] = BOM + events[0]
    server.script(stream_of(provider, events))
    stream = await call(client.stream_completion, messages=MESSAGES)
    response = await call(stream.accumulate)
    assert response.content == "Hello!"
    assert response.finish_reason == "stop" and response.usage is not None
    await assert_recovers(client, server, provider)


def _chunk_hook_interrupting_after(count: int) -> modelwire.Hooks:
    seen: list[object] = []

    def on_chunk(chunk: modelwire.StreamingChunk) -> None:
        seen.append(chunk)
        if len(seen) == count:
            raise KeyboardInterrupt

    return modelwire.Hooks(on_chunk=on_chunk)


STOPS = [
    *(
        (variant, how)
        for variant in VARIANTS
        for how in ("close", "keyboard-interrupt", "idle-timeout")
    ),
    *((variant, "cancel") for variant in ASYNC_ONLY),
]


@pytest.mark.parametrize(("variant", "how"), STOPS, ids=[f"{v.name}-{h}" for v, h in STOPS])
async def test_accumulate_after_the_reading_stopped_raises_with_the_partial(
    make_client: Clients, server: FaultServer, variant: Variant, how: str
) -> None:
    events = STREAMS["openai"][0](["one ", "two ", "three"])
    kwargs: dict[str, Any] = {}
    if how == "keyboard-interrupt":
        kwargs["hooks"] = _chunk_hook_interrupting_after(len(events) - 1)
    if how == "idle-timeout":
        kwargs["timeout"] = modelwire.Timeout(stream_idle=0.3)
    client = make_client(**kwargs)
    # every event but the last text, then a pause the reader is stopped in
    server.script(stream_of("openai", [*events[:-1], Pause(1.0), *events[-1:]], end="hang"))
    stream = await call(client.stream_completion, messages=MESSAGES)
    if how == "close":
        while stream.snapshot().content != "one two ":
            await next_chunk(stream)
        await call(stream.close)
    elif how == "keyboard-interrupt":
        with pytest.raises(KeyboardInterrupt):
            for _ in range(len(events)):
                await next_chunk(stream)
    elif how == "idle-timeout":
        with pytest.raises(StreamTimeoutError):
            for _ in range(len(events)):
                await next_chunk(stream)
    else:

        async def read_all() -> None:
            async for _ in stream:
                pass

        task = asyncio.create_task(read_all())
        await asyncio.sleep(0.3)  # two chunks in, waiting on the pause
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    error = await raises(stream.accumulate)
    assert isinstance(error, StreamIncompleteError)
    assert error.partial is not None
    assert error.partial.content == "one two " == stream.snapshot().content
    assert error.partial.finish_reason is None
    assert (error.provider, error.attempts) == ("openai", 1)
    assert "partial" in error.message
    # asked again, it says the same: what arrived is never passed off as the whole answer
    assert isinstance(await raises(stream.accumulate), StreamIncompleteError)
    assert stream.closed
    await assert_recovers(client, server)


@pytest.mark.parametrize("provider", ["openai", "anthropic", "openrouter"])
async def test_a_json_error_body_under_a_200_to_a_stream_keeps_the_servers_message(
    make_client: Clients, server: FaultServer, provider: str
) -> None:
    client = make_client(provider)
    body = error_body(provider, 200, "invalid_request_error", "max_tokens: too large", code=400)
    server.script(
        Respond(200, body, headers={"x-request-id": "req_json", "request-id": "req_json"})
    )
    error = await raises(client.stream_completion, messages=MESSAGES)
    assert isinstance(error, APIStatusError)
    assert error.message == "max_tokens: too large"
    assert error.body == modelwire._core.policy.decode_body(body)
    assert (error.status_code, error.request_id, error.attempts) == (200, "req_json", 1)
    if provider != "openrouter":
        assert error.error_type == "invalid_request_error"
    else:
        assert error.error_code == "400"
    assert not error.retryable and server.attempts == 1
    await assert_recovers(client, server, provider)
