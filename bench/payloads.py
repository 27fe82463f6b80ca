"""Deterministic response bodies, shared by the server (which sends them) and the clients
(which check that what they consumed is complete).

Token `i` of every stream is the text `tok{i} `, so a dropped, duplicated or reordered
delta changes the concatenation. Events are shaped like the real providers' ones (compact
JSON, the same fields, the same framing), so that every client parses what it would parse
in production.
"""

from __future__ import annotations

import json
from typing import Any, Final

SHAPES: Final = ("openai", "anthropic", "ollama")
PATHS: Final = {
    "/v1/chat/completions": "openai",
    "/v1/messages": "anthropic",
    "/api/chat": "ollama",
}
MODELS: Final = {"openai": "gpt-4o-mini", "anthropic": "claude-sonnet-4-5", "ollama": "llama3.2"}
COMPLETION_TEXT: Final = "Hello from the bench server."
WRITE_SIZE: Final = 16 * 1024
CREATED: Final = 1_700_000_000


def token(i: int) -> str:
    return f"tok{i} "


def expected_text(chunks: int) -> str:
    return "".join(token(i) for i in range(chunks))


def _json(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _sse(data: Any, event: str | None = None) -> bytes:
    head = f"event: {event}\n".encode() if event else b""
    return head + b"data: " + _json(data) + b"\n\n"


# --------------------------------------------------------------------------- OpenAI


def _openai_chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": MODELS["openai"],
        "service_tier": "default",
        "system_fingerprint": "fp_bench",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        "usage": None,
    }


def _usage(chunks: int) -> dict[str, Any]:
    return {"prompt_tokens": 8, "completion_tokens": chunks, "total_tokens": chunks + 8}


def openai_events(chunks: int) -> list[bytes]:
    first = _openai_chunk({"role": "assistant", "content": "", "refusal": None})
    usage = _openai_chunk({}) | {"choices": [], "usage": _usage(chunks)}
    return [
        _sse(first),
        *(_sse(_openai_chunk({"content": token(i)})) for i in range(chunks)),
        _sse(_openai_chunk({}, "stop")),
        _sse(usage),
        b"data: [DONE]\n\n",
    ]


def openai_completion() -> bytes:
    return _json(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": CREATED,
            "model": MODELS["openai"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": COMPLETION_TEXT, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": _usage(6),
            "system_fingerprint": "fp_bench",
        }
    )


# --------------------------------------------------------------------------- Anthropic


def _anthropic_message(content: list[dict[str, Any]], stop: str | None) -> dict[str, Any]:
    return {
        "id": "msg_bench",
        "type": "message",
        "role": "assistant",
        "model": MODELS["anthropic"],
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": 8, "output_tokens": 1},
    }


def anthropic_events(chunks: int) -> list[bytes]:
    def delta(i: int) -> bytes:
        text = {"type": "text_delta", "text": token(i)}
        return _sse(
            {"type": "content_block_delta", "index": 0, "delta": text}, "content_block_delta"
        )

    return [
        _sse({"type": "message_start", "message": _anthropic_message([], None)}, "message_start"),
        _sse(
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
            "content_block_start",
        ),
        *(delta(i) for i in range(chunks)),
        _sse({"type": "content_block_stop", "index": 0}, "content_block_stop"),
        _sse(
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": chunks},
            },
            "message_delta",
        ),
        _sse({"type": "message_stop"}, "message_stop"),
    ]


def anthropic_completion() -> bytes:
    return _json(_anthropic_message([{"type": "text", "text": COMPLETION_TEXT}], "end_turn"))


# --------------------------------------------------------------------------- Ollama


def _ollama_record(content: str, *, done: bool) -> dict[str, Any]:
    record: dict[str, Any] = {
        "model": MODELS["ollama"],
        "created_at": "2024-11-25T16:00:00.000000000Z",
        "message": {"role": "assistant", "content": content},
        "done": done,
    }
    if done:
        record |= {
            "done_reason": "stop",
            "total_duration": 1_000_000,
            "load_duration": 1_000,
            "prompt_eval_count": 8,
            "prompt_eval_duration": 1_000,
            "eval_count": 1,
            "eval_duration": 1_000,
        }
    return record


def ollama_events(chunks: int) -> list[bytes]:
    lines = [_ollama_record(token(i), done=False) for i in range(chunks)]
    lines.append(_ollama_record("", done=True))
    return [_json(line) + b"\n" for line in lines]


def ollama_completion() -> bytes:
    return _json(_ollama_record(COMPLETION_TEXT, done=True))


# --------------------------------------------------------------------------- HTTP framing


def stream_events(shape: str, chunks: int) -> list[bytes]:
    return {"openai": openai_events, "anthropic": anthropic_events, "ollama": ollama_events}[shape](
        chunks
    )


def completion_body(shape: str) -> bytes:
    return {
        "openai": openai_completion,
        "anthropic": anthropic_completion,
        "ollama": ollama_completion,
    }[shape]()


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
