"""Structured output while it streams: the JSON received so far, parsed as partial JSON
(pydantic-core's parser, which closes what is left open) and validated against the
response format's model. Pure: a stream feeds it its chunks.

A partial object is always a valid instance of the model: when the text so far misses a
required field, the last value in it (most often an unfinished list item) is left out
until it validates, as pydantic-ai's partial validation does; when nothing validates yet,
there is no partial object. Each one grows from the one before: a string is only ever
extended, a list only gains items, a number is shown once it is whole.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from pydantic_core import from_json

from ..types import ResponseFormat, StreamingChunk

# how many trailing values are left out, at most, looking for a partial that validates
MAX_TRIMS = 32
# a partial text ending in one of these may end inside a number ("12" of "125")
_NUMBER_TAIL = frozenset("0123456789.eE+-")


def _without_last(value: Any) -> Any:
    """`value` without its last leaf: the last item of the innermost last container."""
    if isinstance(value, dict) and value:
        key = next(reversed(value))
        inner = value[key]
        if isinstance(inner, (dict, list)) and inner:
            return {**value, key: _without_last(inner)}
        return {k: v for k, v in value.items() if k != key}
    if isinstance(value, list) and value:
        inner = value[-1]
        if isinstance(inner, (dict, list)) and inner:
            return [*value[:-1], _without_last(inner)]
        return value[:-1]
    return None


class PartialOutput:
    """The partial structured output of one stream. `feed(chunk)` returns a new partial
    object when the chunk changed it, else None."""

    __slots__ = ("_format", "_last", "_last_shown", "_last_value", "_source", "_text")

    def __init__(self, response_format: ResponseFormat) -> None:
        self._format = response_format
        self._text = ""
        # where the output arrives: the text, or (structured output through a forced
        # tool) the first tool call's arguments; whichever shows first
        self._source: str | None = None
        # the last partial JSON value parsed, the last partial object given, and that
        # object as JSON (comparing models field by field costs far more)
        self._last_value: Any = None
        self._last_shown: Any = None
        self._last: Any = None

    def feed(self, chunk: StreamingChunk) -> Any:
        if chunk.content and self._source != "tool":
            self._source = "text"
            self._text += chunk.content
        elif chunk.tool_calls and self._source != "text":
            pieces = [d.arguments for d in chunk.tool_calls if d.index == 0 and d.arguments]
            if not pieces:
                return None
            self._source = "tool"
            self._text += "".join(pieces)
        else:
            return None
        text = self._text
        if text.rstrip()[-1:] in _NUMBER_TAIL:
            return None
        try:
            value = from_json(text, allow_partial="trailing-strings")
        except ValueError:  # not JSON (yet, or at all): the final parse says which
            return None
        if value == self._last_value:
            return None
        self._last_value = value
        found = self._validated(value)
        if found is None or found[0] == self._last_shown:
            return None
        self._last_shown, self._last = found
        return self._last

    @property
    def last(self) -> Any:
        """The last partial object given (None before the first)."""
        return self._last

    def _validated(self, value: Any) -> tuple[Any, Any] | None:
        """(the object made of the part of `value` that validates, as JSON; the object),
        or None."""
        model = self._format.model
        if model is None:
            return value, value
        for _ in range(MAX_TRIMS):
            try:
                made = model.model_validate(value)
                return made.model_dump_json(), made
            except ValidationError:
                value = _without_last(value)
                if value is None:
                    return None
        return None
