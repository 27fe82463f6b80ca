"""Deterministic response bodies, shared by the server (which sends them) and the clients
(which check that what they consumed is complete).

Token `i` of every stream is the text `tok{i} `, so a dropped, duplicated or reordered
delta changes the concatenation. The bodies and events are written by each dialect's
writer (`modelwire.dialects`), the bytes the real providers send (compact JSON, their
fields and framing), so that every client parses what it would parse in production; this
module adds only the HTTP framing.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from modelwire.dialects.base import Answer, Writer

SHAPES: Final = ("openai", "anthropic", "ollama")
PATHS: Final = {
    "/v1/chat/completions": "openai",
    "/v1/messages": "anthropic",
    "/api/chat": "ollama",
}
MODELS: Final = {"openai": "gpt-4o-mini", "anthropic": "claude-sonnet-4-5", "ollama": "llama3.2"}
IDS: Final = {"openai": "chatcmpl-bench", "anthropic": "msg_bench", "ollama": None}
COMPLETION_TEXT: Final = "Hello from the bench server."
WRITE_SIZE: Final = 16 * 1024
CREATED: Final = 1_700_000_000
OLLAMA_CREATED_AT: Final = "2024-11-25T16:00:00.000000000Z"
PROMPT_TOKENS: Final = 8


def token(i: int) -> str:
    return f"tok{i} "


def expected_text(chunks: int) -> str:
    return "".join(token(i) for i in range(chunks))


# --------------------------------------------------------------------------- bodies
#
# The bytes come from each dialect's writer (modelwire.dialects), imported only when a
# body is built: the measured processes import this module, and must not load modelwire
# for it.


@cache
def _writer(shape: str, *, stream: bool) -> Writer:
    from modelwire.dialects.anthropic_messages import AnthropicMessagesWriter
    from modelwire.dialects.ollama_chat import OllamaChatWriter
    from modelwire.dialects.openai_chat import OpenAIChatWriter

    if shape == "openai":
        # OpenAI stamps a stream's chunks with its service tier, not its completions
        tier = "default" if stream else None
        return OpenAIChatWriter(created=CREATED, service_tier=tier, system_fingerprint="fp_bench")
    if shape == "anthropic":
        return AnthropicMessagesWriter(ping=False)
    return OllamaChatWriter(created_at=OLLAMA_CREATED_AT)


def _answer(shape: str, texts: list[str], output_tokens: int) -> Answer:
    from modelwire.dialects.base import Answer
    from modelwire.types import Usage

    usage = Usage(input_tokens=PROMPT_TOKENS, output_tokens=output_tokens)
    return Answer(model=MODELS[shape], id=IDS[shape], chunks=texts, usage=usage)


def stream_events(shape: str, chunks: int) -> list[bytes]:
    """The framed events of a stream of `chunks` tokens, terminal event included."""
    # Ollama's last record counts one token whatever the stream's length
    output_tokens = 1 if shape == "ollama" else chunks
    answer = _answer(shape, [token(i) for i in range(chunks)], output_tokens)
    return [event.data for event in _writer(shape, stream=True).stream(answer)]


def completion_body(shape: str) -> bytes:
    output_tokens = {"openai": 6, "anthropic": 1, "ollama": 1}[shape]
    return _writer(shape, stream=False).response(_answer(shape, [COMPLETION_TEXT], output_tokens))


# --------------------------------------------------------------------------- HTTP framing


def _head(status: str, content_type: str, extra: str) -> bytes:
    return (
        f"HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\n{extra}"
        "connection: keep-alive\r\nx-request-id: req_bench\r\n\r\n"
    ).encode()


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def stream_response(shape: str, chunks: int, write_size: int = WRITE_SIZE) -> list[bytes]:
    """The full response as the list of socket writes: the head and the first event at
    once (a real server flushes it immediately), then ~`write_size` chunked pieces."""
    content_type = "application/x-ndjson" if shape == "ollama" else "text/event-stream"
    head = _head(
        "200 OK", content_type, "transfer-encoding: chunked\r\ncache-control: no-cache\r\n"
    )
    events = stream_events(shape, chunks)
    rest = b"".join(events[1:])
    writes = [head + _chunk(events[0])]
    writes += [_chunk(rest[i : i + write_size]) for i in range(0, len(rest), write_size)]
    writes.append(b"0\r\n\r\n")
    return writes


def json_response(body: bytes, status: str = "200 OK") -> bytes:
    return _head(status, "application/json", f"content-length: {len(body)}\r\n") + body
