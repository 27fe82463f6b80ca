"""One stream's state (`modelwire._core.stream.StreamState`): bytes to chunks, the tail, and
the context every mid-stream error carries."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import modelwire
import pytest
from modelwire._core.stream import OPENING_LIMIT, StreamOpening, StreamState
from modelwire._framing import SSEDecoder
from modelwire.dialects.openai_chat import OpenAIStreamParser
from modelwire.errors import StreamEventError, StreamInterruptedError, StreamTimeoutError
from modelwire.hooks import ErrorEvent, Hooks
from modelwire.types import StreamingChunk

SECRET = "sk-hooks-secret-value-000111222"
SSE = (
    b'data: {"id":"c","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n'
    b'data: {"id":"c","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"lo"},'
    b'"finish_reason":"stop"}]}\n\n'
    b"data: [DONE]\n\n"
)


def test_no_hooks_cost_nothing_per_chunk() -> None:
    # a client without hooks keeps the accumulator's own bound method as the per-chunk step
    client = modelwire.OpenAI(
        api_key=SECRET,
        http_client=httpx.Client(
            transport=httpx.MockTransport(
                lambda r: httpx.Response(
                    200, content=SSE, headers={"content-type": "text/event-stream"}
                )
            )
        ),
    )
    stream = client.stream_completion(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    assert stream._state.add == stream._state._accumulator.add
    assert stream._state._watch is None  # nor any per-call state
    assert [c.content for c in stream] == ["Hel", "lo", ""]


def test_per_call_hooks_without_a_first_chunk_hook_cost_nothing_per_chunk() -> None:
    ended: list[Any] = []
    client = modelwire.OpenAI(
        api_key=SECRET,
        hooks=Hooks(on_end=ended.append),
        http_client=httpx.Client(
            transport=httpx.MockTransport(
                lambda r: httpx.Response(
                    200, content=SSE, headers={"content-type": "text/event-stream"}
                )
            )
        ),
    )
    stream = client.stream_completion(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    assert stream._state.add == stream._state._accumulator.add
    assert stream.accumulate().content == "Hello"
    assert [event.response.content for event in ended] == ["Hello"]


def state(**hooks: Any) -> StreamState:
    return StreamState(
        SSEDecoder(),
        OpenAIStreamParser(),
        lambda response: response.model_copy(update={"parsed": "finished"}),
        provider="openai",
        status_code=200,
        request_id="req_1",
        attempts=2,
        hooks=Hooks(**hooks),
    )


def feed(stream: StreamState, data: bytes) -> list[StreamingChunk]:
    """What a driver does with one read."""
    chunks = []
    for event in stream.decoder.feed(data):
        chunk = stream.parser.parse(event)
        if chunk is not None:
            stream.add(chunk)
            chunks.append(chunk)
    return chunks


def test_a_whole_stream() -> None:
    stream = state()
    assert [c.content for c in feed(stream, SSE)] == ["Hel", "lo", ""]
    assert stream.tail() == []
    assert stream.chunks_seen == 3
    response = stream.finish()
    assert (response.content, response.finish_reason, response.parsed) == (
        "Hello",
        "stop",
        "finished",
    )
    assert (response.request_id, response.attempts) == ("req_1", 2)


def test_the_tail_parses_what_the_decoder_still_held() -> None:
    stream = state()
    feed(stream, SSE[: -len(b"\n\n")])  # [DONE] without its blank line
    assert not stream.parser.finished
    (last,) = stream.tail()
    assert last.is_final and stream.chunks_seen == 3


def test_a_body_that_ends_before_the_terminal_event_is_interrupted() -> None:
    stream = state()
    feed(stream, SSE.replace(b"data: [DONE]\n\n", b""))
    with pytest.raises(StreamInterruptedError, match="ended before its terminal event"):
        stream.tail()


def test_a_chunk_hook_sees_every_chunk_after_the_accumulator() -> None:
    seen: list[tuple[str, int]] = []
    stream = state(on_chunk=lambda chunk: seen.append((chunk.content, stream.chunks_seen)))
    feed(stream, SSE)
    assert seen == [("Hel", 1), ("lo", 2), ("", 3)]


def test_a_failure_carries_the_streams_context_and_what_arrived(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="modelwire")
    events: list[ErrorEvent] = []
    stream = state(on_error=events.append)
    feed(stream, SSE[: SSE.index(b"data: [DONE]")])
    error = stream.failed(StreamEventError("boom"))
    assert (error.provider, error.request_id, error.status_code, error.attempts) == (
        "openai",
        "req_1",
        200,
        2,
    )
    assert error.partial is not None and error.partial.content == "Hello"
    assert error.partial.request_id == "req_1"
    assert events == [ErrorEvent("openai", error)]
    assert any("stream failed after 2 chunks" in r.getMessage() for r in caplog.records)
    # a stream error is shown without the 200 of its head
    assert str(error) == "[openai, request id req_1] boom"


def test_a_broken_transport_is_a_timeout_or_an_interruption() -> None:
    timed_out = state().broken(timed_out=True, detail="ReadTimeout")
    assert type(timed_out) is StreamTimeoutError
    assert timed_out.message == "no stream data within the idle timeout (ReadTimeout)"
    broken = state().broken(timed_out=False, detail="RemoteProtocolError()")
    assert type(broken) is StreamInterruptedError
    assert broken.message == "the connection broke mid-stream: RemoteProtocolError()"
    assert broken.partial is not None and broken.provider == "openai"


# --------------------------------------------------------------------------- the opening


def _opening() -> StreamOpening:
    from modelwire.dialects import get_dialect
    from modelwire.providers.anthropic import SPEC as ANTHROPIC

    return StreamOpening(SSEDecoder(), get_dialect(ANTHROPIC.dialect).stream_parser(ANTHROPIC))


def test_an_opening_holds_reads_until_the_first_content() -> None:
    from modelwire.dialects.anthropic_messages import AnthropicMessagesWriter
    from modelwire.dialects.base import Answer

    events = AnthropicMessagesWriter().stream(Answer(model="claude", chunks=["Hi"], id="msg_1"))
    opening = _opening()
    fed = [opening.feed(event.data) for event in events]
    # message_start, content_block_start and ping carry no content; the first delta does
    first_text = fed.index(True)
    assert not any(fed[:first_text]) and first_text >= 2
    assert opening.held == b"".join(event.data for event in events)
    assert opening.size == len(opening.held) and opening.broken is None


def test_an_opening_stops_holding_past_its_limit() -> None:
    opening = _opening()
    assert not opening.feed(b": comment\n\n")
    assert opening.feed(b":" + b"x" * OPENING_LIMIT + b"\n\n")


def test_an_opening_raises_the_first_events_error() -> None:
    opening = _opening()
    event = (
        b"event: error\ndata: "
        b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'
    )
    with pytest.raises(StreamEventError) as caught:
        opening.feed(event)
    assert caught.value.error_type == "overloaded_error"
