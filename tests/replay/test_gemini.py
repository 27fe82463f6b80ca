"""The recorded Gemini API traffic (``google/`` of MANIFEST-2.md, the Gemini Developer API)
replays through `modelwire.Gemini`, sync and async, through vcrpy and httpx: whole answers
and accumulated streams hold what google-genai parses from the same bytes (text,
thoughts, function calls, usage, finish reason, thought signatures).

Vertex AI's recordings (`aiplatform.googleapis.com`, project paths and OAuth) are not
replayed: the `gemini` provider speaks the Developer API's URLs.
"""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import modelwire
import pytest
import yaml
from google.genai import types as genai_types
from modelwire import CompletionResponse

from tests.cassettes.converted import converted_part_2

from .support import replayer

CASSETTES = converted_part_2("google")
HOST = "https://generativelanguage.googleapis.com"


@dataclass(frozen=True)
class Exchange:
    cassette: Path
    index: int
    interaction: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.cassette.stem.removeprefix('test_google__')}#{self.index}"

    @property
    def uri(self) -> str:
        uri: str = self.interaction["request"]["uri"]
        return uri

    @property
    def model(self) -> str:
        return self.uri.split("/models/")[1].split(":")[0]

    @property
    def is_stream(self) -> bool:
        return ":streamGenerateContent" in self.uri

    @property
    def status(self) -> int:
        return int(self.interaction["response"]["status"]["code"])

    @property
    def body(self) -> bytes:
        value = self.interaction["response"]["body"]["string"]
        return value if isinstance(value, bytes) else value.encode("utf-8")


def exchanges() -> list[Exchange]:
    found = []
    for path in sorted(CASSETTES.glob("*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        for index, interaction in enumerate(data["interactions"]):
            exchange = Exchange(path, index, interaction)
            uri = exchange.uri
            if uri.startswith(HOST + "/v1beta/models/") and (
                ":generateContent" in uri or ":streamGenerateContent" in uri
            ):
                found.append(exchange)
    return found


EXCHANGES = exchanges()
STREAMS = [e for e in EXCHANGES if e.is_stream and e.status == 200]
WHOLE = [e for e in EXCHANGES if not e.is_stream and e.status == 200]


def test_the_recordings_hold_streams_and_whole_answers() -> None:
    assert len(STREAMS) >= 5
    assert len(WHOLE) >= 30


# ----------------------------------------------------------------------------- references


@dataclass
class Reference:
    """What google-genai makes of the same bytes."""

    text: str
    thoughts: str
    calls: list[tuple[str, dict[str, Any]]]
    finish: str | None
    input_tokens: int | None
    candidates_tokens: int | None
    thoughts_tokens: int | None
    cached_tokens: int | None
    signatures: list[bytes]
    response_id: str | None
    model: str | None


def reference_of(responses: list[Any]) -> Reference:
    """From google-genai's `GenerateContentResponse`s: one for a whole answer, one per
    event for a stream (whose last usage and finish reason are the answer's)."""
    text, thoughts, calls, signatures = [], [], [], []
    finish = usage = None
    for response in responses:
        candidate = response.candidates[0] if response.candidates else None
        if candidate is not None and candidate.content and candidate.content.parts:
            for part in candidate.content.parts:
                if part.function_call is not None:
                    calls.append((part.function_call.name, dict(part.function_call.args or {})))
                elif part.text is not None:
                    (thoughts if part.thought else text).append(part.text)
                if part.thought_signature is not None:
                    signatures.append(part.thought_signature)
        if candidate is not None and candidate.finish_reason is not None:
            finish = candidate.finish_reason.value
        usage = response.usage_metadata or usage
    last = responses[-1]
    return Reference(
        text="".join(text),
        thoughts="".join(thoughts),
        calls=calls,
        finish=finish,
        input_tokens=usage.prompt_token_count if usage else None,
        candidates_tokens=usage.candidates_token_count if usage else None,
        thoughts_tokens=usage.thoughts_token_count if usage else None,
        cached_tokens=usage.cached_content_token_count if usage else None,
        signatures=signatures,
        response_id=last.response_id,
        model=last.model_version,
    )


def parsed(payload: Any) -> Any:
    return genai_types.GenerateContentResponse._from_response(response=payload, kwargs={})


def whole_reference(body: bytes) -> Reference:
    return reference_of([parsed(json.loads(body))])


def stream_reference(body: bytes) -> Reference:
    events = [
        parsed(json.loads(line[len(b"data:") :]))
        for line in body.replace(b"\r\n", b"\n").split(b"\n")
        if line.startswith(b"data:")
    ]
    return reference_of(events)


def assert_matches(result: CompletionResponse, reference: Reference) -> None:
    assert result.content == reference.text
    assert (result.reasoning or "") == reference.thoughts
    assert [(c.name, c.arguments) for c in result.tool_calls] == reference.calls
    assert result.raw_finish_reason == reference.finish
    if reference.finish == "STOP":
        assert result.finish_reason == ("tool_calls" if reference.calls else "stop")
    assert (result.id, result.model) == (reference.response_id, reference.model)
    if reference.input_tokens is None:
        assert result.usage is None or result.usage.input_tokens == 0
    else:
        assert result.usage is not None
        thoughts = reference.thoughts_tokens or 0
        assert result.usage.input_tokens == reference.input_tokens
        assert result.usage.output_tokens == (reference.candidates_tokens or 0) + thoughts
        assert result.usage.reasoning_tokens == reference.thoughts_tokens
        assert result.usage.cache_read_tokens == reference.cached_tokens
    # each signature kept as sent (base64), the bytes google-genai decodes
    kept = [base64.b64decode(item["part"]["thoughtSignature"]) for item in result.provider_items]
    assert kept == reference.signatures


# ----------------------------------------------------------------------------- replays


def single_cassette(exchange: Exchange, directory: Path) -> Path:
    path = directory / "one.yaml"
    path.write_text(
        yaml.safe_dump({"version": 1, "interactions": [exchange.interaction]}, allow_unicode=True)
    )
    return path


def replay(exchange: Exchange, directory: Path, *, asynchronous: bool) -> CompletionResponse:
    request = {"model": exchange.model, "messages": [{"role": "user", "content": "replayed"}]}
    kwargs: dict[str, Any] = {"api_key": "AIza-test-key-not-real", "max_retries": 0}
    with replayer().use_cassette(str(single_cassette(exchange, directory))):
        if not asynchronous:
            with modelwire.Gemini(**kwargs) as client:
                if not exchange.is_stream:
                    return client.complete(**request)
                with client.stream_completion(**request) as streamed:
                    return streamed.accumulate()

        async def run() -> CompletionResponse:
            async with modelwire.AsyncGemini(**kwargs) as client:
                if not exchange.is_stream:
                    return await client.complete(**request)
                async with await client.stream_completion(**request) as streamed:
                    return await streamed.accumulate()

        return asyncio.run(run())


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("exchange", WHOLE, ids=lambda e: e.id)
def test_complete_matches_google_genai(
    exchange: Exchange, asynchronous: bool, tmp_path: Path
) -> None:
    result = replay(exchange, tmp_path, asynchronous=asynchronous)
    assert_matches(result, whole_reference(exchange.body))


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("exchange", STREAMS, ids=lambda e: e.id)
def test_a_stream_accumulates_what_google_genai_reads(
    exchange: Exchange, asynchronous: bool, tmp_path: Path
) -> None:
    result = replay(exchange, tmp_path, asynchronous=asynchronous)
    assert_matches(result, stream_reference(exchange.body))
