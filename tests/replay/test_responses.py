"""The recorded Responses API traffic (``openai-responses/`` of MANIFEST-2.md: OpenAI, Azure
OpenAI and OpenRouter) replays through `modelwire.OpenAIResponses` (Azure's through
`modelwire.AzureOpenAIResponses`), sync and async, through
vcrpy and httpx: whole answers read like openai-python parses them, and streams accumulate
into what openai-python's Responses stream state builds from the same bytes."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import modelwire
import pytest
import yaml
from modelwire import CompletionResponse, ResponseFailedError, StreamEventError, ThinkingPart

from tests.cassettes.converted import converted_part_2

from .support import replayer, sse_events

CASSETTES = converted_part_2("openai-responses")


@dataclass(frozen=True)
class Exchange:
    cassette: Path
    index: int
    interaction: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.cassette.stem.removeprefix('test_openai_responses__')}#{self.index}"

    @property
    def uri(self) -> str:
        uri: str = self.interaction["request"]["uri"]
        return uri.split("?")[0]

    @property
    def request_body(self) -> dict[str, Any]:
        value = json.loads(self.interaction["request"].get("body") or "{}")
        return value if isinstance(value, dict) else {}

    @property
    def status(self) -> int:
        return int(self.interaction["response"]["status"]["code"])

    @property
    def body(self) -> bytes:
        value = self.interaction["response"]["body"]["string"]
        return value if isinstance(value, bytes) else value.encode("utf-8")

    @property
    def is_stream(self) -> bool:
        headers = {k.lower(): v for k, v in self.interaction["response"]["headers"].items()}
        return "text/event-stream" in str((headers.get("content-type") or [""])[0])


def exchanges() -> list[Exchange]:
    found = []
    for path in sorted(CASSETTES.glob("*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        for index, interaction in enumerate(data["interactions"]):
            exchange = Exchange(path, index, interaction)
            # answers to POST .../responses (not compaction, token counts, files, polling)
            if interaction["request"]["method"] == "POST" and exchange.uri.endswith("/responses"):
                found.append(exchange)
    return found


EXCHANGES = exchanges()
STREAMS = [e for e in EXCHANGES if e.is_stream and e.status == 200]
WHOLE = [e for e in EXCHANGES if not e.is_stream and e.status == 200]


def test_the_recordings_hold_streams_and_whole_answers() -> None:
    assert len(STREAMS) >= 10
    assert len(WHOLE) >= 50
    assert any("openrouter.ai" in e.uri for e in STREAMS)
    assert any("azure.com" in e.uri for e in WHOLE)


def client_for(exchange: Exchange, *, asynchronous: bool = False) -> Any:
    if ".openai.azure.com/" in exchange.uri:  # Azure OpenAI's v1 API, its own provider
        cls = (
            modelwire.AsyncAzureOpenAIResponses if asynchronous else modelwire.AzureOpenAIResponses
        )
    else:
        cls = modelwire.AsyncOpenAIResponses if asynchronous else modelwire.OpenAIResponses
    base_url = exchange.uri.removesuffix("/responses")
    return cls(api_key="test-key-not-real", base_url=base_url, max_retries=0)


def request_for(exchange: Exchange) -> dict[str, Any]:
    return {
        "model": exchange.request_body.get("model") or "gpt-5",
        "messages": [{"role": "user", "content": "replayed"}],
    }


def single_cassette(exchange: Exchange, directory: Path) -> Path:
    path = directory / "one.yaml"
    path.write_text(
        yaml.safe_dump({"version": 1, "interactions": [exchange.interaction]}, allow_unicode=True)
    )
    return path


def replay(exchange: Exchange, directory: Path, *, stream: bool, asynchronous: bool) -> Any:
    """The exchange through a client: the response (and a stream's chunks), or the error."""
    request = request_for(exchange)
    with replayer().use_cassette(str(single_cassette(exchange, directory))):
        if not asynchronous:
            with client_for(exchange) as client:
                try:
                    if not stream:
                        return client.complete(**request)
                    with client.stream_completion(**request) as streamed:
                        chunks = list(streamed)
                        return chunks, streamed.accumulate()
                except (StreamEventError, ResponseFailedError) as exc:
                    return exc

        async def run() -> Any:
            async with client_for(exchange, asynchronous=True) as client:
                try:
                    if not stream:
                        return await client.complete(**request)
                    async with await client.stream_completion(**request) as streamed:
                        chunks = [chunk async for chunk in streamed]
                        return chunks, await streamed.accumulate()
                except (StreamEventError, ResponseFailedError) as exc:
                    return exc

        return asyncio.run(run())


# ----------------------------------------------------------------------------- references


@dataclass
class Reference:
    """What openai-python makes of the same bytes."""

    id: str | None
    model: str | None
    content: str
    tool_calls: list[tuple[str, str, dict[str, Any]]]
    status: str | None
    incomplete_reason: str | None
    input_tokens: int | None
    output_tokens: int | None
    reasoning_tokens: int | None
    cached_tokens: int | None
    reasoning_items: list[tuple[str, str | None]]  # (id, encrypted_content)
    other_items: list[str]  # the types of the items unified fields do not hold


def reference_of(response: Any) -> Reference:
    """From an `openai.types.responses.Response` (parsed or accumulated)."""
    calls = [
        (item.call_id, item.name, json.loads(item.arguments or "{}"))
        for item in response.output
        if item.type == "function_call"
    ]
    usage = response.usage
    incomplete = response.incomplete_details
    return Reference(
        id=response.id,
        model=response.model,
        content=response.output_text,
        tool_calls=calls,
        status=response.status,
        incomplete_reason=incomplete.reason if incomplete else None,
        input_tokens=usage.input_tokens if usage else None,
        output_tokens=usage.output_tokens if usage else None,
        reasoning_tokens=usage.output_tokens_details.reasoning_tokens if usage else None,
        cached_tokens=usage.input_tokens_details.cached_tokens if usage else None,
        reasoning_items=[
            (item.id, item.encrypted_content)
            for item in response.output
            if item.type == "reasoning"
        ],
        other_items=[
            item.type for item in response.output if item.type not in ("message", "function_call")
        ],
    )


def parsed_reference(body: bytes) -> Reference:
    """openai-python's own model of a whole response, built as its client builds it (it
    constructs, it does not validate: newer fields in a recording do not stop it)."""
    from openai._models import construct_type_unchecked
    from openai.types.responses import Response

    return reference_of(construct_type_unchecked(type_=Response, value=json.loads(body)))


def stream_reference(body: bytes) -> Reference | str:
    """openai-python's Responses stream state over the recorded events, and the response it
    completes with; or the type of the error event that ends the stream."""
    from openai import omit
    from openai._models import construct_type_unchecked
    from openai.lib.streaming.responses._responses import ResponseStreamState
    from openai.types.responses import ResponseStreamEvent

    state: ResponseStreamState[Any] = ResponseStreamState(input_tools=omit, text_format=omit)
    for _, data in sse_events(body):
        if data.startswith(b"[DONE]"):
            break
        payload = json.loads(data)
        if payload.get("type") in ("error", "response.failed"):
            return str(payload["type"])
        state.handle_event(construct_type_unchecked(type_=ResponseStreamEvent, value=payload))  # type: ignore[arg-type]
    completed = state._completed_response
    assert completed is not None, "the stream state never completed"
    return reference_of(completed)


def assert_matches(result: CompletionResponse, reference: Reference) -> None:
    assert result.id == reference.id
    assert result.model == reference.model
    assert result.content == reference.content
    assert [(c.id, c.name, c.arguments) for c in result.tool_calls] == reference.tool_calls
    if reference.status == "incomplete":
        assert result.raw_finish_reason == reference.incomplete_reason
    else:
        assert result.raw_finish_reason == reference.status
    if reference.status == "completed":
        assert result.finish_reason in ("stop", "tool_calls", "content_filter")
        assert (result.finish_reason == "tool_calls") == bool(reference.tool_calls)
    if reference.input_tokens is None:
        assert result.usage is None
    else:
        assert result.usage is not None
        assert (result.usage.input_tokens, result.usage.output_tokens) == (
            reference.input_tokens,
            reference.output_tokens,
        )
        assert result.usage.reasoning_tokens == reference.reasoning_tokens
        assert result.usage.cache_read_tokens == reference.cached_tokens
    # reasoning items are parts that keep their opaque state; built-in tool items are not lost
    kept = [
        (p.native["id"], p.signature)
        for p in result.parts
        if isinstance(p, ThinkingPart) and p.native is not None
    ]
    if any(item.startswith("rs_tmp_") for item, _ in reference.reasoning_items):
        # OpenRouter's temporary ids change between its stream and its terminal event
        # (the stream's are kept): the items are compared by their state
        kept = [(None, state) for _, state in kept]
        reference.reasoning_items[:] = [(None, state) for _, state in reference.reasoning_items]
    assert kept == reference.reasoning_items
    assert [i["type"] for i in result.provider_items if i["type"] != "message"] == [
        kind for kind in reference.other_items if kind != "reasoning"
    ]


# ----------------------------------------------------------------------------- tests


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("exchange", WHOLE, ids=lambda e: e.id)
def test_complete_matches_openai_python(
    exchange: Exchange, asynchronous: bool, tmp_path: Path
) -> None:
    reference = parsed_reference(exchange.body)
    outcome = replay(exchange, tmp_path, stream=False, asynchronous=asynchronous)
    if reference.status == "failed":
        assert isinstance(outcome, ResponseFailedError), outcome
        return
    assert isinstance(outcome, CompletionResponse), outcome
    assert_matches(outcome, reference)
    assert outcome.raw == json.loads(exchange.body)


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("exchange", STREAMS, ids=lambda e: e.id)
def test_stream_matches_openai_python(
    exchange: Exchange, asynchronous: bool, tmp_path: Path
) -> None:
    reference = stream_reference(exchange.body)
    outcome = replay(exchange, tmp_path, stream=True, asynchronous=asynchronous)
    if isinstance(reference, str):
        assert isinstance(outcome, StreamEventError), outcome
        assert outcome.partial is not None
        return
    assert not isinstance(outcome, Exception), outcome
    chunks, result = outcome
    assert_matches(result, reference)
    assert "".join(c.content for c in chunks) == reference.content
    assert [c.is_final for c in chunks].count(True) == 1 and chunks[-1].is_final


def test_streamed_reasoning_summary_is_kept_apart(tmp_path: Path) -> None:
    candidates = [e for e in STREAMS if b"response.reasoning_summary_text.delta" in e.body]
    assert candidates
    chunks, result = replay(candidates[0], tmp_path, stream=True, asynchronous=False)
    assert result.reasoning and result.content
    assert "".join(c.reasoning for c in chunks) == result.reasoning
    assert result.reasoning not in result.content


def test_a_stream_cut_before_its_terminal_event_raises_with_the_partial(tmp_path: Path) -> None:
    (exchange, *_) = [e for e in STREAMS if b"response.output_text.delta" in e.body]
    body = exchange.body
    cut = body[: body.index(b"event: response.completed")]
    interaction = json.loads(json.dumps(exchange.interaction, default=str))
    interaction["response"]["body"]["string"] = cut.decode()
    interaction["response"]["headers"].pop("content-length", None)
    truncated = Exchange(exchange.cassette, exchange.index, interaction)
    with (
        pytest.raises(modelwire.StreamInterruptedError) as info,
        replayer().use_cassette(str(single_cassette(truncated, tmp_path))),
        client_for(truncated) as client,
        client.stream_completion(**request_for(truncated)) as streamed,
    ):
        list(streamed)
    assert info.value.partial is not None
    reference = stream_reference(body)
    assert isinstance(reference, Reference)
    assert info.value.partial.content == reference.content
