"""Observability: event hooks and log records, sync and async, keys never included."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import modelwire
import pytest
from modelwire import (
    ErrorEvent,
    Hooks,
    RequestEvent,
    ResponseEvent,
    RetryEvent,
    RetryPolicy,
    StreamingChunk,
)

SECRET = "sk-hooks-secret-value-000111222"
SSE = (
    b'data: {"id":"c","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n'
    b'data: {"id":"c","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"lo"},'
    b'"finish_reason":"stop"}]}\n\n'
    b"data: [DONE]\n\n"
)


class Recorder:
    def __init__(self) -> None:
        self.events: list[Any] = []

    def hooks(self) -> Hooks:
        return Hooks(
            on_request=self.events.append,
            on_response=self.events.append,
            on_chunk=self.events.append,
            on_retry=self.events.append,
            on_error=self.events.append,
        )

    def kinds(self) -> list[str]:
        return [type(e).__name__ for e in self.events]


def scripted(*responses: httpx.Response) -> list[httpx.Response]:
    return list(responses)


def make(recorder: Recorder, responses: list[httpx.Response], *, asynchronous: bool) -> Any:
    queue = list(responses)

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == f"Bearer {SECRET}"
        return queue.pop(0)

    transport = httpx.MockTransport(answer)
    kwargs: dict[str, Any] = {
        "api_key": SECRET,
        "hooks": recorder.hooks(),
        "max_retries": RetryPolicy(max_retries=2, initial_delay=0.001, max_delay=0.002),
    }
    if asynchronous:
        return modelwire.AsyncOpenAI(http_client=httpx.AsyncClient(transport=transport), **kwargs)
    return modelwire.OpenAI(http_client=httpx.Client(transport=transport), **kwargs)


def run_stream(client: Any, *, asynchronous: bool) -> str:
    request = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    if not asynchronous:
        return str(client.stream_completion(**request).accumulate().content)

    async def go() -> str:
        stream = await client.stream_completion(**request)
        return (await stream.accumulate()).content

    return asyncio.run(go())


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_hooks_see_a_retry_then_every_chunk(asynchronous: bool) -> None:
    recorder = Recorder()
    responses = scripted(
        httpx.Response(503, json={"error": {"message": "busy"}}, headers={"x-request-id": "r1"}),
        httpx.Response(
            200, content=SSE, headers={"content-type": "text/event-stream", "x-request-id": "r2"}
        ),
    )
    text = run_stream(
        make(recorder, responses, asynchronous=asynchronous), asynchronous=asynchronous
    )
    assert text == "Hello"
    assert recorder.kinds() == [
        "RequestEvent",
        "RetryEvent",
        "RequestEvent",
        "ResponseEvent",
        "StreamingChunk",
        "StreamingChunk",
        "StreamingChunk",
    ]
    first, retry, second, response = recorder.events[:4]
    assert isinstance(first, RequestEvent) and first.attempt == 1 and first.stream
    assert first.model == "gpt-4o-mini" and first.provider == "openai"
    assert isinstance(retry, RetryEvent) and retry.error.status_code == 503
    assert isinstance(second, RequestEvent) and second.attempt == 2
    assert isinstance(response, ResponseEvent)
    assert (response.status_code, response.request_id, response.attempt) == (200, "r2", 2)
    chunks = [e for e in recorder.events if isinstance(e, StreamingChunk)]
    assert chunks[-1].is_final


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_error_hook_on_a_mid_stream_failure(asynchronous: bool) -> None:
    recorder = Recorder()
    broken = SSE.replace(b"data: [DONE]\n\n", b"")
    responses = scripted(
        httpx.Response(200, content=broken, headers={"content-type": "text/event-stream"})
    )
    with pytest.raises(modelwire.StreamInterruptedError):
        run_stream(make(recorder, responses, asynchronous=asynchronous), asynchronous=asynchronous)
    (error_event,) = [e for e in recorder.events if isinstance(e, ErrorEvent)]
    assert error_event.error.partial is not None
    assert error_event.error.partial.content == "Hello"


def test_error_hook_when_retries_are_exhausted() -> None:
    recorder = Recorder()
    responses = scripted(*(httpx.Response(500, json={"error": {"message": "x"}}) for _ in range(3)))
    client = make(recorder, responses, asynchronous=False)
    with pytest.raises(modelwire.ServerError):
        client.complete(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert recorder.kinds().count("RequestEvent") == 3
    assert recorder.kinds().count("RetryEvent") == 2
    assert recorder.kinds()[-1] == "ErrorEvent"
    assert recorder.events[-1].error.attempts == 3


def test_logs_carry_request_ids_and_timings_never_keys(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="modelwire")
    recorder = Recorder()
    responses = scripted(
        httpx.Response(429, json={"error": {"message": "slow down"}}, headers={"retry-after": "0"}),
        httpx.Response(
            200,
            content=SSE,
            headers={"content-type": "text/event-stream", "x-request-id": "req_42"},
        ),
    )
    client = make(recorder, responses, asynchronous=False)
    assert run_stream(client, asynchronous=False) == "Hello"
    messages = [r.getMessage() for r in caplog.records]
    assert any("retrying POST" in m and "RateLimitError" in m for m in messages)
    assert any("-> 200" in m and "request id req_42" in m and "attempt 2" in m for m in messages)
    everything = " ".join(messages) + repr(client) + " ".join(repr(e) for e in recorder.events)
    assert SECRET not in everything
    assert SECRET[-6:] not in everything


def test_no_hooks_by_default_and_hooks_are_values() -> None:
    assert Hooks() == modelwire.hooks.NO_HOOKS
    assert all(getattr(Hooks(), name) is None for name in Hooks.__dataclass_fields__)
    with pytest.raises(AttributeError):
        Hooks().on_chunk = print  # type: ignore[misc]
    event = RequestEvent("openai", "POST", "https://x/v1/chat", "m", False, 1)
    with pytest.raises(AttributeError):
        event.attempt = 2  # type: ignore[misc]
    error = modelwire.ServerError("down")
    assert ErrorEvent("openai", error) == ErrorEvent("openai", error)


def test_an_async_hook_is_refused_when_the_hooks_are_made() -> None:
    async def on_chunk(chunk: object) -> None:
        pass

    with pytest.raises(modelwire.ConfigurationError, match="async def"):
        Hooks(on_chunk=on_chunk)


def test_combined_hooks_call_each_in_turn() -> None:
    seen: list[str] = []
    first = Hooks(on_start=lambda e: seen.append("first"), on_end=lambda e: seen.append("end"))
    second = Hooks(on_start=lambda e: seen.append("second"))
    combined = Hooks.combine(first, second)
    assert combined.on_end is first.on_end  # one hook alone is passed as it is
    assert combined.on_chunk is None
    from modelwire.testing import MockProvider

    MockProvider(hooks=combined).reply("x").complete(messages=[{"role": "user", "content": "hi"}])
    assert seen == ["first", "second", "end"]
