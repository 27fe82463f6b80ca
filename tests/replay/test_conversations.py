"""The thinking, caching and citation recordings (MANIFEST.md and MANIFEST-2.md: Anthropic
and OpenRouter) replayed through the clients, sync and async, through vcrpy and httpx:
each answer's parts (thinking with its signature, redacted thinking, text with its
citations, OpenRouter's reasoning details) and cache usage equal what anthropic-sdk-python
and openai-python parse from the same bytes, and the assistant turn made of it sends back
what the recording answered."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import modelwire
import pytest
import yaml
from modelwire import CompletionResponse, Message, TextPart, ThinkingPart
from modelwire._core.calls import ClientConfig

from tests.cassettes.converted import converted_dir, converted_part_2

from .support import CLIENTS, make_client, replayer, sse_events

PART_1 = converted_dir()


@dataclass(frozen=True)
class Recorded:
    provider: str
    cassette: Path
    index: int
    interaction: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.cassette.stem[-70:]}#{self.index}"

    @property
    def body(self) -> bytes:
        value = self.interaction["response"]["body"]["string"]
        return value if isinstance(value, bytes) else value.encode("utf-8")

    @property
    def is_stream(self) -> bool:
        headers = {k.lower(): v for k, v in self.interaction["response"]["headers"].items()}
        return "text/event-stream" in str((headers.get("content-type") or [""])[0])

    @property
    def model(self) -> str:
        body = json.loads(self.interaction["request"].get("body") or "{}")
        return str(body.get("model") or "recorded-model")


def recorded(provider: str, folder: Path, *words: str) -> list[Recorded]:
    """The successful chat exchanges of the cassettes whose names hold one of `words`."""
    found = []
    for path in sorted(folder.rglob("*.yaml")):
        if not any(word in path.name for word in words):
            continue
        for index, interaction in enumerate(yaml.safe_load(path.read_text())["interactions"]):
            endpoint = interaction["request"]["uri"].split("?")[0]
            if interaction["response"]["status"]["code"] == 200 and endpoint.endswith(
                ("/v1/messages", "/chat/completions")
            ):
                found.append(Recorded(provider, path, index, interaction))
    return found


ANTHROPIC = recorded(
    "anthropic",
    PART_1 / "anthropic",
    "thinking",
    "web_search",
    "advisor",
    "web_fetch",
    "compaction_usage_with_cache",
) + recorded("anthropic", converted_part_2("anthropic"), "cache_prefix")
OPENROUTER = recorded("openrouter", PART_1 / "openrouter", "reasoning", "cache") + recorded(
    "openrouter", converted_part_2("openrouter"), "cache"
)


def test_the_recordings_were_found() -> None:
    assert sum(r.is_stream for r in ANTHROPIC) >= 2 and sum(not r.is_stream for r in ANTHROPIC) >= 6
    assert sum(r.is_stream for r in OPENROUTER) >= 2 and len(OPENROUTER) >= 10


def replay(exchange: Recorded, directory: Path, *, asynchronous: bool) -> CompletionResponse:
    cassette = directory / "one.yaml"
    cassette.write_text(
        yaml.safe_dump({"version": 1, "interactions": [exchange.interaction]}, allow_unicode=True)
    )
    request: dict[str, Any] = {
        "model": exchange.model,
        "messages": [{"role": "user", "content": "replayed"}],
        "max_tokens": 64,
    }
    with replayer().use_cassette(str(cassette)):
        if not asynchronous:
            with make_client(exchange.provider) as client:
                if exchange.is_stream:
                    with client.stream_completion(**request) as stream:
                        result: CompletionResponse = stream.accumulate()
                        return result
                response: CompletionResponse = client.complete(**request)
                return response

        async def run() -> CompletionResponse:
            async with make_client(exchange.provider, asynchronous=True) as client:
                if exchange.is_stream:
                    async with await client.stream_completion(**request) as stream:
                        result: CompletionResponse = await stream.accumulate()
                        return result
                response: CompletionResponse = await client.complete(**request)
                return response

        return asyncio.run(run())


def next_assistant_turn(provider: str, response: CompletionResponse) -> dict[str, Any]:
    """The assistant message of the request after `response`, as the client builds it."""
    spec = getattr(modelwire, CLIENTS[provider]).spec
    config = ClientConfig.create(spec, api_key="test-key-not-real")
    messages = [Message.user("first"), response.to_message(), Message.user("next")]
    call = config.chat_call(
        config.request(None, {"messages": messages, "max_tokens": 64}), stream=False
    )
    assert call.content is not None
    sent: dict[str, Any] = json.loads(call.content)["messages"][1]
    return sent


# ----------------------------------------------------------------------------- Anthropic


def anthropic_sdk_message(exchange: Recorded) -> Any:
    """anthropic-sdk-python's message: parsed from the body, or accumulated from the stream."""
    from anthropic._models import construct_type
    from anthropic.lib.streaming._messages import accumulate_event
    from anthropic.types import Message as SDKMessage
    from anthropic.types import RawMessageStreamEvent

    if not exchange.is_stream:
        return construct_type(type_=SDKMessage, value=json.loads(exchange.body))
    snapshot: Any = None
    json_bufs: dict[int, bytes] = {}
    for name, data in sse_events(exchange.body):
        if name == "ping":
            continue
        event: Any = construct_type(type_=RawMessageStreamEvent, value=json.loads(data))
        snapshot = accumulate_event(event=event, current_snapshot=snapshot, json_bufs=json_bufs)
    return snapshot


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("exchange", ANTHROPIC, ids=[r.id for r in ANTHROPIC])
def test_anthropic_parts_and_cache_usage_match_anthropic_sdk(
    exchange: Recorded, asynchronous: bool, tmp_path: Path
) -> None:
    pytest.importorskip("anthropic")
    response = replay(exchange, tmp_path, asynchronous=asynchronous)
    sdk = anthropic_sdk_message(exchange)
    expected: list[Any] = []
    blocks: list[dict[str, Any]] = []  # what the next request must send back
    for block in sdk.content:
        if block.type == "thinking":
            expected.append(("thinking", block.thinking, block.signature or None))
            blocks.append(
                {"type": "thinking", "thinking": block.thinking, "signature": block.signature}
            )
        elif block.type == "redacted_thinking":
            expected.append(("redacted", block.data))
            blocks.append({"type": "redacted_thinking", "data": block.data})
        elif block.type == "text":
            citations = [c.to_dict() for c in block.citations or ()]
            expected.append(("text", block.text, citations))
            if block.text:
                sent = [{k: v for k, v in c.items() if k != "file_id"} for c in citations]
                blocks.append(
                    {"type": "text", "text": block.text, **({"citations": sent} if sent else {})}
                )
        elif block.type == "tool_use":
            blocks.append(
                {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
            )
    ours = [
        ("text", p.text, [c.native for c in p.citations or ()])
        if isinstance(p, TextPart)
        else ("redacted", p.redacted)
        if isinstance(p, ThinkingPart) and p.redacted is not None
        else ("thinking", p.text, p.signature)
        for p in response.parts
    ]
    assert ours == expected
    assert response.usage is not None
    assert response.usage.cache_read_tokens == sdk.usage.cache_read_input_tokens
    assert response.usage.cache_write_tokens == sdk.usage.cache_creation_input_tokens
    sent = next_assistant_turn("anthropic", response)["content"]
    if len(blocks) == 1 and blocks[0].keys() == {"type", "text"}:
        assert sent == blocks[0]["text"]
    else:
        assert sent == blocks


def test_a_cache_write_then_a_cache_read(tmp_path: Path) -> None:
    """The two requests of the cache-prefix recording: the first writes the cache, the
    second reads the same tokens back."""
    first, second = [r for r in ANTHROPIC if "cache_prefix" in r.cassette.name]
    written = replay(first, tmp_path, asynchronous=False).usage
    read = replay(second, tmp_path, asynchronous=False).usage
    assert written is not None and read is not None
    assert written.cache_write_tokens and not written.cache_read_tokens
    assert read.cache_read_tokens == written.cache_write_tokens and not read.cache_write_tokens


# ----------------------------------------------------------------------------- OpenRouter


def openai_sdk_completion(exchange: Recorded) -> tuple[Any, Any]:
    """openai-python's message and usage: parsed from the body, or the stream's state."""
    from openai._models import construct_type_unchecked
    from openai.lib.streaming.chat._completions import ChatCompletionStreamState
    from openai.types.chat import ChatCompletion, ChatCompletionChunk

    if not exchange.is_stream:
        parsed = construct_type_unchecked(type_=ChatCompletion, value=json.loads(exchange.body))
        return parsed.choices[0].message, parsed.usage
    state: ChatCompletionStreamState[Any] = ChatCompletionStreamState()
    usage: Any = None
    for _, data in sse_events(exchange.body):
        if data.startswith(b"[DONE]"):
            break
        payload = json.loads(data)
        for choice in payload.get("choices") or []:
            # openai-python cannot merge these deltas (no index); not compared here
            (choice.get("delta") or {}).pop("annotations", None)
            (choice.get("delta") or {}).pop("reasoning_details", None)
        chunk = construct_type_unchecked(type_=ChatCompletionChunk, value=payload)
        state.handle_chunk(chunk)
        usage = chunk.usage or usage
    return state.get_final_completion().choices[0].message, usage


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("exchange", OPENROUTER, ids=[r.id for r in OPENROUTER])
def test_openrouter_reasoning_and_cache_usage_match_openai_python(
    exchange: Recorded, asynchronous: bool, tmp_path: Path
) -> None:
    pytest.importorskip("openai")
    response = replay(exchange, tmp_path, asynchronous=asynchronous)
    message, usage = openai_sdk_completion(exchange)
    assert response.content == (message.content or "")
    details = usage.prompt_tokens_details if usage is not None else None
    assert response.usage is not None
    assert response.usage.cache_read_tokens == (details.cached_tokens if details else None)
    thinking = [p for p in response.parts if isinstance(p, ThinkingPart)]
    if exchange.is_stream:
        assert "".join(p.text for p in thinking) == (
            (message.model_extra or {}).get("reasoning") or ""
        )
        return
    # a whole answer's reasoning details, as openai-python keeps them (extra fields)
    recorded_details = (message.model_extra or {}).get("reasoning_details") or []
    assert [p.native for p in thinking if p.native] == recorded_details
    sent = next_assistant_turn("openrouter", response)
    assert sent.get("reasoning_details", []) == recorded_details
