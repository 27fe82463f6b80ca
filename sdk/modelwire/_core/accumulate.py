"""Folds streaming chunks into the `CompletionResponse` that `complete()` would return.

Every stream feeds one, so that an error mid-stream can hand over everything received so
far. `add` is on the hot path and does as little as it can: it appends, and every
`FOLD_EVERY` chunks the deltas appended since are joined into one string, so a long stream
keeps its text, not one object per chunk: memory grows by the text's own size.
"""

from __future__ import annotations

from typing import Any

from ..dialects.base import parse_arguments
from ..types import (
    Citation,
    CompletionResponse,
    ContentPart,
    FinishReason,
    StreamingChunk,
    TextPart,
    ThinkingPart,
    ToolCall,
    Usage,
)

# chunks between two folds; a fold joins the deltas appended since the last one, and every
# FOLD_EVERY folds the joined blocks themselves, so each character is copied only a few times
FOLD_EVERY = 256  # a power of two


def _fold(parts: list[str], blocks: list[str]) -> None:
    if parts:
        blocks.append("".join(parts))
        parts.clear()
        if len(blocks) >= FOLD_EVERY:
            blocks[:] = ["".join(blocks)]


class _ToolCallParts:
    __slots__ = ("arguments", "blocks", "id", "name")

    def __init__(self) -> None:
        self.id: str | None = None
        self.name: str | None = None
        self.arguments: list[str] = []
        self.blocks: list[str] = []

    def text(self) -> str:
        return "".join(self.blocks) + "".join(self.arguments)


class _PartStart:
    """Where a part began in the stream: its text is the content (or reasoning) from
    `offset` to where the next part of its kind began."""

    __slots__ = ("citations", "offset", "part", "signature")

    def __init__(self, part: TextPart | ThinkingPart, offset: int) -> None:
        self.part = part
        self.offset = offset
        self.signature = part.signature if isinstance(part, ThinkingPart) else None
        self.citations: list[Citation] = (
            list(part.citations or ()) if isinstance(part, TextPart) else []
        )


def _length(parts: list[str], blocks: list[str]) -> int:
    return sum(map(len, blocks)) + sum(map(len, parts))


class Accumulator:
    __slots__ = (
        "_content",
        "_content_blocks",
        "_items",
        "_reasoning",
        "_reasoning_blocks",
        "_starts",
        "_text_start",
        "_thinking_start",
        "_tools",
        "chunks_seen",
        "finish_reason",
        "id",
        "model",
        "raw_finish_reason",
        "reasoning_signature",
        "usage",
    )

    def __init__(self) -> None:
        self._content: list[str] = []
        self._content_blocks: list[str] = []
        self._reasoning: list[str] = []
        self._reasoning_blocks: list[str] = []
        self._tools: dict[int, _ToolCallParts] = {}
        self._items: list[dict[str, Any]] = []
        # the parts of the answer, as the stream began them (none: one of each kind)
        self._starts: list[_PartStart] = []
        self._text_start: _PartStart | None = None
        self._thinking_start: _PartStart | None = None
        self.id: str | None = None
        self.model: str | None = None
        self.finish_reason: FinishReason | None = None
        self.raw_finish_reason: str | None = None
        self.reasoning_signature: str | None = None
        self.usage: Usage | None = None
        self.chunks_seen = 0

    def add(self, chunk: StreamingChunk) -> None:
        self.chunks_seen = seen = self.chunks_seen + 1
        if not seen & (FOLD_EVERY - 1):  # FOLD_EVERY is a power of two
            self._fold()
        if chunk.parts:  # before its text: a part begins where that does
            for part in chunk.parts:
                self._start(part)
        if chunk.content:
            self._content.append(chunk.content)
        if chunk.reasoning:
            self._reasoning.append(chunk.reasoning)
        if chunk.tool_calls:
            for delta in chunk.tool_calls:
                parts = self._tools.get(delta.index)
                if parts is None:
                    parts = self._tools[delta.index] = _ToolCallParts()
                # Some servers repeat the id and name on every fragment: set, never append.
                if delta.id:
                    parts.id = delta.id
                if delta.name:
                    parts.name = delta.name
                if delta.arguments:
                    parts.arguments.append(delta.arguments)
        if chunk.model and self.model is None:
            self.model = chunk.model
        if chunk.id and self.id is None:
            self.id = chunk.id
        if chunk.finish_reason is not None:
            self.finish_reason = chunk.finish_reason
            self.raw_finish_reason = chunk.raw_finish_reason
        if chunk.usage is not None:
            self.usage = chunk.usage
        if chunk.reasoning_signature:
            self.reasoning_signature = chunk.reasoning_signature
            if self._thinking_start is not None:
                self._thinking_start.signature = chunk.reasoning_signature
        if chunk.citations:
            if self._text_start is None:
                self._start(TextPart(text=""))
            assert self._text_start is not None
            self._text_start.citations.extend(chunk.citations)
        if chunk.items:
            self._items.extend(chunk.items)

    def tally(self, chunk: StreamingChunk) -> None:
        """`add` for a stream that keeps no text (`keep=False`): what a response says of
        itself, and no delta."""
        self.chunks_seen += 1
        if chunk.model and self.model is None:
            self.model = chunk.model
        if chunk.id and self.id is None:
            self.id = chunk.id
        if chunk.finish_reason is not None:
            self.finish_reason = chunk.finish_reason
            self.raw_finish_reason = chunk.raw_finish_reason
        if chunk.usage is not None:
            self.usage = chunk.usage

    def _start(self, part: TextPart | ThinkingPart) -> None:
        begun = self._begun(part)
        if begun is not None and isinstance(part, ThinkingPart):
            # the item of a part begun earlier, done: its final state (its text streamed)
            begun.part = part.model_copy(update={"text": ""})
            begun.signature = part.signature or begun.signature
            return
        if isinstance(part, TextPart):
            start = self._text_start = _PartStart(
                part, _length(self._content, self._content_blocks)
            )
        else:
            offset = _length(self._reasoning, self._reasoning_blocks)
            start = self._thinking_start = _PartStart(part, offset)
        self._starts.append(start)

    def _begun(self, part: TextPart | ThinkingPart) -> _PartStart | None:
        """The part begun earlier that `part` completes: a ThinkingPart of the same item."""
        item = part.native.get("id") if isinstance(part, ThinkingPart) and part.native else None
        if item is None:
            return None
        for start in self._starts:
            native = start.part.native if isinstance(start.part, ThinkingPart) else None
            if native and native.get("id") == item:
                return start
        return None

    def _parts(self, content: str, reasoning: str) -> list[ContentPart]:
        """The answer's parts in the order the stream began them, each with its text."""
        if not self._starts:
            parts: list[ContentPart] = []
            if reasoning or self.reasoning_signature:
                parts.append(ThinkingPart(text=reasoning, signature=self.reasoning_signature))
            if content:
                parts.append(TextPart(text=content))
            return parts
        ends: dict[int, int] = {}
        last: dict[bool, _PartStart] = {}
        for start in self._starts:
            kind = isinstance(start.part, TextPart)
            if kind in last:
                ends[id(last[kind])] = start.offset
            last[kind] = start
        out: list[ContentPart] = []
        for start in self._starts:
            whole = content if isinstance(start.part, TextPart) else reasoning
            text = whole[start.offset : ends.get(id(start), len(whole))]
            if isinstance(start.part, TextPart):
                citations = start.citations or None
                out.append(start.part.model_copy(update={"text": text, "citations": citations}))
            else:
                update = {"text": start.part.text + text, "signature": start.signature}
                out.append(start.part.model_copy(update=update))
        # text or reasoning that came before the first part of its kind began
        first_text = next((s for s in self._starts if isinstance(s.part, TextPart)), None)
        first_thinking = next((s for s in self._starts if isinstance(s.part, ThinkingPart)), None)
        lead = reasoning[: first_thinking.offset] if first_thinking else reasoning
        if lead:
            out.insert(0, ThinkingPart(text=lead))
        lead = content[: first_text.offset] if first_text else content
        if lead:
            at = next((i for i, p in enumerate(out) if isinstance(p, TextPart)), len(out))
            out.insert(at, TextPart(text=lead))
        return out

    def _fold(self) -> None:
        _fold(self._content, self._content_blocks)
        _fold(self._reasoning, self._reasoning_blocks)
        for parts in self._tools.values():
            _fold(parts.arguments, parts.blocks)

    def snapshot(self) -> CompletionResponse:
        tool_calls = [
            ToolCall(
                id=parts.id or f"call_{index}",
                name=parts.name or "",
                arguments=parse_arguments(parts.text()),
            )
            for index, parts in sorted(self._tools.items())
        ]
        content = "".join(self._content_blocks) + "".join(self._content)
        reasoning = "".join(self._reasoning_blocks) + "".join(self._reasoning)
        return CompletionResponse(
            id=self.id,
            model=self.model,
            content=content,
            reasoning=reasoning or None,
            reasoning_signature=self.reasoning_signature,
            tool_calls=tool_calls,
            parts=self._parts(content, reasoning),
            finish_reason=self.finish_reason,
            raw_finish_reason=self.raw_finish_reason,
            usage=self.usage,
            provider_items=list(self._items),
        )
