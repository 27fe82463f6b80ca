"""Traffic this project recorded itself, from a real llama.cpp server (SmolLM2-135M), through
the generated LlamaCpp (OpenAI-compatible) client.

`nox -s record` re-records every cassette here from a freshly started local server
(MODELWIRE_RECORD=1, `--record-mode=rewrite`); every other run replays them, with no server.
Credentials are filtered out of the recordings, and a test proves it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import modelwire
import pytest
from modelwire import BadRequestError, Tool
from pydantic import BaseModel

CASSETTE_DIR = Path(__file__).resolve().parents[1] / "cassettes" / "recorded"
RECORDING = os.environ.get("MODELWIRE_RECORD") == "1"
SECRET = "sk-local-recording-secret-0000"


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    return {
        # the server's port changes every run: match on what must agree
        "match_on": ["method", "path"],
        "filter_headers": [("authorization", "REDACTED"), ("x-api-key", "REDACTED")],
        "decode_compressed_response": True,
    }


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return str(CASSETTE_DIR)


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    if not RECORDING:
        yield "http://127.0.0.1:8080/v1"  # never contacted: the cassette answers
        return
    from modelwire.local import LocalServer

    with LocalServer() as server:
        yield server.base_url


def make(base_url: str, *, asynchronous: bool = False) -> Any:
    cls = modelwire.AsyncLlamaCpp if asynchronous else modelwire.LlamaCpp
    return cls(base_url=base_url, api_key=SECRET, model="smollm2", max_retries=0)


PROMPT = [{"role": "user", "content": "Name one colour. Answer in one word."}]


@pytest.mark.vcr
def test_complete(base_url: str) -> None:
    response = make(base_url).complete(messages=PROMPT, max_tokens=8, temperature=0)
    assert response.content.strip()
    assert response.finish_reason in ("stop", "length")
    assert response.usage is not None and response.usage.output_tokens > 0
    assert response.model


@pytest.mark.vcr
def test_stream(base_url: str) -> None:
    with make(base_url).stream_completion(messages=PROMPT, max_tokens=8, temperature=0) as stream:
        chunks = list(stream)
        final = stream.accumulate()
    assert len(chunks) > 2
    assert "".join(c.content for c in chunks) == final.content
    assert chunks[-1].is_final and chunks[-1].finish_reason in ("stop", "length")
    # this server sends no usage in streams: none is invented
    assert final.usage is None


@pytest.mark.vcr
def test_stream_async(base_url: str) -> None:
    async def run() -> tuple[str, str]:
        async with make(base_url, asynchronous=True) as client:
            stream = await client.stream_completion(messages=PROMPT, max_tokens=8, temperature=0)
            parts = [chunk.content async for chunk in stream]
            return "".join(parts), (await stream.accumulate()).content

    joined, accumulated = asyncio.run(run())
    assert joined == accumulated and joined.strip()


class Weather(BaseModel):
    city: str


@pytest.mark.vcr
def test_forced_tool_call_streamed(base_url: str) -> None:
    tool = Tool.from_model(Weather, name="get_weather", description="Weather for a city")
    stream = make(base_url).stream_completion(
        messages=[{"role": "user", "content": "What is the weather in Paris?"}],
        tools=[tool],
        tool_choice="get_weather",
        max_tokens=48,
        temperature=0,
    )
    final = stream.accumulate()
    assert final.finish_reason == "tool_calls"
    (call,) = final.tool_calls
    # the server repeats the id and name on every fragment: never "get_weatherget_weather"
    assert call.name == "get_weather"
    assert isinstance(call.arguments.get("city"), str)


@pytest.mark.vcr
def test_structured_output(base_url: str) -> None:
    response = make(base_url).complete(
        messages=[{"role": "user", "content": "Give a city as JSON."}],
        response_format=Weather,
        max_tokens=32,
        temperature=0,
    )
    assert isinstance(response.parsed, Weather)
    assert response.parsed.city


@pytest.mark.vcr
def test_list_models(base_url: str) -> None:
    models = make(base_url).list_models()
    assert len(models) == 1
    assert models[0].id.endswith(".gguf")


@pytest.mark.vcr
def test_invalid_parameter_is_not_retried(base_url: str) -> None:
    client = modelwire.LlamaCpp(base_url=base_url, api_key=SECRET, model="smollm2", max_retries=3)
    with pytest.raises(BadRequestError) as info:
        client.complete(messages=PROMPT, extra_body={"max_tokens": "many"})
    assert info.value.status_code == 500
    assert info.value.attempts == 1
    assert info.value.retryable is False


def test_recordings_exist_and_hold_no_secret() -> None:
    cassettes = sorted(CASSETTE_DIR.glob("*.yaml"))
    assert len(cassettes) >= 7
    for path in cassettes:
        text = path.read_text(encoding="utf-8")
        assert SECRET not in text, path
        assert "127.0.0.1" in text  # recorded from the real local server
