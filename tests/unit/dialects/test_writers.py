"""Each dialect's writer against the same dialect's parser: what the writer writes (a whole
body or a stream), the parser reads back as the same answer: content, reasoning, tool
calls, usage, finish reason, model and id. Whole bodies also fit the dialect's wire models
(spec/schemas), and the error bodies, error events, models and embeddings answers read
back through the readers the clients use."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from importlib import import_module

import pytest
from modelwire._core.accumulate import Accumulator
from modelwire._framing import make_decoder
from modelwire.dialects import get_dialect, get_writer
from modelwire.dialects.base import Answer, StreamEvent, StreamParser, ToolCallText, Writer
from modelwire.errors import StreamEventError, error_fields
from modelwire.spec import ProviderSpec
from modelwire.types import (
    CompletionRequest,
    CompletionResponse,
    FinishReason,
    Message,
    NamedToolChoice,
    Tool,
    Usage,
)


@dataclass(frozen=True)
class Case:
    provider: str  # a provider speaking the dialect: its SPEC builds the parser
    usage: Usage  # the counts the dialect carries
    finishes: tuple[FinishReason, ...]  # the finish reasons it can say
    ids: bool  # whether it sends ids (a response's, a tool call's)


CASES = {
    "openai_chat": Case(
        "openai",
        Usage(input_tokens=12, output_tokens=34, reasoning_tokens=5, cache_read_tokens=3),
        ("stop", "length", "tool_calls", "content_filter"),
        ids=True,
    ),
    "anthropic_messages": Case(
        "anthropic",
        Usage(
            input_tokens=12,
            output_tokens=34,
            reasoning_tokens=5,
            cache_read_tokens=3,
            cache_write_tokens=2,
        ),
        ("stop", "length", "tool_calls", "content_filter", "other"),
        ids=True,
    ),
    "openai_responses": Case(
        "openai_responses",
        Usage(input_tokens=12, output_tokens=34, reasoning_tokens=5, cache_read_tokens=3),
        ("stop", "length", "tool_calls", "content_filter"),
        ids=True,
    ),
    "ollama_chat": Case(
        "ollama", Usage(input_tokens=12, output_tokens=34), ("stop", "length"), ids=False
    ),
    "gemini": Case(
        "gemini",
        Usage(input_tokens=12, output_tokens=34, reasoning_tokens=5, cache_read_tokens=3),
        ("stop", "length", "tool_calls", "content_filter", "error", "other"),
        ids=True,
    ),
}
DIALECTS = sorted(CASES)


def spec_of(dialect: str) -> ProviderSpec:
    spec: ProviderSpec = import_module(f"modelwire.providers.{CASES[dialect].provider}").SPEC
    assert spec.dialect == dialect
    return spec


ARGUMENTS = [{"city": "Paris", "unit": "celsius"}, {"query": "weather in Rome", "limit": 3}]


def answers(dialect: str) -> dict[str, Answer]:
    case = CASES[dialect]
    rid = "resp-7" if case.ids else None
    calls = [
        ToolCallText("get_weather", json.dumps(ARGUMENTS[0]), "call_a" if case.ids else None),
        ToolCallText("search", json.dumps(ARGUMENTS[1], separators=(",", ":"))),
    ]
    return {
        "text": Answer(model="m-1", chunks=["Hel", "lo, ", "wörld"], usage=case.usage, id=rid),
        "reasoning": Answer(
            model="m-1",
            chunks=["42"],
            reasoning="Think first.",
            reasoning_signature="sig-1",
            usage=case.usage,
            id=rid,
        ),
        "tools": Answer(
            model="m-1", tool_calls=calls, usage=case.usage, argument_chunk_size=5, id=rid
        ),
        "text-and-tools": Answer(model="m-1", chunks=["Let me check."], tool_calls=calls[:1]),
        "empty": Answer(model="m-1"),
        **{
            f"finish-{finish}": Answer(model="m-1", chunks=["x"], finish_reason=finish)
            for finish in case.finishes
            if finish != "tool_calls"
        },
    }


def expected_call_ids(dialect: str, answer: Answer) -> list[str]:
    default = "toolu_" if dialect == "anthropic_messages" else "call_"
    return [call.id or f"{default}{i}" for i, call in enumerate(answer.tool_calls)]


def assert_same(
    dialect: str, answer: Answer, got: CompletionResponse, *, no_usage: Usage | None = None
) -> None:
    assert got.content == answer.text
    assert got.model == answer.model
    if answer.id is not None:
        assert got.id == answer.id
    assert got.reasoning == answer.reasoning
    if dialect == "anthropic_messages":
        assert got.reasoning_signature == answer.reasoning_signature
    if dialect == "gemini":  # kept on the part it came with, for the next turn
        signatures = [item["part"]["thoughtSignature"] for item in got.provider_items]
        assert signatures == ([answer.reasoning_signature] if answer.reasoning_signature else [])
    assert [(c.id, c.name, c.arguments) for c in got.tool_calls] == [
        (call_id, call.name, json.loads(call.arguments))
        for call_id, call in zip(expected_call_ids(dialect, answer), answer.tool_calls, strict=True)
    ]
    assert got.usage == (answer.usage if answer.usage is not None else no_usage)
    assert got.finish_reason == answer.finish


def read_stream(
    dialect: str, events: list[StreamEvent], read_size: int = 7
) -> tuple[CompletionResponse, StreamParser]:
    """The stream's bytes, cut into small network reads, through the client's stream path:
    decoder, parser, accumulator. Returns the accumulated response and the parser."""
    spec = spec_of(dialect)
    body = b"".join(event.data for event in events)
    decoder = make_decoder(spec.stream_format)
    parser = get_dialect(dialect).stream_parser(spec)
    accumulator = Accumulator()
    reads = [body[i : i + read_size] for i in range(0, len(body), read_size)]
    for read in [*reads, None]:
        for event in decoder.feed(read) if read is not None else decoder.flush():
            chunk = parser.parse(event)
            if chunk is not None:
                accumulator.add(chunk)
    return accumulator.snapshot(), parser


# --------------------------------------------------------------------------- answers


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_written_response_reads_back_as_the_same_answer(dialect: str) -> None:
    writer, parsing = get_writer(dialect), get_dialect(dialect)
    for name, answer in answers(dialect).items():
        body = json.loads(writer.response(answer))
        parsing.check_wire("response", body)  # fits spec/schemas
        got = parsing.parse_response(body, spec_of(dialect))
        try:
            assert_same(dialect, answer, got)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from exc


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_written_stream_reads_back_as_the_same_answer(dialect: str) -> None:
    writer = get_writer(dialect)
    for name, answer in answers(dialect).items():
        events = writer.stream(answer)
        got, parser = read_stream(dialect, events)
        assert parser.finished, name
        # Anthropic's stream parser reads a stream without usage as zero counts (the real
        # API always sends them), where its body parser says None
        no_usage = Usage() if dialect == "anthropic_messages" else None
        try:
            assert_same(dialect, answer, got, no_usage=no_usage)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from exc


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_stream_is_framed_events_in_their_parts(dialect: str) -> None:
    answer = answers(dialect)["tools"]
    answer = replace(answer, chunks=["a", "b"], reasoning="r")
    events = get_writer(dialect).stream(answer)
    kinds = [event.kind for event in events]

    # one delta per text piece, per reasoning, per tool call fragment; OpenAI's call
    # starts are deltas too (Anthropic's are block starts), and Ollama sends calls whole
    def pieces(arguments: str) -> int:
        fragments = (len(arguments) + 4) // 5
        return {
            "openai_chat": 1 + fragments,
            "anthropic_messages": fragments,
            "openai_responses": fragments,
        }.get(dialect, 1)

    fragments = sum(pieces(call.arguments) for call in answer.tool_calls)
    assert kinds.count("delta") == 2 + 1 + fragments
    # what finishes the stream comes last, and only there
    first_end = kinds.index("end")
    assert set(kinds[first_end:]) == {"end"} and "end" not in kinds[:first_end]
    separator = {"ollama_chat": b"\n", "gemini": b"\r\n\r\n"}.get(dialect, b"\n\n")
    for event in events:
        assert event.data.endswith(separator)
        assert event.data[: -len(separator)].count(separator) == 0, event.data
    # a stream cut before its end is unfinished, and still has the answer so far
    got, parser = read_stream(dialect, events[:first_end])
    assert not parser.finished
    assert got.content == "ab"


def test_openai_sends_a_streams_usage_only_when_asked() -> None:
    answer = answers("openai_chat")["text"]
    writer = get_writer("openai_chat")
    asked = writer.stream(answer, {"stream": True, "stream_options": {"include_usage": True}})
    assert asked == writer.stream(answer)  # no request: as if asked
    assert all(b'"usage":' in event.data for event in asked[:-1])
    plain = writer.stream(answer, {"stream": True})
    assert all(b'"usage"' not in event.data for event in plain)
    got, _ = read_stream("openai_chat", plain)
    assert got.usage is None and got.content == answer.text


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_written_error_event_ends_the_stream_with_its_error(dialect: str) -> None:
    writer = get_writer(dialect)
    events = writer.stream(Answer(model="m-1", chunks=["Hel", "lo"]))
    cut = [event for event in events if event.kind != "end"]
    error = writer.stream_error("Overloaded", error_type="overloaded_error")
    with pytest.raises(StreamEventError) as info:
        read_stream(dialect, [*cut, StreamEvent(error, "end")])
    assert info.value.message == "Overloaded"
    if dialect != "ollama_chat":  # Ollama's errors are a message only
        assert info.value.error_type == "overloaded_error"


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("status", [400, 401, 404, 429, 500, 529])
def test_a_written_error_body_reads_back(dialect: str, status: int) -> None:
    writer = get_writer(dialect)
    message, etype, _ = error_fields(json.loads(writer.error_body(status, "Nope")))
    assert message == "Nope"
    if dialect != "ollama_chat":
        assert etype  # the provider's type for the status
    message, etype, code = error_fields(
        json.loads(writer.error_body(status, "Nope", error_type="my_type", code="my_code"))
    )
    assert message == "Nope"
    if dialect != "ollama_chat":
        assert etype == "my_type"
    if dialect == "openai_chat":
        assert code == "my_code"


# --------------------------------------------------------------------------- models, embeddings


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_written_model_list_reads_back(dialect: str) -> None:
    body = json.loads(get_writer(dialect).models(["m-1", "m-2"]))
    parsing = get_dialect(dialect)
    parsing.check_wire("models", body)
    assert [m.id for m in parsing.parse_models(body, spec_of(dialect))] == ["m-1", "m-2"]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_written_embeddings_read_back(dialect: str) -> None:
    writer, parsing = get_writer(dialect), get_dialect(dialect)
    vectors = [[0.1, 0.2], [0.3, 0.4]]
    if dialect == "anthropic_messages":
        with pytest.raises(NotImplementedError):
            writer.embeddings(vectors, model="e-1", input_tokens=4)
        return
    body = json.loads(writer.embeddings(vectors, model="e-1", input_tokens=4))
    parsing.check_wire("embeddings", body)
    got = parsing.parse_embeddings(body, spec_of(dialect))
    assert got.embeddings == vectors
    if dialect != "gemini":  # Gemini's answer names no model and counts no tokens
        assert got.model == "e-1"
        assert got.usage is not None and got.usage.input_tokens == 4


# --------------------------------------------------------------------------- requests


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_tool_a_request_forces(dialect: str) -> None:
    writer: Writer = get_writer(dialect)
    spec = spec_of(dialect)
    tool = Tool(name="get_weather", parameters={"type": "object"})
    request = CompletionRequest(
        model="m-1",
        messages=[Message(role="user", content="Weather?")],
        tools=[tool],
        tool_choice=NamedToolChoice(name="get_weather"),
        max_tokens=10,
    )
    body = get_dialect(dialect).build_request(request, spec, stream=False)
    expected = None if dialect == "ollama_chat" else "get_weather"  # Ollama has no tool choice
    assert writer.forced_tool(body) == expected
    assert writer.forced_tool({"tool_choice": "auto"}) is None
