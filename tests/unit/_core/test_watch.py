"""The per-call watch (`_core/watch.py`): on_start once, on_first_chunk once, on_end once
however a call ends, seen alone and through real clients (MockProvider)."""

from __future__ import annotations

import asyncio
from typing import Any

import modelwire
import pytest
from modelwire import Hooks
from modelwire._core.watch import CallWatch
from modelwire.hooks import StartEvent
from modelwire.testing import AsyncMockProvider, MockProvider


def test_the_end_is_told_once_with_the_time_since_the_start() -> None:
    ticks = iter([10.0, 10.5, 12.0, 99.0])
    seen: list[Any] = []
    start = StartEvent("openai", "openai_chat", "chat", "https://x/v1", "m", True)
    watch = CallWatch(
        Hooks(on_start=seen.append, on_first_chunk=seen.append, on_end=seen.append),
        start,
        clock=lambda: next(ticks),
    )
    watch.first_chunk(modelwire.StreamingChunk(content="a"))
    watch.end(None)
    watch.end(None)  # a second end (close() after the last chunk) is not told
    assert [type(e).__name__ for e in seen] == ["StartEvent", "FirstChunkEvent", "EndEvent"]
    assert seen[0] is start and (seen[1].elapsed, seen[2].elapsed) == (0.5, 2.0)


def test_a_failure_is_a_typed_error_or_what_interrupted_the_call() -> None:
    ended: list[Any] = []
    start = StartEvent("openai", "openai_chat", "chat", "https://x/v1", "m", False)
    error = modelwire.RateLimitError("slow down")
    CallWatch(Hooks(on_end=ended.append), start).failed(error)
    CallWatch(Hooks(on_end=ended.append), start).failed(KeyboardInterrupt())
    assert (ended[0].error, ended[0].interrupted_by) == (error, None)
    assert (ended[1].error, ended[1].interrupted_by) == (None, "KeyboardInterrupt")


class CallRecorder:
    def __init__(self) -> None:
        self.events: list[Any] = []

    def hooks(self) -> Hooks:
        return Hooks(
            on_start=self.events.append,
            on_first_chunk=self.events.append,
            on_end=self.events.append,
        )

    def kinds(self) -> list[str]:
        return [type(event).__name__ for event in self.events]


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_a_call_starts_once_and_ends_once_whatever_its_retries(asynchronous: bool) -> None:
    recorder = CallRecorder()
    mock_class = AsyncMockProvider if asynchronous else MockProvider
    client = mock_class(hooks=recorder.hooks()).fail(status=503).reply("a b c")
    if asynchronous:
        asyncio.run(client.complete(messages=[{"role": "user", "content": "hi"}]))
    else:
        client.complete(messages=[{"role": "user", "content": "hi"}])
    assert recorder.kinds() == ["StartEvent", "EndEvent"]
    start, end = recorder.events
    assert end.start is start and start.operation == "chat" and not start.stream
    assert end.response.content == "a b c" and end.error is None and end.elapsed >= 0
    assert start.request.messages[0].content == "hi"


def test_a_stream_tells_its_first_chunk_and_its_end() -> None:
    recorder = CallRecorder()
    client = MockProvider(hooks=recorder.hooks()).reply("a b c")
    with client.stream_completion(messages=[{"role": "user", "content": "hi"}]) as stream:
        chunks = list(stream)
    assert recorder.kinds() == ["StartEvent", "FirstChunkEvent", "EndEvent"]
    _, first, end = recorder.events
    assert first.chunk is chunks[0] and first.elapsed <= end.elapsed
    assert end.response.content == "a b c" and end.interrupted_by is None


def test_a_stream_closed_before_its_end_is_interrupted_by_generator_exit() -> None:
    recorder = CallRecorder()
    client = MockProvider(hooks=recorder.hooks()).reply("a b c d")
    stream = client.stream_completion(messages=[{"role": "user", "content": "hi"}])
    stream.close()  # never read
    stream.close()  # and the end is told once
    assert recorder.kinds() == ["StartEvent", "EndEvent"]
    assert recorder.events[1].interrupted_by == "GeneratorExit"


def test_a_failed_call_ends_with_its_typed_error() -> None:
    recorder = CallRecorder()
    client = MockProvider(hooks=recorder.hooks(), max_retries=0).fail(status=401)
    with pytest.raises(modelwire.AuthenticationError) as info:
        client.complete(messages=[{"role": "user", "content": "hi"}])
    assert recorder.events[-1].error is info.value


async def test_a_cancelled_async_stream_ends_interrupted_by_the_cancellation() -> None:
    recorder = CallRecorder()
    client = AsyncMockProvider(hooks=recorder.hooks()).reply("a b c d e f", delay=0.05)
    stream = await client.stream_completion(messages=[{"role": "user", "content": "hi"}])

    async def read() -> None:
        async with stream:
            async for _ in stream:
                pass

    task = asyncio.create_task(read())
    await asyncio.sleep(0.12)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    end = recorder.events[-1]
    assert recorder.kinds().count("EndEvent") == 1
    assert end.interrupted_by == "CancelledError" and end.error is None
    assert end.response.content  # what arrived before the cancellation
    await client.close()
