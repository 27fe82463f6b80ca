"""The sans-IO decoders (`modelwire._framing`), fed bytes alone."""

from __future__ import annotations

import itertools
import json
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from modelwire._framing import (
    EventStreamDecoder,
    EventStreamMessage,
    NDJSONDecoder,
    ServerSentEvent,
    SSEDecoder,
    event_stream_message,
    make_decoder,
)
from modelwire.errors import LineTooLongError, StreamDecodeError


def decode_sse(*reads: bytes) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    for data in reads:
        events += decoder.feed(data)
    return events + decoder.flush()


def test_data_lines_and_event_names() -> None:
    events = decode_sse(b"event: ping\ndata: {}\n\ndata: hello\n\n")
    assert events == [ServerSentEvent(b"{}", "ping"), ServerSentEvent(b"hello", "message")]


def test_multi_line_data_is_joined_with_newlines() -> None:
    assert decode_sse(b"data: one\ndata: two\ndata:three\n\n") == [
        ServerSentEvent(b"one\ntwo\nthree")
    ]


def test_only_one_leading_space_is_stripped() -> None:
    assert decode_sse(b"data:  two spaces\n\n")[0].data == b" two spaces"


def test_comments_are_ignored() -> None:
    # OpenRouter keeps connections alive with comment lines
    events = decode_sse(b": OPENROUTER PROCESSING\n\n: another\ndata: x\n\n")
    assert events == [ServerSentEvent(b"x")]


def test_id_persists_and_retry_is_parsed() -> None:
    events = decode_sse(b"id: 7\nretry: 1500\ndata: a\n\ndata: b\n\nid\ndata: c\n\n")
    assert [(e.data, e.id) for e in events] == [(b"a", "7"), (b"b", "7"), (b"c", "")]
    assert events[0].retry == 1500


def test_retry_that_is_not_a_number_is_ignored() -> None:
    assert decode_sse(b"retry: soon\ndata: a\n\n")[0].retry is None


def test_event_without_data_is_not_dispatched() -> None:
    assert decode_sse(b"event: lonely\n\ndata: x\n\n") == [ServerSentEvent(b"x", "message")]


def test_unknown_fields_are_ignored() -> None:
    assert decode_sse(b"foo: bar\ndata: x\n\n") == [ServerSentEvent(b"x")]


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_every_line_ending(newline: bytes) -> None:
    raw = b"event: a" + newline + b"data: 1" + newline + newline + b"data: 2" + newline + newline
    assert decode_sse(raw) == [ServerSentEvent(b"1", "a"), ServerSentEvent(b"2")]


def test_crlf_split_between_reads() -> None:
    assert decode_sse(b"data: 1\r", b"\n\r", b"\ndata: 2\r\n\r\n") == [
        ServerSentEvent(b"1"),
        ServerSentEvent(b"2"),
    ]


def test_utf8_character_split_across_reads() -> None:
    raw = 'data: {"t": "héllo 😊"}\n\n'.encode()
    cut = raw.index("😊".encode()) + 2
    (event,) = decode_sse(raw[:cut], raw[cut:])
    assert json.loads(event.data) == {"t": "héllo 😊"}


def test_last_event_without_blank_line_is_flushed() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: tail") == []
    assert decoder.flush() == [ServerSentEvent(b"tail")]


def test_a_line_over_the_limit_raises() -> None:
    decoder = SSEDecoder(max_line_bytes=1024)
    with pytest.raises(LineTooLongError, match="1024 bytes"):
        for _ in range(10):
            decoder.feed(b"x" * 200)


def test_a_long_line_arriving_whole_raises() -> None:
    with pytest.raises(LineTooLongError):
        SSEDecoder(max_line_bytes=100).feed(b"data: " + b"y" * 500 + b"\n\n")


def test_ndjson_records() -> None:
    decoder = NDJSONDecoder()
    events = decoder.feed(b'{"a":1}\n\n{"b":') + decoder.feed(b"2}\r\n") + decoder.flush()
    assert [json.loads(e.data) for e in events] == [{"a": 1}, {"b": 2}]


def test_ndjson_last_record_without_newline() -> None:
    decoder = NDJSONDecoder()
    assert decoder.feed(b'{"done":true}') == []
    assert [e.data for e in decoder.flush()] == [b'{"done":true}']


BOM = b"\xef\xbb\xbf"


def test_one_leading_bom_is_stripped_and_the_first_event_kept() -> None:
    first = b'data: {"n": 1}\n\ndata: {"n": 2}\n\n'
    assert (
        decode_sse(BOM + first)
        == decode_sse(first)
        == [
            ServerSentEvent(b'{"n": 1}'),
            ServerSentEvent(b'{"n": 2}'),
        ]
    )


def test_a_bom_cut_across_reads_is_stripped() -> None:
    body = BOM + b"data: x\n\n"
    for cuts in ((1,), (2,), (1, 2), (3,)):
        bounds = [0, *cuts, len(body)]
        reads = [body[a:b] for a, b in itertools.pairwise(bounds)]
        assert decode_sse(*reads) == [ServerSentEvent(b"x")], cuts


def test_only_one_bom_and_only_at_the_start_is_stripped() -> None:
    # a second BOM starts the first line, whose field name is then no longer "data"
    assert decode_sse(BOM + BOM + b"data: x\n\n") == []
    assert decode_sse(b"data: x\n\n" + BOM + b"data: y\n\n") == [ServerSentEvent(b"x")]


def test_a_body_that_is_only_part_of_a_bom_is_kept_as_data() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"\xef") == []
    assert decoder.flush() == []  # one byte of no field: nothing to dispatch, and no error
    assert decode_sse(b"\xef", b"data: x\n\n") == []  # "\xefdata" is not a field name


SAMPLE = (
    BOM + b'event: message_start\r\ndata: {"a": "\xc3\xa9"}\r\n\r\n'
    b": keepalive\n\n"
    b"data: line one\ndata: line two\n\n"
    b"id: 42\rdata: cr only\r\r"
    b'data: {"emoji": "\xf0\x9f\x98\x8a"}\n\n'
    b"data: [DONE]\n\n"
)


@st.composite
def splits(draw: st.DrawFn, data: bytes) -> list[bytes]:
    cuts = sorted(draw(st.sets(st.integers(1, len(data) - 1), max_size=20)))
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


@settings(max_examples=300, deadline=None)
@given(reads=splits(SAMPLE))
def test_any_split_gives_the_same_sse_events(reads: list[bytes]) -> None:
    assert decode_sse(*reads) == decode_sse(SAMPLE)


NDJSON_SAMPLE = (
    b'{"message":{"content":"h\xc3\xa9"}}\n{"message":{"content":"x"}}\r\n{"done":true}\n'
)


@settings(max_examples=200, deadline=None)
@given(reads=splits(NDJSON_SAMPLE))
def test_any_split_gives_the_same_ndjson_records(reads: list[bytes]) -> None:
    decoder = NDJSONDecoder()
    events = [e for data in reads for e in decoder.feed(data)] + decoder.flush()
    assert [json.loads(e.data) for e in events] == [
        {"message": {"content": "hé"}},
        {"message": {"content": "x"}},
        {"done": True},
    ]


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=2000), cut=st.integers(0, 2000))
def test_random_bytes_never_crash_the_decoders(data: bytes, cut: int) -> None:
    for decoder in (SSEDecoder(max_line_bytes=512), NDJSONDecoder(max_line_bytes=512)):
        try:
            decoder.feed(data[:cut])
            decoder.feed(data[cut:])
            decoder.flush()
        except LineTooLongError:
            pass


# --------------------------------------------------------------------------- events and the factory


def test_events_compare_by_value_and_are_not_hashable() -> None:
    event = ServerSentEvent(b"x", "ping", "1", 100)
    assert event == ServerSentEvent(b"x", "ping", "1", 100)
    assert event != ServerSentEvent(b"x", "ping", "2", 100)
    assert event != ServerSentEvent(b"x", "message", "1", 100)
    assert event != b"x"
    assert repr(event) == "ServerSentEvent(event='ping', data=b'x', id='1')"
    with pytest.raises(TypeError):
        hash(event)


def test_make_decoder_per_stream_format() -> None:
    sse = make_decoder("sse", max_line_bytes=64)
    assert isinstance(sse, SSEDecoder)
    assert isinstance(make_decoder("ndjson"), NDJSONDecoder)
    with pytest.raises(LineTooLongError, match="64 bytes"):
        sse.feed(b"data: " + b"z" * 100 + b"\n")
    assert isinstance(make_decoder("eventstream"), EventStreamDecoder)
    with pytest.raises(
        ValueError, match="unknown stream format 'websocket': use 'sse', 'ndjson' or 'eventstream'"
    ):
        make_decoder("websocket")


def test_a_too_long_line_is_dropped_and_decoding_goes_on() -> None:
    decoder = SSEDecoder(max_line_bytes=16)
    with pytest.raises(LineTooLongError, match="raise max_line_bytes"):
        decoder.feed(b"data: " + b"y" * 40)
    assert decoder.feed(b"\n\ndata: ok\n\n") == [ServerSentEvent(b"ok")]


def test_ndjson_skips_blank_lines_and_bounds_lines() -> None:
    decoder = NDJSONDecoder(max_line_bytes=8)
    assert decoder.feed(b"\n  \n{}\n") == [ServerSentEvent(b"{}")]
    with pytest.raises(LineTooLongError):
        decoder.feed(b'{"long": "record"}\n')


def test_a_null_in_an_id_is_ignored() -> None:
    events = decode_sse(b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n")
    assert [e.id for e in events] == ["1", "1"]


def test_field_names_without_a_colon_and_an_empty_data_line() -> None:
    # "data" alone is a data field with an empty value: the event is dispatched
    assert decode_sse(b"data\n\n") == [ServerSentEvent(b"")]
    assert decode_sse(b"data:\ndata:\n\n") == [ServerSentEvent(b"\n")]


# --------------------------------------------------------------------------- AWS event stream


def _event(name: str, payload: bytes) -> bytes:
    headers = {":event-type": name, ":content-type": "application/json", ":message-type": "event"}
    return event_stream_message(headers, payload)


EVENT_STREAM = (
    _event("messageStart", b'{"role":"assistant"}')
    + _event("contentBlockDelta", '{"delta":{"text":"h\u00e9 \U0001f60a"}}'.encode())
    + _event("messageStop", b'{"stopReason":"end_turn"}')
    + _event("metadata", b'{"usage":{"inputTokens":1,"outputTokens":2}}')
)


def decode_event_stream(*reads: bytes) -> list[ServerSentEvent]:
    decoder = EventStreamDecoder()
    events = [e for data in reads for e in decoder.feed(data)]
    return events + decoder.flush()


def test_event_stream_messages_carry_their_type_headers_and_payload() -> None:
    events = decode_event_stream(EVENT_STREAM)
    assert [e.event for e in events] == [
        "messageStart",
        "contentBlockDelta",
        "messageStop",
        "metadata",
    ]
    first = events[0]
    assert isinstance(first, EventStreamMessage)
    assert first.message_type == "event"
    assert first.data == b'{"role":"assistant"}'
    assert first.headers[":content-type"] == "application/json"
    assert "messageStart" in repr(first)


def test_an_exception_message_is_named_by_its_exception_type() -> None:
    message = event_stream_message(
        {":exception-type": "ThrottlingException", ":message-type": "exception"},
        b'{"message":"slow down"}',
    )
    (event,) = decode_event_stream(message)
    assert isinstance(event, EventStreamMessage)
    assert (event.message_type, event.event) == ("exception", "ThrottlingException")


def test_every_header_value_type_is_read() -> None:
    # bool true/false, byte, short, int, long, bytes, string, timestamp, uuid, by hand
    raw = b""
    for name, kind, value in [
        (b"t", 0, b""),
        (b"f", 1, b""),
        (b"b", 2, b"\xff"),
        (b"s", 3, b"\x01\x00"),
        (b"i", 4, b"\x00\x00\x01\x00"),
        (b"l", 5, b"\x00" * 7 + b"\x02"),
        (b"y", 6, b"\x00\x02\x00\x01"),
        (b"z", 7, b"\x00\x02ok"),
        (b"d", 8, b"\x00" * 7 + b"\x03"),
        (b"u", 9, bytes(range(16))),
    ]:
        raw += bytes([len(name)]) + name + bytes([kind]) + value
    total = 12 + len(raw) + 4
    prelude = total.to_bytes(4, "big") + len(raw).to_bytes(4, "big")
    message = prelude + zlib.crc32(prelude).to_bytes(4, "big") + raw
    message += zlib.crc32(message).to_bytes(4, "big")
    (event,) = decode_event_stream(message)
    assert isinstance(event, EventStreamMessage)
    assert event.headers == {
        "t": True,
        "f": False,
        "b": -1,
        "s": 256,
        "i": 256,
        "l": 2,
        "y": b"\x00\x01",
        "z": "ok",
        "d": 3,
        "u": bytes(range(16)),
    }
    assert event.data == b""


@settings(max_examples=300, deadline=None)
@given(reads=splits(EVENT_STREAM))
def test_any_split_gives_the_same_event_stream_messages(reads: list[bytes]) -> None:
    assert decode_event_stream(*reads) == decode_event_stream(EVENT_STREAM)


def test_a_bad_message_crc_is_a_typed_error() -> None:
    broken = bytearray(EVENT_STREAM)
    broken[30] ^= 0x01  # a header byte of the first message
    with pytest.raises(StreamDecodeError, match="fails its CRC32"):
        decode_event_stream(bytes(broken))


def test_a_bad_prelude_crc_is_a_typed_error() -> None:
    broken = bytearray(EVENT_STREAM)
    broken[3] ^= 0x01  # the first message's total length
    with pytest.raises(StreamDecodeError, match="prelude fails its CRC32"):
        decode_event_stream(bytes(broken))


def test_a_stream_that_ends_inside_a_message_is_a_typed_error() -> None:
    decoder = EventStreamDecoder()
    assert len(decoder.feed(EVENT_STREAM[:-5])) == 3
    with pytest.raises(StreamDecodeError, match=r"ended inside a message \(\d+ bytes"):
        decoder.flush()


def test_a_message_over_the_limit_is_refused_before_it_is_buffered() -> None:
    decoder = EventStreamDecoder(max_message_bytes=64)
    with pytest.raises(LineTooLongError, match="exceeds 64 bytes"):
        decoder.feed(EVENT_STREAM[:12])


def test_a_length_too_short_for_its_headers_is_a_typed_error() -> None:
    prelude = (16).to_bytes(4, "big") + (50).to_bytes(4, "big")
    with pytest.raises(StreamDecodeError, match="too short"):
        decode_event_stream(prelude + zlib.crc32(prelude).to_bytes(4, "big"))


def test_malformed_headers_are_a_typed_error() -> None:
    raw = b"\x05:name\x07\x00\x09short"  # says 9 bytes of value, holds 5
    total = 12 + len(raw) + 4
    prelude = total.to_bytes(4, "big") + len(raw).to_bytes(4, "big")
    message = prelude + zlib.crc32(prelude).to_bytes(4, "big") + raw
    message += zlib.crc32(message).to_bytes(4, "big")
    with pytest.raises(StreamDecodeError, match="headers are malformed"):
        decode_event_stream(message)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=2000), cut=st.integers(0, 2000))
def test_random_bytes_never_crash_the_event_stream_decoder(data: bytes, cut: int) -> None:
    decoder = EventStreamDecoder(max_message_bytes=512)
    try:
        decoder.feed(data[:cut])
        decoder.feed(data[cut:])
        decoder.flush()
    except StreamDecodeError:
        pass
