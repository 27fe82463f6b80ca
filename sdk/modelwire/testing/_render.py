"""A scripted answer as the bytes of the mock's dialect: each `Reply` and `Failure` of the
script becomes calls of the dialect's writer (`modelwire.dialects.get_writer`), which
spells the bodies, streams, error bodies and the models and embeddings answers the way
the real providers do, so the mocks exercise the real decoders and parsers.

What is left here is the mock's own: token counts made up from the request, stand-in
embeddings, and the request a reply answers.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..dialects import get_writer
from ..dialects.base import Answer, StreamEvent, ToolCallText
from ..types import Usage
from ._script import Failure, Reply

if TYPE_CHECKING:
    from ..spec import ProviderSpec

# stands in for the signature of a scripted reasoning, where the dialect sends one
SIGNATURE = "mock-signature"


@dataclass
class Context:
    """The request a reply answers."""

    spec: ProviderSpec
    body: dict[str, Any]  # the request's JSON body
    stream: bool
    number: int  # 1 for the first request of this mock

    @property
    def model(self) -> str:
        return str(self.body.get("model") or "mock-model")


def _count_words(value: Any) -> int:
    if isinstance(value, str):
        return len(value.split())
    if isinstance(value, list):
        return sum(_count_words(item) for item in value)
    if isinstance(value, dict):
        return sum(_count_words(value[k]) for k in ("content", "text", "system") if k in value)
    return 0


def _usage(reply: Reply, body: dict[str, Any]) -> Usage | None:
    """Words in the request and one token per chunk, unless the script gave the counts."""
    usage = reply.usage
    if usage is None:
        return None
    if usage == "auto":
        words = _count_words(body.get("messages")) + _count_words(body.get("system"))
        pieces = len(reply.chunks) + len(reply.tool_calls) + (1 if reply.reasoning else 0)
        return Usage(input_tokens=max(words, 1), output_tokens=max(pieces, 1))
    if isinstance(usage, tuple):
        return Usage(input_tokens=int(usage[0]), output_tokens=int(usage[1]))
    return Usage(input_tokens=int(usage.input_tokens), output_tokens=int(usage.output_tokens))


def _embedding_inputs(body: dict[str, Any]) -> list[Any]:
    inputs = body.get("input") or []
    return [inputs] if isinstance(inputs, str) else list(inputs)


def _vector(text: str) -> list[float]:
    """A deterministic 8-dimensional stand-in embedding."""
    digest = hashlib.sha256(text.encode()).digest()
    return [round(b / 255.0, 4) for b in digest[:8]]


class Renderer:
    """The script's answers in one dialect, through that dialect's writer."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.writer = get_writer(dialect)

    @property
    def stream_content_type(self) -> str:
        return self.writer.stream_content_type

    def answer(self, reply: Reply, ctx: Context) -> Answer:
        return Answer(
            model=ctx.model,
            chunks=reply.chunks,
            reasoning=reply.reasoning,
            reasoning_signature=SIGNATURE if reply.reasoning else None,
            tool_calls=[ToolCallText(c.name, c.arguments, c.id) for c in reply.tool_calls],
            usage=_usage(reply, ctx.body),
            finish_reason=reply.finish_reason,
            argument_chunk_size=reply.tool_chunk_size,
        )

    def body(self, reply: Reply, ctx: Context) -> bytes:
        """The whole (non-streamed) answer."""
        return self.writer.response(self.answer(reply, ctx))

    def events(self, reply: Reply, ctx: Context) -> list[StreamEvent]:
        """The streamed answer, event by event."""
        return self.writer.stream(self.answer(reply, ctx), ctx.body)

    def stream_error(self, reply: Reply) -> bytes:
        """The error event a `fail_mid_stream()` stream ends with."""
        return self.writer.stream_error(
            reply.error_message, error_type=reply.error_type, code=reply.error_code
        )

    def error_body(self, failure: Failure, message: str) -> bytes:
        """The body of a scripted HTTP error."""
        return self.writer.error_body(
            failure.status, message, error_type=failure.error_type, code=failure.code
        )

    def structured_tool(self, ctx: Context) -> str | None:
        """The tool a structured answer is sent as a call of (where the request forces
        one), or None to send it as text."""
        return self.writer.forced_tool(ctx.body)

    def models(self, spec: ProviderSpec, model: str | None) -> bytes:
        return self.writer.models(spec.models or [model or "mock-model"])

    def token_count(self, kind: str, body: dict[str, Any]) -> bytes:
        """A count of the request's words, as the counting endpoint answers: llama.cpp's
        `/tokenize` its tokens, the others `input_tokens`."""
        fields = ("system", "instructions", "messages", "input", "content")
        count = _count_words([body[key] for key in fields if key in body])
        if kind == "tokenize":
            return json.dumps({"tokens": list(range(count))}).encode()
        answer: dict[str, Any] = {"input_tokens": count}
        if self.dialect == "openai_responses":
            answer = {"object": "response.input_tokens", **answer}
        return json.dumps(answer).encode()

    def embeddings(self, body: dict[str, Any]) -> bytes:
        inputs = _embedding_inputs(body)
        return self.writer.embeddings(
            [_vector(str(text)) for text in inputs],
            model=body.get("model"),
            input_tokens=_count_words(inputs),
        )
