"""The OpenAI-compatible clouds shipped as YAML alone (Mistral, Cerebras, Hugging Face's
router, Z.ai) against their real recordings, sync and async, through vcrpy and httpx:
`complete()` and streams give what openai-python parses from the same bytes.

Mistral's reasoning models answer `content` as a list of typed parts (`thinking`, `text`),
which openai-python keeps as it came; its text parts are the answer, its thinking parts
the reasoning."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import modelwire
import pytest
from modelwire import CompletionResponse

from .support import Exchange, exchanges, replayer, request_for, single_cassette

CLOUDS: dict[str, str] = {
    "mistral": "Mistral",
    "cerebras": "Cerebras",
    "huggingface": "HuggingFace",
    "zai": "ZAI",
}

CHATS = [e for provider in CLOUDS for e in exchanges(provider) if e.is_chat and e.status == 200]
COMPLETIONS = [e for e in CHATS if not e.is_stream]
STREAMS = [e for e in CHATS if e.is_stream]


def test_every_cloud_has_recorded_completions() -> None:
    assert {e.provider for e in COMPLETIONS} == set(CLOUDS)
    assert {e.provider for e in STREAMS} == {"mistral", "zai"}


def make_client(exchange: Exchange, *, asynchronous: bool) -> Any:
    name = CLOUDS[exchange.provider]
    cls = getattr(modelwire, f"Async{name}" if asynchronous else name)
    kwargs: dict[str, Any] = {"api_key": "test-key-not-real", "max_retries": 0}
    if exchange.provider == "huggingface":
        # the router names the inference provider in the path: /together/v1, /nebius/v1
        kwargs["base_url"] = "https://router.huggingface.co" + exchange.path.removesuffix(
            "/chat/completions"
        )
    return cls(**kwargs)


def replay(exchange: Exchange, directory: Path, *, asynchronous: bool) -> Any:
    """complete() (or the stream, accumulated) against this exchange: (chunks, response)."""
    request = request_for(exchange)
    stream = exchange.is_stream
    with replayer().use_cassette(str(single_cassette(exchange, directory))):
        if not asynchronous:
            with make_client(exchange, asynchronous=False) as client:
                if not stream:
                    return [], client.complete(**request)
                with client.stream_completion(**request) as response:
                    return list(response), response.accumulate()

        async def run() -> Any:
            async with make_client(exchange, asynchronous=True) as client:
                if not stream:
                    return [], await client.complete(**request)
                async with await client.stream_completion(**request) as response:
                    return [c async for c in response], await response.accumulate()

        return asyncio.run(run())


def _split(content: Any) -> tuple[str, str]:
    """(text, thinking) of a content that openai-python parsed: a string or typed parts."""
    if content is None:
        return "", ""
    if isinstance(content, str):
        return content, ""
    text = "".join(p["text"] for p in content if p["type"] == "text")
    thinking = "".join(t["text"] for p in content if p["type"] == "thinking" for t in p["thinking"])
    return text, thinking


def completion_reference(body: bytes) -> dict[str, Any]:
    from openai._models import construct_type_unchecked
    from openai.types.chat import ChatCompletion

    parsed = construct_type_unchecked(type_=ChatCompletion, value=json.loads(body))
    message = parsed.choices[0].message
    text, thinking = _split(message.content)
    extra = message.model_extra or {}
    return {
        "content": text,
        "reasoning": extra.get("reasoning_content") or extra.get("reasoning") or thinking or None,
        "tool_calls": [(c.id, c.function.name) for c in message.tool_calls or []],
        "finish": parsed.choices[0].finish_reason,
        "model": parsed.model,
        "usage": (parsed.usage.prompt_tokens, parsed.usage.completion_tokens)
        if parsed.usage
        else None,
    }


def stream_reference(body: bytes) -> dict[str, Any]:
    """openai-python's ChatCompletionChunk of each event, its deltas added up."""
    from openai._models import construct_type_unchecked
    from openai.types.chat import ChatCompletionChunk

    from .support import sse_events

    text, reasoning, finish, model, usage = "", "", None, None, None
    for _, data in sse_events(body):
        if data == b"[DONE]":
            break
        chunk = construct_type_unchecked(type_=ChatCompletionChunk, value=json.loads(data))
        model = chunk.model
        if chunk.usage:
            usage = (chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
        for choice in chunk.choices:
            piece, thinking = _split(choice.delta.content)
            extra = choice.delta.model_extra or {}
            text += piece
            reasoning += thinking + (extra.get("reasoning_content") or "")
            finish = choice.finish_reason or finish
    return {
        "content": text,
        "reasoning": reasoning or None,
        "tool_calls": [],
        "finish": finish,
        "model": model,
        "usage": usage,
    }


def outcome_of(result: CompletionResponse) -> dict[str, Any]:
    return {
        "content": result.content,
        "reasoning": result.reasoning,
        "tool_calls": [(c.id, c.name) for c in result.tool_calls],
        "finish": result.raw_finish_reason,
        "model": result.model,
        "usage": (result.usage.input_tokens, result.usage.output_tokens) if result.usage else None,
    }


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("exchange", COMPLETIONS, ids=lambda e: e.id)
def test_complete_matches_openai_python(
    exchange: Exchange, asynchronous: bool, tmp_path: Path
) -> None:
    _, result = replay(exchange, tmp_path, asynchronous=asynchronous)
    assert isinstance(result, CompletionResponse)
    assert outcome_of(result) == completion_reference(exchange.body)
    assert result.finish_reason == "stop"


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("exchange", STREAMS, ids=lambda e: e.id)
def test_stream_matches_openai_python(
    exchange: Exchange, asynchronous: bool, tmp_path: Path
) -> None:
    chunks, result = replay(exchange, tmp_path, asynchronous=asynchronous)
    reference = stream_reference(exchange.body)
    assert outcome_of(result) == reference
    assert reference["content"] and reference["reasoning"], "a recorded answer with reasoning"
    assert "".join(c.content for c in chunks) == result.content
    assert "".join(c.reasoning for c in chunks) == result.reasoning
    assert [c.is_final for c in chunks].count(True) == 1 and chunks[-1].is_final


def test_mistral_thinking_parts_are_reasoning_not_answer(tmp_path: Path) -> None:
    (exchange,) = [e for e in COMPLETIONS if e.provider == "mistral" and b'"thinking"' in e.body]
    _, result = replay(exchange, tmp_path, asynchronous=False)
    assert result.reasoning and result.content
    assert result.reasoning not in result.content
    assert "**Analogizing crossing a river**" in result.reasoning


def test_hugging_face_keeps_inline_think_tags_as_sent(tmp_path: Path) -> None:
    (exchange, *_) = [e for e in COMPLETIONS if b"<think>" in e.body]
    _, result = replay(exchange, tmp_path, asynchronous=False)
    assert result.content.startswith("<think>") and result.reasoning is None


def test_the_recorded_requests_are_what_the_specs_send(tmp_path: Path) -> None:
    """What the recording SDKs sent, modelwire sends the same way: Z.ai's thinking and
    stream usage, Cerebras's reasoning options, Mistral's reasoning_effort."""
    seen: dict[str, list[dict[str, Any]]] = {}
    for exchange in CHATS:
        seen.setdefault(exchange.provider, []).append(exchange.request_body)
    zai_stream = next(b for b in seen["zai"] if b.get("stream"))
    assert zai_stream["stream_options"] == {"include_usage": True}
    assert modelwire.ZAI.spec.capabilities.stream_usage
    assert any(b.get("reasoning_effort") == "none" for b in seen["mistral"])
    effort = modelwire.Mistral.spec.option("reasoning_effort")
    assert effort is not None and "none" in (effort.enum or [])
    assert all("stream_options" not in b for b in seen["mistral"])
    cerebras = [b for b in seen["cerebras"] if "clear_thinking" in b]
    assert cerebras and all(
        modelwire.Cerebras.spec.option(k) for k in ("clear_thinking", "reasoning_effort")
    )
    for provider, bodies in seen.items():
        options = {o.name for o in getattr(modelwire, CLOUDS[provider]).spec.options}
        for body in bodies:
            for key in ("reasoning_effort", "clear_thinking", "thinking"):
                if key in body:
                    assert key in options, (provider, key)
