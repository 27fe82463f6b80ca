"""Replaying recorded provider traffic through modelwire, and what the official SDKs make of
the same bytes (the reference every replay is compared against)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import modelwire
import vcr
import yaml
from modelwire._framing import SSEDecoder

from tests.cassettes.converted import converted_dir

# the shared recordings, converted for this run (the tests parametrise over them)
CASSETTES = converted_dir()

# provider folder -> (client class name, api key kwargs)
CLIENTS: dict[str, str] = {
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "openrouter": "OpenRouter",
    "groq": "Groq",
    "ollama-native": "Ollama",
    "lmstudio": "LMStudio",
    # Ollama's OpenAI-compatible /v1 surface
    "ollama": "OpenAI",
}
CHAT_PATHS = (
    "/v1/chat/completions",
    "/v1/messages",
    "/api/chat",
    "/api/v0/chat/completions",
    "/api/paas/v4/chat/completions",
)


@dataclass(frozen=True)
class Exchange:
    """One recorded request/response pair of a cassette."""

    cassette: Path
    index: int
    interaction: dict[str, Any]

    @property
    def provider(self) -> str:
        """The cassette folder: openai, anthropic, ollama-native, lmstudio, ..."""
        return self.cassette.relative_to(CASSETTES).parts[0]

    @property
    def id(self) -> str:
        return f"{self.cassette.relative_to(CASSETTES).with_suffix('')}#{self.index}"

    @property
    def request_body(self) -> dict[str, Any]:
        body = self.interaction["request"].get("body") or "{}"
        value = json.loads(body)
        return value if isinstance(value, dict) else {}

    @property
    def status(self) -> int:
        return int(self.interaction["response"]["status"]["code"])

    @property
    def content_type(self) -> str:
        headers = {k.lower(): v for k, v in self.interaction["response"]["headers"].items()}
        return str((headers.get("content-type") or [""])[0]).split(";")[0]

    @property
    def body(self) -> bytes:
        value = self.interaction["response"]["body"]["string"]
        return value if isinstance(value, bytes) else value.encode("utf-8")

    @property
    def path(self) -> str:
        uri: str = self.interaction["request"]["uri"]
        return "/" + uri.split("://", 1)[-1].split("/", 1)[-1].split("?")[0].split("#")[0]

    @property
    def is_chat(self) -> bool:
        return self.interaction["request"]["method"] == "POST" and self.path.endswith(CHAT_PATHS)

    @property
    def is_stream(self) -> bool:
        return self.content_type in ("text/event-stream", "application/x-ndjson")


def exchanges(provider: str) -> Iterator[Exchange]:
    for path in sorted((CASSETTES / provider).rglob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for index, interaction in enumerate(data["interactions"]):
            yield Exchange(path, index, interaction)


def single_cassette(exchange: Exchange, directory: Path) -> Path:
    """A cassette holding only this exchange, so it replays whatever came before it."""
    path = directory / "one.yaml"
    path.write_text(
        yaml.safe_dump({"version": 1, "interactions": [exchange.interaction]}, allow_unicode=True)
    )
    return path


def replayer() -> vcr.VCR:
    # modelwire's requests differ from the recording SDK's; match on what must agree
    return vcr.VCR(record_mode="none", match_on=["method", "path"])


def make_client(
    provider: str, *, asynchronous: bool = False, exchange: Exchange | None = None
) -> Any:
    name = CLIENTS[provider]
    cls = getattr(modelwire, f"Async{name}" if asynchronous else name)
    kwargs: dict[str, Any] = {"max_retries": 0}
    if provider in ("openai", "anthropic", "openrouter", "groq", "ollama"):
        kwargs["api_key"] = "test-key-not-real"
    if provider == "lmstudio" and exchange is not None and "/api/v0/" in exchange.path:
        # LM Studio's native REST API speaks the same dialect under /api/v0
        kwargs["base_url"] = "http://localhost:1234/api/v0"
    return cls(**kwargs)


def request_for(exchange: Exchange) -> dict[str, Any]:
    """A modelwire request for this exchange: the recorded model, a simple prompt."""
    model = exchange.request_body.get("model") or "recorded-model"
    return {
        "model": model,
        "messages": [{"role": "user", "content": "replayed"}],
        "max_tokens": 64,
    }


# ----------------------------------------------------------------------------- references


@dataclass
class Reference:
    """What the official SDK accumulated from the same bytes."""

    content: str
    tool_calls: list[tuple[str, str, dict[str, Any]]]  # (id, name, arguments)
    raw_finish_reason: str | None
    input_tokens: int | None
    output_tokens: int | None
    model: str | None
    error: bool = False


def sse_events(body: bytes) -> list[tuple[str, bytes]]:
    decoder = SSEDecoder()
    events = decoder.feed(body) + decoder.flush()
    return [(e.event, e.data) for e in events]


def openai_reference(body: bytes) -> Reference:
    """openai-python's own stream accumulator (ChatCompletionStreamState)."""
    from openai._models import construct_type_unchecked
    from openai.lib.streaming.chat._completions import ChatCompletionStreamState
    from openai.types import CompletionUsage
    from openai.types.chat import ChatCompletionChunk

    state: ChatCompletionStreamState[Any] = ChatCompletionStreamState()
    seen = False
    # The official state copies `usage` from the last chunk, even when that chunk's usage
    # is null (OpenAI's moderation chunk comes after the usage chunk); keep the last
    # reported usage instead, which is what the provider meant.
    usage: Any = None
    for _, data in sse_events(body):
        if data.startswith(b"[DONE]"):
            break
        payload = json.loads(data)
        if isinstance(payload, dict) and payload.get("error"):
            # openai-python's Stream raises APIError on such an event
            return Reference("", [], None, None, None, None, error=True)
        for choice in payload.get("choices") or []:
            # openai-python's delta accumulator cannot merge OpenRouter's url_citation
            # annotations (they carry no index); they are not compared here
            (choice.get("delta") or {}).pop("annotations", None)
        chunk = construct_type_unchecked(type_=ChatCompletionChunk, value=payload)
        state.handle_chunk(chunk)
        # Groq reports a stream's usage under x_groq, which openai-python does not read
        groq_usage = (payload.get("x_groq") or {}).get("usage")
        usage = chunk.usage or (groq_usage and CompletionUsage.model_validate(groq_usage)) or usage
        seen = True
    assert seen, "no chunk in the recording"
    final = state.get_final_completion()
    message = final.choices[0].message if final.choices else None
    calls = [
        (c.id, c.function.name, json.loads(c.function.arguments or "{}"))
        for c in (message.tool_calls or [] if message else [])
    ]
    return Reference(
        content=(message.content or "") if message else "",
        tool_calls=calls,
        raw_finish_reason=final.choices[0].finish_reason if final.choices else None,
        input_tokens=usage.prompt_tokens if usage else None,
        output_tokens=usage.completion_tokens if usage else None,
        model=final.model,
    )


def anthropic_reference(body: bytes) -> Reference:
    """anthropic-sdk-python's own message accumulator (accumulate_event)."""
    from anthropic.lib.streaming._messages import accumulate_event

    snapshot: Any = None
    json_bufs: dict[int, bytes] = {}
    for name, data in sse_events(body):
        payload = json.loads(data)
        if name == "error" or payload.get("type") == "error":
            return Reference("", [], None, None, None, None, error=True)
        if name == "ping":
            continue
        snapshot = accumulate_event(event=payload, current_snapshot=snapshot, json_bufs=json_bufs)
    assert snapshot is not None, "no event in the recording"
    text = "".join(b.text for b in snapshot.content if b.type == "text")
    calls = [(b.id, b.name, dict(b.input)) for b in snapshot.content if b.type == "tool_use"]
    return Reference(
        content=text,
        tool_calls=calls,
        raw_finish_reason=snapshot.stop_reason,
        input_tokens=snapshot.usage.input_tokens,
        output_tokens=snapshot.usage.output_tokens,
        model=snapshot.model,
    )


REFERENCES = {
    "openai": openai_reference,
    "openrouter": openai_reference,
    "groq": openai_reference,
    "anthropic": anthropic_reference,
}
