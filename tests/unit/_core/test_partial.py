"""Structured output while it streams (`modelwire._core.partial`): partial JSON validated
against the response format's model, each partial grown from the one before."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from modelwire._core.partial import PartialOutput
from modelwire._framing import SSEDecoder
from modelwire.dialects import get_dialect, get_writer
from modelwire.dialects.base import Answer
from modelwire.providers import anthropic, openai, openai_responses
from modelwire.types import ResponseFormat, StreamingChunk, ToolCallDelta
from pydantic import BaseModel


class Landmark(BaseModel):
    name: str
    year: int


class City(BaseModel):
    name: str
    country: str
    population: int | None = None
    landmarks: list[Landmark] = []


LISBON = City(
    name="Lisbon",
    country="Portugal",
    population=545923,
    landmarks=[Landmark(name="Belém Tower", year=1519), Landmark(name="Sé", year=1147)],
)


CITY_FORMAT = ResponseFormat.from_model(City)


def grows(earlier: Any, later: Any) -> bool:
    """Whether `later` holds all of `earlier`, each string only extended, each list only
    added to (its last item itself grown)."""
    if isinstance(earlier, dict):
        return isinstance(later, dict) and all(
            key in later and grows(value, later[key]) for key, value in earlier.items()
        )
    if isinstance(earlier, list):
        return (
            isinstance(later, list)
            and len(earlier) <= len(later)
            and all(grows(a, b) for a, b in zip(earlier, later, strict=False))
        )
    if isinstance(earlier, str):
        return isinstance(later, str) and later.startswith(earlier)
    return bool(earlier == later)


def dumped(value: Any) -> Any:
    # only what the model was given: a field left at its default has not arrived yet
    return value.model_dump(exclude_unset=True) if isinstance(value, BaseModel) else value


def partials_of(pieces: list[str], fmt: ResponseFormat) -> list[Any]:
    output = PartialOutput(fmt)
    found = [output.feed(StreamingChunk(content=piece)) for piece in pieces]
    return [value for value in found if value is not None]


def test_every_character_gives_valid_growing_partials_ending_in_the_whole() -> None:
    text = LISBON.model_dump_json()
    partials = partials_of(list(text), ResponseFormat.from_model(City))
    assert all(isinstance(p, City) for p in partials)
    assert len(partials) > 10
    for earlier, later in itertools.pairwise(partials):
        assert grows(dumped(earlier), dumped(later)), (earlier, later)
        assert earlier != later  # each one is news
    assert partials[-1] == LISBON


def test_nothing_until_the_required_fields_are_there() -> None:
    partials = partials_of(list('{"name": "Lis'), ResponseFormat.from_model(City))
    assert partials == []  # country is required: no City can be made yet
    first = partials_of(list('{"name": "Lisbon", "country": "P'), ResponseFormat.from_model(City))
    assert first[-1] == City(name="Lisbon", country="P")


def test_an_unfinished_list_item_is_left_out() -> None:
    text = '{"name": "Lisbon", "country": "PT", "landmarks": [{"name": "Sé", "year": 1147}, {"na'
    partials = partials_of([text], ResponseFormat.from_model(City))
    assert partials == [
        City(name="Lisbon", country="PT", landmarks=[Landmark(name="Sé", year=1147)])
    ]


def test_a_number_is_shown_only_once_it_is_whole() -> None:
    output = PartialOutput(ResponseFormat.from_model(City))
    assert output.feed(StreamingChunk(content='{"name": "A", "country": "B"')) is not None
    assert output.feed(StreamingChunk(content=', "population": 12')) is None  # of 12...?
    grown = output.feed(StreamingChunk(content="5}"))
    assert isinstance(grown, City) and grown.population == 125


def test_a_dict_schema_gives_the_partial_json() -> None:
    fmt = ResponseFormat(json_schema={"type": "object"})
    partials = partials_of(['{"a": [1, ', '2], "b": "x', 'y"}'], fmt)
    assert partials == [{"a": [1]}, {"a": [1, 2], "b": "x"}, {"a": [1, 2], "b": "xy"}]


def test_output_through_a_forced_tool_is_read_from_its_arguments() -> None:
    output = PartialOutput(ResponseFormat.from_model(City))
    text = json.dumps({"name": "Porto", "country": "Portugal"})
    found = [
        output.feed(StreamingChunk(tool_calls=(ToolCallDelta(index=0, arguments=text[i : i + 5]),)))
        for i in range(0, len(text), 5)
    ]
    assert [p for p in found if p is not None][-1] == City(name="Porto", country="Portugal")
    # a second tool call's arguments are not the output
    other = StreamingChunk(tool_calls=(ToolCallDelta(index=1, arguments='{"x": 1}'),))
    assert output.feed(other) is None


def test_text_that_is_not_json_gives_no_partial() -> None:
    assert partials_of(["Sure! Here", " is the city: {"], ResponseFormat.from_model(City)) == []


def _stream_partials(dialect: str, body: bytes, cuts: list[int]) -> list[Any]:
    """The partials of a stream's bytes read in the pieces `cuts` makes, through the
    pieces a client uses: the decoder, the dialect's parser, the partial output."""
    spec = {
        "openai_chat": openai.SPEC,
        "anthropic_messages": anthropic.SPEC,
        "openai_responses": openai_responses.SPEC,
    }[dialect]
    decoder, parser = SSEDecoder(), get_dialect(dialect).stream_parser(spec)
    output = PartialOutput(CITY_FORMAT)
    found = []
    for start, end in zip([0, *cuts], [*cuts, len(body)], strict=True):
        for event in decoder.feed(body[start:end]):
            chunk = parser.parse(event)
            if chunk is not None and (partial := output.feed(chunk)) is not None:
                found.append(partial)
    assert parser.finished
    return found


# every byte boundary of OpenAI's stream; every 11th of the others (the same decoder)
@pytest.mark.parametrize(
    ("dialect", "step"), [("openai_chat", 1), ("anthropic_messages", 11), ("openai_responses", 11)]
)
def test_a_stream_split_at_every_byte_boundary_gives_the_same_partials(
    dialect: str, step: int
) -> None:
    text = LISBON.model_dump_json()
    answer = Answer(model="m", chunks=[text[i : i + 8] for i in range(0, len(text), 8)])
    body = b"".join(event.data for event in get_writer(dialect).stream(answer))
    whole = _stream_partials(dialect, body, [])
    assert whole[-1] == LISBON and len(whole) >= 5
    for cut in range(1, len(body), step):
        assert _stream_partials(dialect, body, [cut]) == whole, cut
    assert _stream_partials(dialect, body, list(range(1, len(body)))) == whole
