"""Stream chunks folded into a response (`modelwire._core.accumulate.Accumulator`)."""

from __future__ import annotations

import tracemalloc

from modelwire._core.accumulate import FOLD_EVERY, Accumulator
from modelwire.types import (
    Citation,
    CompletionResponse,
    StreamingChunk,
    TextPart,
    ThinkingPart,
    ToolCall,
    ToolCallDelta,
    Usage,
)


def fold(*chunks: StreamingChunk) -> Accumulator:
    accumulator = Accumulator()
    for chunk in chunks:
        accumulator.add(chunk)
    return accumulator


def test_nothing_received_is_an_empty_response() -> None:
    accumulator = Accumulator()
    assert accumulator.chunks_seen == 0
    assert accumulator.snapshot() == CompletionResponse()


def test_text_and_reasoning_are_joined_and_every_chunk_counts() -> None:
    accumulator = fold(
        StreamingChunk(reasoning="Let me "),
        StreamingChunk(reasoning="think."),
        StreamingChunk(content="Hello"),
        StreamingChunk(),
        StreamingChunk(content=", world"),
    )
    response = accumulator.snapshot()
    assert (response.content, response.reasoning) == ("Hello, world", "Let me think.")
    assert accumulator.chunks_seen == 5


def test_no_reasoning_is_none_not_empty() -> None:
    assert fold(StreamingChunk(content="x")).snapshot().reasoning is None


def test_the_first_model_and_id_are_kept() -> None:
    response = fold(
        StreamingChunk(content="a"),
        StreamingChunk(content="b", model="m-1", id="id-1"),
        StreamingChunk(content="c", model="m-2", id="id-2"),
    ).snapshot()
    assert (response.model, response.id) == ("m-1", "id-1")


def test_the_last_finish_reason_usage_and_signature_win() -> None:
    first, last = Usage(input_tokens=1), Usage(input_tokens=5, output_tokens=2)
    response = fold(
        StreamingChunk(finish_reason="length", raw_finish_reason="max_tokens", usage=first),
        StreamingChunk(reasoning_signature="sig-1"),
        StreamingChunk(finish_reason="stop", raw_finish_reason="end_turn", usage=last),
        StreamingChunk(reasoning_signature="sig-2"),
        # a later chunk without them leaves them as they were
        StreamingChunk(is_final=True, reasoning_signature=""),
    ).snapshot()
    assert (response.finish_reason, response.raw_finish_reason) == ("stop", "end_turn")
    assert response.usage == last
    assert response.reasoning_signature == "sig-2"


def test_tool_call_fragments_are_joined_by_index_in_index_order() -> None:
    response = fold(
        StreamingChunk(
            tool_calls=(ToolCallDelta(index=1, id="b", name="second", arguments='{"n":'),)
        ),
        StreamingChunk(tool_calls=(ToolCallDelta(index=0, id="a", name="first", arguments=""),)),
        StreamingChunk(
            tool_calls=(
                ToolCallDelta(index=1, arguments=" 2}"),
                ToolCallDelta(index=0, arguments='{"n": 1}'),
            )
        ),
    ).snapshot()
    assert response.tool_calls == [
        ToolCall(id="a", name="first", arguments={"n": 1}),
        ToolCall(id="b", name="second", arguments={"n": 2}),
    ]


def test_a_repeated_id_and_name_are_set_not_appended() -> None:
    delta = ToolCallDelta(index=0, id="call_1", name="lookup", arguments='{"q": "x"}')
    again = ToolCallDelta(index=0, id="call_1", name="lookup", arguments="")
    (call,) = (
        fold(StreamingChunk(tool_calls=(delta,)), StreamingChunk(tool_calls=(again,)))
        .snapshot()
        .tool_calls
    )
    assert (call.id, call.name, call.arguments) == ("call_1", "lookup", {"q": "x"})


def test_a_tool_call_without_id_name_or_valid_arguments_is_kept() -> None:
    (call,) = (
        fold(StreamingChunk(tool_calls=(ToolCallDelta(index=3, arguments='{"cut'),)))
        .snapshot()
        .tool_calls
    )
    assert (call.id, call.name, call.arguments) == ("call_3", "", {"_raw": '{"cut'})


def test_a_snapshot_is_a_copy_and_the_stream_goes_on() -> None:
    accumulator = fold(StreamingChunk(content="one"))
    early = accumulator.snapshot()
    early.content = "changed"
    accumulator.add(StreamingChunk(content=" two"))
    assert accumulator.snapshot().content == "one two"
    assert accumulator.chunks_seen == 2


def test_every_delta_is_kept_across_folds() -> None:
    accumulator = Accumulator()
    count = FOLD_EVERY * FOLD_EVERY + 3 * FOLD_EVERY + 7  # past a fold of the blocks too
    for i in range(count):
        accumulator.add(
            StreamingChunk(
                content=f"{i} ",
                reasoning=f"r{i}" if i % 3 == 0 else None,
                tool_calls=(ToolCallDelta(index=0, arguments=f"{i},"),) if i % 5 == 0 else (),
            )
        )
        if i in (FOLD_EVERY - 1, FOLD_EVERY, 5 * FOLD_EVERY + 1):  # mid-stream, as an error
            assert accumulator.snapshot().content == "".join(f"{j} " for j in range(i + 1))
    snapshot = accumulator.snapshot()
    assert snapshot.content == "".join(f"{i} " for i in range(count))
    assert snapshot.reasoning == "".join(f"r{i}" for i in range(0, count, 3))
    expected = "".join(f"{i}," for i in range(0, count, 5))
    assert snapshot.tool_calls[0].arguments == {"_raw": expected}


def test_memory_grows_by_the_text_not_by_the_chunks() -> None:
    chunk = StreamingChunk(content="tok ", model="m", id="c1")
    accumulator = Accumulator()
    for _ in range(FOLD_EVERY):  # warm up: the first fold's lists
        accumulator.add(StreamingChunk(content="tok "))
    count = 100_000
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(count):
            # a new string per chunk, as a parser makes: a kept delta costs ~50 bytes
            accumulator.add(StreamingChunk(content="".join(chunk.content or "")))
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown / count < 6, f"{grown / count:.1f} bytes per 4-character chunk"
    assert accumulator.snapshot().content == "tok " * (count + FOLD_EVERY)


# ----------------------------------------------------------------------------- parts


def test_without_part_starts_the_reasoning_and_the_text_are_one_part_each() -> None:
    response = fold(
        StreamingChunk(reasoning="Hm"),
        StreamingChunk(reasoning_signature="sig"),
        StreamingChunk(content="Hi"),
    ).snapshot()
    assert response.parts == [ThinkingPart(text="Hm", signature="sig"), TextPart(text="Hi")]


def test_part_starts_keep_interleaved_parts_apart_with_their_state() -> None:
    citation = Citation(type="url_citation", url="https://example.com")
    response = fold(
        StreamingChunk(parts=(ThinkingPart(provider="p"),), reasoning="First "),
        StreamingChunk(reasoning="thought."),
        StreamingChunk(reasoning_signature="sig-1"),
        StreamingChunk(parts=(TextPart(text=""),), content="Text "),
        StreamingChunk(content="one."),
        StreamingChunk(parts=(ThinkingPart(redacted="opaque", provider="p"),)),
        StreamingChunk(parts=(TextPart(text=""),)),
        StreamingChunk(citations=(citation,)),
        StreamingChunk(content="Cited."),
        StreamingChunk(parts=(ThinkingPart(provider="p"),), reasoning="Second."),
        StreamingChunk(reasoning_signature="sig-2"),
    ).snapshot()
    assert response.parts == [
        ThinkingPart(text="First thought.", signature="sig-1", provider="p"),
        TextPart(text="Text one."),
        ThinkingPart(redacted="opaque", provider="p"),
        TextPart(text="Cited.", citations=[citation]),
        ThinkingPart(text="Second.", signature="sig-2", provider="p"),
    ]
    assert (response.content, response.reasoning) == ("Text one.Cited.", "First thought.Second.")
    assert response.reasoning_signature == "sig-2"


def test_parts_survive_folding() -> None:
    chunks = [StreamingChunk(parts=(ThinkingPart(provider="p"),))]
    chunks += [StreamingChunk(reasoning="r") for _ in range(FOLD_EVERY * 3)]
    chunks += [StreamingChunk(parts=(TextPart(text=""),))]
    chunks += [StreamingChunk(content="c") for _ in range(FOLD_EVERY * 2 + 5)]
    response = fold(*chunks).snapshot()
    assert response.parts == [
        ThinkingPart(text="r" * FOLD_EVERY * 3, provider="p"),
        TextPart(text="c" * (FOLD_EVERY * 2 + 5)),
    ]


def test_text_before_the_first_text_part_began_is_kept_in_its_place() -> None:
    response = fold(
        StreamingChunk(parts=(ThinkingPart(provider="p"),), reasoning="why"),
        StreamingChunk(content="lead "),
        StreamingChunk(parts=(TextPart(text=""),), content="then"),
    ).snapshot()
    assert response.parts == [
        ThinkingPart(text="why", provider="p"),
        TextPart(text="lead "),
        TextPart(text="then"),
    ]


def test_a_part_with_the_current_items_id_completes_it() -> None:
    added = ThinkingPart(provider="p", native={"type": "reasoning", "id": "rs_1", "summary": []})
    done = ThinkingPart(
        text="A\n\nB",
        signature="enc-final",
        provider="p",
        native={"type": "reasoning", "id": "rs_1", "summary": [{"text": "A"}, {"text": "B"}]},
    )
    response = fold(
        StreamingChunk(parts=(added,)),
        StreamingChunk(reasoning="A\n\nB"),
        StreamingChunk(parts=(done,), reasoning_signature="enc-final"),
    ).snapshot()
    assert response.parts == [done]
