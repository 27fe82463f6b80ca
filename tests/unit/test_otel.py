"""modelwire.otel: the spans and GenAI client metrics of real clients (MockProvider's
in-memory server), read back with the OpenTelemetry SDK's in-memory exporters."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import modelwire
import modelwire.otel
import pytest
from modelwire.otel import SECONDS_BUCKETS, TOKEN_BUCKETS
from modelwire.testing import AsyncMockProvider, MockProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from tests.unit.support import ANTHROPIC_TEXT, SDK_ROOT, Wire, json_answer

HI = [{"role": "user", "content": "Weather in Paris?"}]


@dataclass
class Telemetry:
    spans: InMemorySpanExporter
    metrics: InMemoryMetricReader
    tracer_provider: TracerProvider
    meter_provider: MeterProvider

    def hooks(self, **kwargs: Any) -> modelwire.Hooks:
        return modelwire.otel.hooks(
            tracer_provider=self.tracer_provider, meter_provider=self.meter_provider, **kwargs
        )

    def span(self) -> ReadableSpan:
        (span,) = self.spans.get_finished_spans()
        return span

    def points(self, name: str) -> list[HistogramDataPoint]:
        data = self.metrics.get_metrics_data()
        found: list[HistogramDataPoint] = []
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        found.extend(metric.data.data_points)  # type: ignore[arg-type]
        return found


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    yield Telemetry(spans, reader, tracer_provider, meter_provider)
    meter_provider.shutdown()
    tracer_provider.shutdown()


def test_a_whole_answer_is_one_client_span_with_the_conventions_attributes(
    telemetry: Telemetry,
) -> None:
    client = MockProvider("openai", model="gpt-4o-mini", hooks=telemetry.hooks())
    client.reply("Rainy, 14 degrees.", usage=(12, 5))
    client.complete(messages=HI, max_tokens=50, temperature=0.2, top_p=0.9, stop=["\n"], seed=7)
    span = telemetry.span()
    assert span.name == "chat gpt-4o-mini"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    attributes = dict(span.attributes or {})
    assert attributes == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "server.address": "api.openai.com",
        "server.port": 443,
        "gen_ai.request.max_tokens": 50,
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.stop_sequences": ("\n",),
        "gen_ai.request.seed": 7,
        "gen_ai.response.model": "gpt-4o-mini",
        "gen_ai.response.id": attributes["gen_ai.response.id"],
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 12,
        "gen_ai.usage.output_tokens": 5,
    }
    assert attributes["gen_ai.response.id"]
    assert "gen_ai.system" not in attributes  # the deprecated name is not sent


def test_the_metrics_carry_the_usage_and_the_recommended_buckets(telemetry: Telemetry) -> None:
    client = MockProvider("openai", model="gpt-4o-mini", hooks=telemetry.hooks())
    client.reply("one", usage=(12, 5)).reply("two", usage=(30, 1))
    client.complete(messages=HI)
    client.complete(messages=HI)
    tokens = {
        p.attributes["gen_ai.token.type"]: p for p in telemetry.points("gen_ai.client.token.usage")
    }
    assert (tokens["input"].sum, tokens["input"].count) == (42, 2)
    assert (tokens["output"].sum, tokens["output"].count) == (6, 2)
    assert tokens["input"].explicit_bounds == TOKEN_BUCKETS
    assert tokens["input"].attributes["gen_ai.provider.name"] == "openai"
    (duration,) = telemetry.points("gen_ai.client.operation.duration")
    assert duration.count == 2 and duration.explicit_bounds == SECONDS_BUCKETS
    assert "error.type" not in duration.attributes
    # time to first chunk is for streams only
    assert telemetry.points("gen_ai.client.operation.time_to_first_chunk") == []


def test_a_stream_is_one_span_ended_with_its_last_chunk(telemetry: Telemetry) -> None:
    client = MockProvider("openai", model="gpt-4o-mini", hooks=telemetry.hooks())
    client.reply("a b c", usage=(4, 3))
    with client.stream_completion(messages=HI) as stream:
        next(iter(stream))
        assert telemetry.spans.get_finished_spans() == ()  # still under way
        stream.accumulate()
    span = telemetry.span()
    attributes = dict(span.attributes or {})
    assert attributes["gen_ai.request.stream"] is True
    assert attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert (attributes["gen_ai.usage.input_tokens"], attributes["gen_ai.usage.output_tokens"]) == (
        4,
        3,
    )
    (first,) = telemetry.points("gen_ai.client.operation.time_to_first_chunk")
    assert first.count == 1 and first.explicit_bounds == SECONDS_BUCKETS
    (duration,) = telemetry.points("gen_ai.client.operation.duration")
    # the first chunk came before the end of the stream
    assert 0 < first.sum <= duration.sum
    assert attributes["gen_ai.response.time_to_first_chunk"] == first.sum


async def test_an_async_stream_is_traced_the_same(telemetry: Telemetry) -> None:
    client = AsyncMockProvider("anthropic", model="claude-sonnet-4-5", hooks=telemetry.hooks())
    client.reply("a b c", usage=(4, 3))
    stream = await client.stream_completion(messages=HI, max_tokens=20)
    async with stream:
        async for _ in stream:
            pass
    span = telemetry.span()
    attributes = dict(span.attributes or {})
    assert span.name == "chat claude-sonnet-4-5"
    assert attributes["gen_ai.provider.name"] == "anthropic"
    assert attributes["server.address"] == "api.anthropic.com"
    assert attributes["gen_ai.usage.output_tokens"] == 3
    assert len(telemetry.points("gen_ai.client.operation.time_to_first_chunk")) == 1
    await client.close()


def test_a_stream_closed_early_ends_its_span_without_an_error(telemetry: Telemetry) -> None:
    client = MockProvider("openai", model="gpt-4o-mini", hooks=telemetry.hooks())
    client.reply("one two three four five", usage=(4, 5))
    with client.stream_completion(messages=HI) as stream:
        for _ in stream:
            break
    span = telemetry.span()
    attributes = dict(span.attributes or {})
    assert span.status.status_code is StatusCode.UNSET
    assert "error.type" not in attributes
    assert "gen_ai.response.finish_reasons" not in attributes  # it never finished
    (duration,) = telemetry.points("gen_ai.client.operation.duration")
    assert duration.count == 1


def test_a_stream_never_read_nor_closed_ends_its_span_when_dropped(
    telemetry: Telemetry,
) -> None:
    client = MockProvider("openai", model="gpt-4o-mini", hooks=telemetry.hooks())
    client.reply("one two")
    with pytest.warns(ResourceWarning):
        client.stream_completion(messages=HI)
        gc.collect()
    assert telemetry.span().name == "chat gpt-4o-mini"


def test_a_failed_call_has_status_error_and_its_error_type(telemetry: Telemetry) -> None:
    client = MockProvider("openai", model="gpt-4o-mini", hooks=telemetry.hooks(), max_retries=0)
    client.fail(status=429, message="slow down")
    with pytest.raises(modelwire.RateLimitError):
        client.complete(messages=HI)
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert "slow down" in (span.status.description or "")
    assert span.attributes is not None and span.attributes["error.type"] == "RateLimitError"
    (duration,) = telemetry.points("gen_ai.client.operation.duration")
    assert duration.attributes["error.type"] == "RateLimitError"
    assert telemetry.points("gen_ai.client.token.usage") == []  # no usage, no token metric


@pytest.mark.parametrize("asynchronous", [False, True])
async def test_a_stream_failing_midway_has_status_error(
    telemetry: Telemetry, asynchronous: bool
) -> None:
    hooks = telemetry.hooks()
    if asynchronous:
        aclient = AsyncMockProvider("openai", model="gpt-4o-mini", hooks=hooks)
        aclient.disconnect(after_chunks=2, text="one two three four")
        stream = await aclient.stream_completion(messages=HI)
        with pytest.raises(modelwire.StreamInterruptedError):
            async with stream:
                async for _ in stream:
                    pass
        await aclient.close()
    else:
        client = MockProvider("openai", model="gpt-4o-mini", hooks=hooks)
        client.disconnect(after_chunks=2, text="one two three four")
        with (
            pytest.raises(modelwire.StreamInterruptedError),
            client.stream_completion(messages=HI) as sync_stream,
        ):
            for _ in sync_stream:
                pass
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None
    assert span.attributes["error.type"] == "StreamInterruptedError"
    # what arrived before the failure is still described
    assert span.attributes["gen_ai.response.model"] == "gpt-4o-mini"
    assert len(telemetry.points("gen_ai.client.operation.time_to_first_chunk")) == 1


def test_content_is_not_recorded_unless_asked(
    telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(modelwire.otel.CAPTURE_CONTENT_ENV, raising=False)
    MockProvider(hooks=telemetry.hooks()).reply("secret answer").complete(messages=HI)
    attributes = dict(telemetry.span().attributes or {})
    assert not any(key.endswith(("messages", "instructions")) for key in attributes)
    assert "secret answer" not in json.dumps(attributes)


def test_content_as_the_conventions_json_when_asked(telemetry: Telemetry) -> None:
    call = modelwire.ToolCall(id="call_1", name="weather", arguments={"city": "Paris"})
    messages = [
        modelwire.Message.system("Be brief."),
        modelwire.Message.user("Weather in Paris?"),
        modelwire.Message.assistant("", tool_calls=[call]),
        modelwire.Message.tool("call_1", "rainy"),
    ]
    client = MockProvider(
        "anthropic", model="claude-sonnet-4-5", hooks=telemetry.hooks(capture_content=True)
    )
    client.reply("Rainy.").complete(messages=messages)
    attributes = dict(telemetry.span().attributes or {})
    # Anthropic takes the system prompt apart from the history: system instructions
    assert json.loads(str(attributes["gen_ai.system_instructions"])) == [
        {"type": "text", "content": "Be brief."}
    ]
    assert json.loads(str(attributes["gen_ai.input.messages"])) == [
        {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]},
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": "call_1",
                    "name": "weather",
                    "arguments": {"city": "Paris"},
                }
            ],
        },
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": "call_1", "response": "rainy"}],
        },
    ]
    assert json.loads(str(attributes["gen_ai.output.messages"])) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "Rainy."}],
            "finish_reason": "stop",
        }
    ]


def test_the_environment_variable_opts_in_and_the_argument_wins(
    telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(modelwire.otel.CAPTURE_CONTENT_ENV, "true")
    MockProvider(hooks=telemetry.hooks()).reply("x").complete(messages=HI)
    (span,) = telemetry.spans.get_finished_spans()
    # OpenAI's chat API keeps system messages in the history: no system instructions
    assert "gen_ai.input.messages" in (span.attributes or {})
    telemetry.spans.clear()
    MockProvider(hooks=telemetry.hooks(capture_content=False)).reply("x").complete(messages=HI)
    assert "gen_ai.input.messages" not in (telemetry.span().attributes or {})


def test_input_tokens_include_anthropics_cached_ones(telemetry: Telemetry) -> None:
    usage = {
        "input_tokens": 3,
        "output_tokens": 2,
        "cache_read_input_tokens": 10,
        "cache_creation_input_tokens": 5,
    }
    wire = Wire(json_answer({**ANTHROPIC_TEXT, "usage": usage}))
    wire.client("anthropic", api_key="sk-ant-x", hooks=telemetry.hooks()).complete(messages=HI)
    attributes = dict(telemetry.span().attributes or {})
    assert attributes["gen_ai.usage.input_tokens"] == 18
    assert attributes["gen_ai.usage.cache_read.input_tokens"] == 10
    assert attributes["gen_ai.usage.cache_creation.input_tokens"] == 5
    inputs = [
        p
        for p in telemetry.points("gen_ai.client.token.usage")
        if p.attributes["gen_ai.token.type"] == "input"
    ]
    assert inputs[0].sum == 18


@pytest.mark.parametrize(
    ("provider", "expected"),
    [
        ("mistral", "mistral_ai"),
        ("xai", "x_ai"),
        ("openai_responses", "openai"),
        ("ollama", "ollama"),
    ],
)
def test_provider_names_are_the_conventions_well_known_values(
    telemetry: Telemetry, provider: str, expected: str
) -> None:
    MockProvider(provider, hooks=telemetry.hooks()).reply("x").complete(messages=HI)
    assert (telemetry.span().attributes or {})["gen_ai.provider.name"] == expected


def test_embeddings_are_an_embeddings_span(telemetry: Telemetry) -> None:
    body = {
        "object": "list",
        "model": "text-embedding-3-small",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}],
        "usage": {"prompt_tokens": 4, "total_tokens": 4},
    }
    http = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, json=body)))
    client = modelwire.OpenAI(api_key="sk-x", http_client=http, hooks=telemetry.hooks())
    client.embed("hello", model="text-embedding-3-small")
    span = telemetry.span()
    assert span.name == "embeddings text-embedding-3-small"
    attributes = dict(span.attributes or {})
    assert attributes["gen_ai.operation.name"] == "embeddings"
    assert attributes["gen_ai.usage.input_tokens"] == 4
    assert "gen_ai.usage.output_tokens" not in attributes


def test_without_the_extra_a_clear_error_names_it() -> None:
    script = (
        "import sys; sys.modules['opentelemetry'] = None\n"
        "try:\n    import modelwire.otel\n"
        "except Exception as exc:\n    print(type(exc).__name__, exc)\n"
    )
    env = {"PYTHONPATH": str(SDK_ROOT)}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == (
        "ConfigurationError modelwire.otel needs the OpenTelemetry API: "
        'pip install "modelwire[otel]"'
    )


def test_no_key_reaches_a_span(telemetry: Telemetry) -> None:
    secret = "sk-otel-secret-0123456789abcdef"

    def refuse(request: httpx.Request) -> httpx.Response:
        # a server that echoes the key it was sent
        return httpx.Response(401, json={"error": {"message": f"bad key {secret}"}})

    client = Wire(refuse).client(
        "openai", api_key=secret, hooks=telemetry.hooks(capture_content=True)
    )
    with pytest.raises(modelwire.AuthenticationError):
        client.complete(messages=HI)
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert secret not in span.to_json()


def test_images_are_uri_or_blob_parts(telemetry: Telemetry) -> None:
    message = modelwire.Message.user(
        [
            modelwire.TextPart(text="Which is bigger?"),
            modelwire.ImagePart(url="https://example.com/a.png"),
            modelwire.ImagePart.from_bytes(b"\x89PNG", media_type="image/png"),
        ]
    )
    client = MockProvider(
        "openai", model="gpt-4o-mini", hooks=telemetry.hooks(capture_content=True)
    )
    client.reply("The first.").complete(messages=[message])
    (sent,) = json.loads(str((telemetry.span().attributes or {})["gen_ai.input.messages"]))
    assert sent["parts"] == [
        {"type": "text", "content": "Which is bigger?"},
        {"type": "uri", "modality": "image", "uri": "https://example.com/a.png"},
        {"type": "blob", "modality": "image", "mime_type": "image/png", "content": "iVBORw=="},
    ]


async def test_a_cancelled_stream_is_an_error_named_by_the_cancellation(
    telemetry: Telemetry,
) -> None:
    import asyncio

    client = AsyncMockProvider(hooks=telemetry.hooks()).reply("a b c d e f", delay=0.05)
    stream = await client.stream_completion(messages=HI)

    async def read() -> None:
        async with stream:
            async for _ in stream:
                pass

    task = asyncio.create_task(read())
    await asyncio.sleep(0.12)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert (span.attributes or {})["error.type"] == "CancelledError"
    await client.close()
