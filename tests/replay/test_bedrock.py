"""The recorded Bedrock traffic (``bedrock/`` of MANIFEST-2.md: Converse and ConverseStream)
replays through `modelwire.Bedrock`, sync and async, through vcrpy and httpx: whole answers
read like botocore parses them with the bedrock-runtime service model, streams like
botocore's EventStream parser reads the same bytes, and error statuses raise the typed
errors the service's error types map to. Any split of a recorded stream into reads gives
the same chunks.

The recordings were signed with SigV4 by the recording SDK (the signatures were not kept);
here the client sends a Bedrock API key, which vcrpy does not match on.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import modelwire
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from modelwire import CompletionResponse
from modelwire._core.calls import ClientConfig
from modelwire._core.stream import StreamState
from modelwire.providers.bedrock import SPEC

from tests.cassettes.converted import converted_part_2

from .support import replayer

CASSETTES = converted_part_2("bedrock")


@dataclass(frozen=True)
class Exchange:
    cassette: Path
    index: int
    interaction: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.cassette.stem.removeprefix('test_bedrock__')}#{self.index}"

    @property
    def uri(self) -> str:
        uri: str = self.interaction["request"]["uri"]
        return uri.split("?")[0]

    @property
    def model(self) -> str:
        return unquote(self.uri.split("/model/", 1)[1].rsplit("/", 1)[0])

    @property
    def region(self) -> str:
        return self.uri.split("bedrock-runtime.", 1)[1].split(".", 1)[0]

    @property
    def status(self) -> int:
        return int(self.interaction["response"]["status"]["code"])

    @property
    def headers(self) -> dict[str, str]:
        raw = self.interaction["response"]["headers"]
        return {k.lower(): str(v[0]) for k, v in raw.items()}

    @property
    def body(self) -> bytes:
        value = self.interaction["response"]["body"]["string"]
        return value if isinstance(value, bytes) else value.encode("utf-8")

    @property
    def stream(self) -> bool:
        return self.uri.endswith("/converse-stream")

    @property
    def request_body(self) -> dict[str, Any]:
        value = json.loads(self.interaction["request"].get("body") or "{}")
        return value if isinstance(value, dict) else {}


def exchanges(endings: tuple[str, ...] = ("/converse", "/converse-stream")) -> list[Exchange]:
    found = []
    for path in sorted(CASSETTES.glob("*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        for index, interaction in enumerate(data["interactions"]):
            exchange = Exchange(path, index, interaction)
            if "bedrock-runtime." in exchange.uri and exchange.uri.endswith(endings):
                found.append(exchange)
    return found


EXCHANGES = exchanges()
STREAMS = [e for e in EXCHANGES if e.stream and e.status == 200]
WHOLE = [e for e in EXCHANGES if not e.stream and e.status == 200]
ERRORS = [e for e in EXCHANGES if e.status >= 400]


def test_the_recordings_hold_streams_whole_answers_and_errors() -> None:
    assert len(STREAMS) >= 4
    assert len(WHOLE) >= 30
    assert len(ERRORS) >= 2


# ----------------------------------------------------------------------------- botocore


@functools.cache
def _operation(name: str) -> Any:
    import botocore.session

    model = botocore.session.get_session().get_service_model("bedrock-runtime")
    return model.operation_model(name)


@dataclass
class Reference:
    """What a Converse answer holds, as botocore parsed it."""

    content: str
    reasoning: str | None
    signature: str | None
    tool_calls: list[tuple[str, str, Any]]
    stop_reason: str | None
    usage: dict[str, int]


def _usage(usage: dict[str, Any]) -> dict[str, int]:
    keys = ("inputTokens", "outputTokens", "cacheReadInputTokens", "cacheWriteInputTokens")
    return {k: usage[k] for k in keys if usage.get(k) is not None}


def parsed_reference(exchange: Exchange) -> Reference:
    """botocore's rest-json parser over the body, with the Converse output shape."""
    from botocore.parsers import create_parser

    operation = _operation("Converse")
    response = {"status_code": 200, "headers": exchange.headers, "body": exchange.body}
    parsed = create_parser("rest-json").parse(response, operation.output_shape)
    blocks = parsed["output"]["message"]["content"]
    reasoning = [
        b["reasoningContent"]["reasoningText"]
        for b in blocks
        if "reasoningContent" in b and "reasoningText" in b["reasoningContent"]
    ]
    return Reference(
        content="".join(b["text"] for b in blocks if "text" in b),
        reasoning="".join(r.get("text", "") for r in reasoning) or None,
        signature=next((r["signature"] for r in reasoning if r.get("signature")), None),
        tool_calls=[
            (b["toolUse"]["toolUseId"], b["toolUse"]["name"], b["toolUse"]["input"])
            for b in blocks
            if "toolUse" in b
        ],
        stop_reason=parsed.get("stopReason"),
        usage=_usage(parsed.get("usage") or {}),
    )


class _RawStream:
    """The recorded bytes as the raw stream botocore's EventStream reads."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self) -> Any:
        yield self._data

    def close(self) -> None:
        pass


def stream_reference(exchange: Exchange) -> Reference:
    """botocore's EventStream (its event-stream decoder and JSON event parser) over the
    body, with the ConverseStream output shape, accumulated block by block."""
    from botocore.eventstream import EventStream
    from botocore.parsers import EventStreamJSONParser

    shape = _operation("ConverseStream").output_shape.members["stream"]
    events = EventStream(
        _RawStream(exchange.body), shape, EventStreamJSONParser(), "ConverseStream"
    )
    text, reasoning, signature = [], [], None
    tools: dict[int, list[Any]] = {}
    stop_reason, usage = None, {}
    for event in events:
        if "contentBlockStart" in event:
            start = event["contentBlockStart"]
            use = start["start"].get("toolUse")
            if use:
                tools[start["contentBlockIndex"]] = [use["toolUseId"], use["name"], ""]
        elif "contentBlockDelta" in event:
            delta = event["contentBlockDelta"]["delta"]
            index = event["contentBlockDelta"]["contentBlockIndex"]
            if "text" in delta:
                text.append(delta["text"])
            elif "toolUse" in delta:
                tools[index][2] += delta["toolUse"]["input"]
            elif "reasoningContent" in delta:
                thought = delta["reasoningContent"]
                reasoning.append(thought.get("text", ""))
                signature = thought.get("signature") or signature
        elif "messageStop" in event:
            stop_reason = event["messageStop"]["stopReason"]
        elif "metadata" in event:
            usage = _usage(event["metadata"]["usage"])
    return Reference(
        content="".join(text),
        reasoning="".join(reasoning) or None,
        signature=signature,
        tool_calls=[(i, n, json.loads(a or "{}")) for i, n, a in tools.values()],
        stop_reason=stop_reason,
        usage=usage,
    )


def reference_of_ours(response: CompletionResponse) -> Reference:
    usage = response.usage
    ours = {
        "inputTokens": usage.input_tokens if usage else None,
        "outputTokens": usage.output_tokens if usage else None,
        "cacheReadInputTokens": usage.cache_read_tokens if usage else None,
        "cacheWriteInputTokens": usage.cache_write_tokens if usage else None,
    }
    return Reference(
        content=response.content,
        reasoning=response.reasoning,
        signature=response.reasoning_signature,
        tool_calls=[(c.id, c.name, c.arguments) for c in response.tool_calls],
        stop_reason=response.raw_finish_reason,
        usage={k: v for k, v in ours.items() if v is not None},
    )


# ----------------------------------------------------------------------------- replaying


def client_for(exchange: Exchange, *, asynchronous: bool = False) -> Any:
    cls = modelwire.AsyncBedrock if asynchronous else modelwire.Bedrock
    return cls(api_key="test-key-not-real", region=exchange.region, max_retries=0)


def single_cassette(exchange: Exchange, directory: Path) -> Path:
    path = directory / "one.yaml"
    path.write_text(
        yaml.safe_dump({"version": 1, "interactions": [exchange.interaction]}, allow_unicode=True)
    )
    return path


def replay(exchange: Exchange, directory: Path, *, asynchronous: bool) -> Any:
    """The exchange through a client: the response, or the typed error it raised."""
    request = {"model": exchange.model, "messages": [{"role": "user", "content": "replayed"}]}
    with replayer().use_cassette(str(single_cassette(exchange, directory))):
        if not asynchronous:
            with client_for(exchange) as client:
                try:
                    if not exchange.stream:
                        return client.complete(**request)
                    with client.stream_completion(**request) as streamed:
                        return streamed.accumulate()
                except modelwire.ProviderError as exc:
                    return exc

        async def run() -> Any:
            async with client_for(exchange, asynchronous=True) as client:
                try:
                    if not exchange.stream:
                        return await client.complete(**request)
                    async with await client.stream_completion(**request) as streamed:
                        return await streamed.accumulate()
                except modelwire.ProviderError as exc:
                    return exc

        return asyncio.run(run())


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("exchange", WHOLE, ids=lambda e: e.id)
def test_whole_answers_read_as_botocore_parses_them(
    exchange: Exchange, asynchronous: bool, tmp_path: Path
) -> None:
    response = replay(exchange, tmp_path, asynchronous=asynchronous)
    assert isinstance(response, CompletionResponse), response
    assert reference_of_ours(response) == parsed_reference(exchange)
    assert response.finish_reason is not None


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("exchange", STREAMS, ids=lambda e: e.id)
def test_streams_accumulate_as_botocore_reads_them(
    exchange: Exchange, asynchronous: bool, tmp_path: Path
) -> None:
    response = replay(exchange, tmp_path, asynchronous=asynchronous)
    assert isinstance(response, CompletionResponse), response
    assert reference_of_ours(response) == stream_reference(exchange)


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("exchange", ERRORS, ids=lambda e: e.id)
def test_error_statuses_raise_typed_errors(
    exchange: Exchange, asynchronous: bool, tmp_path: Path
) -> None:
    error = replay(exchange, tmp_path, asynchronous=asynchronous)
    assert isinstance(error, modelwire.APIStatusError), error
    assert error.status_code == exchange.status
    message = json.loads(exchange.body)["message"]
    assert message in str(error) and error.provider == "bedrock"
    if exchange.status == 400:
        assert isinstance(error, modelwire.BadRequestError) and not error.retryable


# ----------------------------------------------------------------------------- counting

COUNTS = [e for e in exchanges(("/count-tokens",)) if e.status == 200]


def test_the_recordings_hold_token_counts() -> None:
    assert len(COUNTS) >= 3


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("exchange", COUNTS, ids=lambda e: e.id)
def test_token_counts_read_as_botocore_parses_them(
    exchange: Exchange, asynchronous: bool, tmp_path: Path
) -> None:
    from botocore.parsers import create_parser

    response = {"status_code": 200, "headers": exchange.headers, "body": exchange.body}
    shape = _operation("CountTokens").output_shape
    expected = create_parser("rest-json").parse(response, shape)["inputTokens"]
    request = {"model": exchange.model, "messages": [{"role": "user", "content": "replayed"}]}
    with replayer().use_cassette(str(single_cassette(exchange, tmp_path))):
        if asynchronous:

            async def run() -> Any:
                async with client_for(exchange, asynchronous=True) as client:
                    return await client.count_tokens(**request)

            counted = asyncio.run(run())
        else:
            with client_for(exchange) as client:
                counted = client.count_tokens(**request)
    assert counted.input_tokens == expected > 0
    assert counted.model == exchange.model


# ----------------------------------------------------------------------------- splits


def chunks_of(reads: list[bytes]) -> list[Any]:
    config = ClientConfig.create(SPEC, api_key="k", region="us-east-1")
    state = StreamState(
        config.new_decoder(),
        config.dialect.stream_parser(SPEC),
        lambda response: response,
        provider="bedrock",
        status_code=200,
        request_id=None,
        attempts=1,
        hooks=modelwire.Hooks(),
    )
    found = []
    for data in reads:
        for event in state.decoder.feed(data):
            chunk = state.parser.parse(event)
            if chunk is not None:
                state.add(chunk)
                found.append((chunk.content, chunk.reasoning, chunk.tool_calls, chunk.is_final))
    state.tail()
    return found


@st.composite
def split_stream(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    data = draw(st.sampled_from([e.body for e in STREAMS]))
    cuts = sorted(draw(st.sets(st.integers(1, len(data) - 1), max_size=40)))
    bounds = [0, *cuts, len(data)]
    return data, [data[a:b] for a, b in itertools.pairwise(bounds)]


@settings(max_examples=150, deadline=None)
@given(case=split_stream())
def test_any_split_of_a_recorded_stream_gives_the_same_chunks(
    case: tuple[bytes, list[bytes]],
) -> None:
    data, reads = case
    assert chunks_of(reads) == chunks_of([data])
