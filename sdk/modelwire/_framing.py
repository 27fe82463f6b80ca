"""Sans-IO stream decoders: bytes in, events out.

`SSEDecoder` implements the Server-Sent Events framing of the WHATWG HTML spec (`event:`,
multi-line `data:`, `id:`, `retry:`, comments, CRLF/LF/CR line endings); `NDJSONDecoder`
splits newline-delimited JSON records. Both work on bytes, so a UTF-8 character split
across network reads is reassembled before anything is decoded, and both bound the size
of a single line so a broken peer cannot make them grow without limit.

They are the hot path of every stream: lines are split with `bytes.split` (in C), and an
event is one small slotted object.
"""

from __future__ import annotations

from .errors import LineTooLongError

DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024

# the UTF-8 byte order mark: the SSE spec strips one before the first line
_BOM = b"\xef\xbb\xbf"

# `event: name` line -> decoded name; bounded, so a hostile peer cannot grow it
_EVENT_NAMES: dict[bytes, str] = {}


class ServerSentEvent:
    """One dispatched event. `data` stays bytes: JSON parsers take bytes directly."""

    __slots__ = ("data", "event", "id", "retry")

    def __init__(
        self, data: bytes, event: str = "message", id: str | None = None, retry: int | None = None
    ) -> None:
        self.data = data
        self.event = event
        self.id = id
        self.retry = retry

    def __repr__(self) -> str:
        return f"ServerSentEvent(event={self.event!r}, data={self.data!r}, id={self.id!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ServerSentEvent):
            return NotImplemented
        return (self.data, self.event, self.id, self.retry) == (
            other.data,
            other.event,
            other.id,
            other.retry,
        )

    __hash__ = None  # type: ignore[assignment]


class _LineSplitter:
    """Splits bytes into lines on CRLF, LF or CR, keeping the unfinished tail."""

    __slots__ = ("_max", "_tail")

    def __init__(self, max_line_bytes: int) -> None:
        self._tail = b""
        self._max = max_line_bytes

    def split(self, data: bytes) -> list[bytes]:
        if self._tail:
            data = self._tail + data
        if b"\r" in data:
            # A trailing CR may be the first half of a CRLF: keep it for the next read.
            held = b"\r" if data.endswith(b"\r") else b""
            if held:
                data = data[:-1]
            lines = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
            tail = lines.pop() + held
        else:
            lines = data.split(b"\n")
            tail = lines.pop()
        self._tail = tail
        # cheap guard first: only a read longer than the limit can hold a too-long line
        if len(data) > self._max and (
            len(tail) > self._max or any(len(line) > self._max for line in lines)
        ):
            self._tail = b""
            raise LineTooLongError(
                f"a stream line exceeded {self._max} bytes; raise max_line_bytes if this "
                "provider really sends lines that long"
            )
        return lines

    def flush(self) -> list[bytes]:
        tail, self._tail = self._tail, b""
        if tail.endswith(b"\r"):
            tail = tail[:-1]
        return [tail] if tail else []


class SSEDecoder:
    """Server-Sent Events framing."""

    __slots__ = ("_data", "_event", "_head", "_id", "_lines", "_retry")

    def __init__(self, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> None:
        self._lines = _LineSplitter(max_line_bytes)
        self._data: list[bytes] = []
        self._event: str | None = None
        self._id: str | None = None
        self._retry: int | None = None
        # the stream's first bytes until it is known whether they start with a BOM; None after
        self._head: bytes | None = b""

    def feed(self, data: bytes) -> list[ServerSentEvent]:
        if self._head is not None:
            data = self._head + data
            if len(data) < len(_BOM) and _BOM.startswith(data):
                self._head = data  # a BOM cut across reads: wait for the rest
                return []
            self._head = None
            if data.startswith(_BOM):
                data = data[len(_BOM) :]
        return self._process(self._lines.split(data))

    def flush(self) -> list[ServerSentEvent]:
        """End of stream: a last event without its blank line is still dispatched."""
        if self._head:  # the body was only the start of a BOM: that is data, not a BOM
            self._lines.split(self._head)
        self._head = None
        events = self._process(self._lines.flush())
        last = self._dispatch()
        if last is not None:
            events.append(last)
        return events

    def _process(self, lines: list[bytes]) -> list[ServerSentEvent]:
        events: list[ServerSentEvent] = []
        for line in lines:
            if not line:
                event = self._dispatch()
                if event is not None:
                    events.append(event)
            elif line.startswith(b"data:"):
                # fast path: the common `data: {...}` line
                value = line[5:]
                self._data.append(value[1:] if value[:1] == b" " else value)
            elif line.startswith(b"event:"):
                # Anthropic names every event: decode each distinct name once
                name = _EVENT_NAMES.get(line)
                if name is None:
                    value = line[6:]
                    name = (value[1:] if value[:1] == b" " else value).decode("utf-8", "replace")
                    if len(_EVENT_NAMES) < 256:
                        _EVENT_NAMES[line] = name
                self._event = name
            elif line[0] == 0x3A:  # ':' comment, e.g. ": OPENROUTER PROCESSING"
                continue
            else:
                self._field(line)
        return events

    def _field(self, line: bytes) -> None:
        name, sep, value = line.partition(b":")
        if sep and value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._data.append(value)
        elif name == b"event":
            self._event = value.decode("utf-8", "replace")
        elif name == b"id":
            if b"\0" not in value:
                self._id = value.decode("utf-8", "replace")
        elif name == b"retry" and value.isdigit():
            self._retry = int(value)
        # other field names are ignored, as the spec says

    def _dispatch(self) -> ServerSentEvent | None:
        if not self._data:
            self._event = None
            return None
        data = self._data[0] if len(self._data) == 1 else b"\n".join(self._data)
        event = ServerSentEvent(data, self._event or "message", self._id, self._retry)
        self._data = []
        self._event = None
        return event


class NDJSONDecoder:
    """Newline-delimited JSON: each non-empty line is one record (as bytes)."""

    __slots__ = ("_lines",)

    def __init__(self, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> None:
        self._lines = _LineSplitter(max_line_bytes)

    def feed(self, data: bytes) -> list[ServerSentEvent]:
        return [ServerSentEvent(line) for line in self._lines.split(data) if line.strip()]

    def flush(self) -> list[ServerSentEvent]:
        return [ServerSentEvent(line) for line in self._lines.flush() if line.strip()]


Decoder = SSEDecoder | NDJSONDecoder


def make_decoder(stream_format: str, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> Decoder:
    if stream_format == "sse":
        return SSEDecoder(max_line_bytes)
    if stream_format == "ndjson":
        return NDJSONDecoder(max_line_bytes)
    raise ValueError(f"unknown stream format {stream_format!r}: use 'sse' or 'ndjson'")
