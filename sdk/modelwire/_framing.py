"""Sans-IO stream decoders: bytes in, events out.

`SSEDecoder` implements the Server-Sent Events framing of the WHATWG HTML spec (`event:`,
multi-line `data:`, `id:`, `retry:`, comments, CRLF/LF/CR line endings); `NDJSONDecoder`
splits newline-delimited JSON records; `EventStreamDecoder` reads the AWS event-stream
binary framing (`application/vnd.amazon.eventstream`, Bedrock's streams). All work on
bytes, so a UTF-8 character or a binary message split across network reads is reassembled
before anything is decoded, and all bound the size of one line or message so a broken
peer cannot make them grow without limit.

They are the hot path of every stream: lines are split with `bytes.split` (in C), and an
event is one small slotted object.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping

from .errors import LineTooLongError, StreamDecodeError

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


# --------------------------------------------------------------------------- AWS event stream
#
# Each message: a 12-byte prelude (total length, headers length, CRC32 of those 8 bytes,
# all big-endian), the headers, the payload, and a CRC32 of everything before it. A header
# is a 1-byte name length, the name, a 1-byte value type and the value.

_PRELUDE = struct.Struct(">III")
_PRELUDE_BYTES = 12
_CRC_BYTES = 4
# the value types of a header: fixed sizes, or None for the 2-byte-length ones
_FIXED_SIZES: dict[int, int] = {2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}
_SIGNED = {2: ">b", 3: ">h", 4: ">i", 5: ">q", 8: ">q"}

HeaderValue = str | bytes | bool | int


class EventStreamMessage(ServerSentEvent):
    """One event-stream message: `data` is its payload, `event` its `:event-type` (or, for
    an exception, its `:exception-type`), `message_type` its `:message-type` ("event",
    "exception" or "error") and `headers` all its headers."""

    __slots__ = ("headers", "message_type")

    def __init__(self, data: bytes, headers: dict[str, HeaderValue]) -> None:
        message_type = headers.get(":message-type", "event")
        name = headers.get(":exception-type" if message_type == "exception" else ":event-type")
        if message_type == "error":
            name = headers.get(":error-code")
        super().__init__(data, name if isinstance(name, str) else "message")
        self.message_type = message_type if isinstance(message_type, str) else "event"
        self.headers = headers

    def __repr__(self) -> str:
        return (
            f"EventStreamMessage(message_type={self.message_type!r}, event={self.event!r}, "
            f"data={self.data!r})"
        )


def _headers(raw: bytes) -> dict[str, HeaderValue]:
    headers: dict[str, HeaderValue] = {}
    at, end = 0, len(raw)
    try:
        while at < end:
            size = raw[at]
            name = raw[at + 1 : at + 1 + size].decode("utf-8")
            at += 1 + size
            kind = raw[at]
            at += 1
            value: HeaderValue
            if kind in (0, 1):
                value = kind == 0
            elif kind in (6, 7):
                (length,) = struct.unpack_from(">H", raw, at)
                blob = raw[at + 2 : at + 2 + length]
                if len(blob) != length:
                    raise IndexError(name)
                value = blob.decode("utf-8") if kind == 7 else bytes(blob)
                at += 2 + length
            elif kind in _FIXED_SIZES:
                size = _FIXED_SIZES[kind]
                blob = raw[at : at + size]
                if len(blob) != size:
                    raise IndexError(name)
                value = blob if kind == 9 else struct.unpack(_SIGNED[kind], blob)[0]
                at += size
            else:
                raise StreamDecodeError(
                    f"an event-stream header {name!r} has the unknown value type {kind}"
                )
            headers[name] = value
    except (IndexError, struct.error, UnicodeDecodeError):
        raise StreamDecodeError(
            f"an event-stream message's headers are malformed: {bytes(raw[:80])!r}"
        ) from None
    return headers


class EventStreamDecoder:
    """The AWS event-stream binary framing: each whole message, both of its CRC32s
    checked, becomes one `EventStreamMessage`. A message with a bad CRC, or a body that
    ends inside one, raises `StreamDecodeError`."""

    __slots__ = ("_buffer", "_max")

    def __init__(self, max_message_bytes: int = DEFAULT_MAX_LINE_BYTES) -> None:
        self._buffer = bytearray()
        self._max = max_message_bytes

    def feed(self, data: bytes) -> list[ServerSentEvent]:
        buffer = self._buffer
        buffer += data
        events: list[ServerSentEvent] = []
        start = 0
        while len(buffer) - start >= _PRELUDE_BYTES:
            total, headers_length, prelude_crc = _PRELUDE.unpack_from(buffer, start)
            if zlib.crc32(buffer[start : start + 8]) != prelude_crc:
                self._buffer = bytearray()
                raise StreamDecodeError(
                    "an event-stream message's prelude fails its CRC32: the stream is corrupt"
                )
            if total > self._max:
                self._buffer = bytearray()
                raise LineTooLongError(
                    f"an event-stream message of {total} bytes exceeds {self._max} bytes; raise "
                    "max_line_bytes if this provider really sends messages that long"
                )
            if total < _PRELUDE_BYTES + _CRC_BYTES + headers_length:
                self._buffer = bytearray()
                raise StreamDecodeError(
                    f"an event-stream message says it is {total} bytes long, too short for its "
                    f"{headers_length} bytes of headers"
                )
            if len(buffer) - start < total:
                break  # the rest of this message is in a later read
            end = start + total
            (message_crc,) = struct.unpack_from(">I", buffer, end - _CRC_BYTES)
            if zlib.crc32(buffer[start : end - _CRC_BYTES]) != message_crc:
                self._buffer = bytearray()
                raise StreamDecodeError(
                    "an event-stream message fails its CRC32: the stream is corrupt"
                )
            head = start + _PRELUDE_BYTES
            headers = _headers(bytes(buffer[head : head + headers_length]))
            payload = bytes(buffer[head + headers_length : end - _CRC_BYTES])
            events.append(EventStreamMessage(payload, headers))
            start = end
        if start:
            del buffer[:start]
        return events

    def flush(self) -> list[ServerSentEvent]:
        """End of stream: bytes left over are a message cut short."""
        left, self._buffer = len(self._buffer), bytearray()
        if left:
            raise StreamDecodeError(
                f"the event stream ended inside a message ({left} bytes of it arrived)"
            )
        return []


def event_stream_message(headers: Mapping[str, HeaderValue], payload: bytes) -> bytes:
    """One event-stream message, framed with both CRCs (string, bytes and bool headers):
    what the writers send, and the fault tests corrupt."""
    raw = bytearray()
    for name, value in headers.items():
        encoded = name.encode()
        raw += bytes([len(encoded)]) + encoded
        if isinstance(value, bool):
            raw += bytes([0 if value else 1])
        elif isinstance(value, (str, bytes)):
            blob = value.encode() if isinstance(value, str) else value
            raw += bytes([7 if isinstance(value, str) else 6]) + struct.pack(">H", len(blob)) + blob
        else:
            raw += bytes([5]) + struct.pack(">q", value)
    total = _PRELUDE_BYTES + len(raw) + len(payload) + _CRC_BYTES
    prelude = struct.pack(">II", total, len(raw))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + bytes(raw) + payload
    return message + struct.pack(">I", zlib.crc32(message))


Decoder = SSEDecoder | NDJSONDecoder | EventStreamDecoder


def make_decoder(stream_format: str, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> Decoder:
    if stream_format == "sse":
        return SSEDecoder(max_line_bytes)
    if stream_format == "ndjson":
        return NDJSONDecoder(max_line_bytes)
    if stream_format == "eventstream":
        return EventStreamDecoder(max_line_bytes)
    raise ValueError(
        f"unknown stream format {stream_format!r}: use 'sse', 'ndjson' or 'eventstream'"
    )
