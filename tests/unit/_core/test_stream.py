"""One stream's state (`modelwire._core.stream.StreamState`)."""

from __future__ import annotations

import httpx
import modelwire

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
    assert [c.content for c in stream] == ["Hel", "lo", ""]
