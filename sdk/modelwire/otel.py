"""OpenTelemetry for modelwire: a span and the GenAI client metrics for every chat and
embeddings call, named and labelled as OpenTelemetry's semantic conventions for generative
AI ask. One line sets it up: `modelwire.OpenAI(hooks=modelwire.otel.hooks())`.

It is built on the per-call hooks (`modelwire.hooks`): nothing here is on a client's
path unless a client is given these hooks. It needs the `otel` extra
(`pip install "modelwire[otel]"`, the OpenTelemetry API only); what the spans and metrics
become is the application's OpenTelemetry SDK's business, as for any library.

Message content (`gen_ai.input.messages`, `gen_ai.output.messages`,
`gen_ai.system_instructions`) is recorded only when asked for: `capture_content=True`, or
the environment variable OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .dialects import get_dialect
from .errors import ConfigurationError
from .hooks import EndEvent, FirstChunkEvent, Hooks, StartEvent
from .types import (
    CompletionRequest,
    CompletionResponse,
    EmbeddingResponse,
    ImagePart,
    Message,
    TextPart,
    ToolCall,
)

try:
    from opentelemetry import metrics, trace
except ImportError:  # pragma: no cover - the message is tested in a fresh interpreter
    raise ConfigurationError(
        'modelwire.otel needs the OpenTelemetry API: pip install "modelwire[otel]"'
    ) from None

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import Span, TracerProvider

CAPTURE_CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"

# the conventions' well-known `gen_ai.provider.name` values; any other provider is named by
# its spec (`gen_ai.system`, their deprecated forerunner, is not sent)
PROVIDER_NAMES = {
    "openai": "openai",
    "openai_responses": "openai",
    "anthropic": "anthropic",
    "groq": "groq",
    "mistral": "mistral_ai",
    "deepseek": "deepseek",
    "xai": "x_ai",
}

# the explicit bucket boundaries the conventions recommend for each histogram
TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304,
                 16777216, 67108864)  # fmt: skip
SECONDS_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48,
                   40.96, 81.92)  # fmt: skip

# the request fields recorded as `gen_ai.request.*`, and provider options that name the same
_REQUEST_FIELDS = {
    "max_tokens": "gen_ai.request.max_tokens",
    "temperature": "gen_ai.request.temperature",
    "top_p": "gen_ai.request.top_p",
    "seed": "gen_ai.request.seed",
}
_REQUEST_OPTIONS = {
    "top_k": "gen_ai.request.top_k",
    "frequency_penalty": "gen_ai.request.frequency_penalty",
    "presence_penalty": "gen_ai.request.presence_penalty",
}
# dialects whose system messages are sent apart from the chat history (as `system` or
# `instructions`): recorded as `gen_ai.system_instructions`, as the conventions ask
_SYSTEM_APART = frozenset({"anthropic_messages", "openai_responses"})


def hooks(
    *,
    capture_content: bool | None = None,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
) -> Hooks:
    """Hooks that trace and measure every chat and embeddings call of the clients given them.

    `capture_content` records the messages sent and received on the spans; None (the
    default) leaves it to OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT. The global
    tracer and meter providers are used unless others are given. Combine with hooks of
    your own through `modelwire.Hooks.combine(...)`.
    """
    if capture_content is None:
        capture_content = os.environ.get(CAPTURE_CONTENT_ENV, "").strip().lower() == "true"
    telemetry = GenAITelemetry(
        capture_content=capture_content,
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
    )
    return Hooks(
        on_start=telemetry.on_start,
        on_first_chunk=telemetry.on_first_chunk,
        on_end=telemetry.on_end,
    )


class GenAITelemetry:
    """The spans and metrics themselves; `hooks()` hands its three methods to a client."""

    def __init__(
        self,
        *,
        capture_content: bool = False,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        from ._version import __version__

        self.capture_content = capture_content
        self._tracer = trace.get_tracer("modelwire", __version__, tracer_provider)
        meter = metrics.get_meter("modelwire", __version__, meter_provider)
        self._tokens = meter.create_histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=list(TOKEN_BUCKETS),
        )
        self._duration = meter.create_histogram(
            "gen_ai.client.operation.duration",
            unit="s",
            description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=list(SECONDS_BUCKETS),
        )
        self._first_chunk = meter.create_histogram(
            "gen_ai.client.operation.time_to_first_chunk",
            unit="s",
            description="Time to receive the first chunk of a streamed response.",
            explicit_bucket_boundaries_advisory=list(SECONDS_BUCKETS),
        )
        # the open span of each call under way, by its start event
        self._spans: dict[StartEvent, Span] = {}

    # ----------------------------------------------------------------- the hooks

    def on_start(self, event: StartEvent) -> None:
        attributes = _common_attributes(event)
        request = event.request
        if request is not None:
            attributes.update(_request_attributes(request, event.stream))
            if self.capture_content:
                attributes.update(_input_content(request.messages, event.dialect))
        name = event.operation if event.model is None else f"{event.operation} {event.model}"
        self._spans[event] = self._tracer.start_span(
            name, kind=trace.SpanKind.CLIENT, attributes=attributes
        )

    def on_first_chunk(self, event: FirstChunkEvent) -> None:
        attributes = _common_attributes(event.start)
        if event.chunk.model:
            attributes["gen_ai.response.model"] = event.chunk.model
        self._first_chunk.record(event.elapsed, attributes)
        span = self._spans.get(event.start)
        if span is not None:
            span.set_attribute("gen_ai.response.time_to_first_chunk", event.elapsed)

    def on_end(self, event: EndEvent) -> None:
        start = event.start
        span = self._spans.pop(start, None)
        metric_attributes = _common_attributes(start)
        response = event.response
        if response is not None and response.model:
            metric_attributes["gen_ai.response.model"] = response.model
        error_type = _error_type(event)
        if error_type is not None:
            metric_attributes["error.type"] = error_type
        self._duration.record(event.elapsed, metric_attributes)

        usage = response.usage if response is not None else None
        input_tokens = None
        if usage is not None:
            input_tokens = get_dialect(start.dialect).all_input_tokens(usage)
            token_attributes = {k: v for k, v in metric_attributes.items() if k != "error.type"}
            self._tokens.record(input_tokens, {**token_attributes, "gen_ai.token.type": "input"})
            if start.operation == "chat":
                self._tokens.record(
                    usage.output_tokens, {**token_attributes, "gen_ai.token.type": "output"}
                )
        if span is None:
            return
        if response is not None:
            span.set_attributes(_response_attributes(response))
        if usage is not None and input_tokens is not None:
            span.set_attribute("gen_ai.usage.input_tokens", input_tokens)
            if start.operation == "chat":
                span.set_attribute("gen_ai.usage.output_tokens", usage.output_tokens)
            if usage.cache_read_tokens is not None:
                span.set_attribute("gen_ai.usage.cache_read.input_tokens", usage.cache_read_tokens)
            if usage.cache_write_tokens is not None:
                span.set_attribute(
                    "gen_ai.usage.cache_creation.input_tokens", usage.cache_write_tokens
                )
            if usage.reasoning_tokens is not None:
                span.set_attribute("gen_ai.usage.reasoning.output_tokens", usage.reasoning_tokens)
        if self.capture_content and isinstance(response, CompletionResponse):
            span.set_attribute("gen_ai.output.messages", _output_content(response))
        if error_type is not None:
            span.set_attribute("error.type", error_type)
            description = str(event.error) if event.error is not None else error_type
            span.set_status(trace.StatusCode.ERROR, description)
        span.end()


# --------------------------------------------------------------------------- attributes


def _common_attributes(event: StartEvent) -> dict[str, Any]:
    """What every span and metric of a call carries, known before it is sent."""
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": event.operation,
        "gen_ai.provider.name": PROVIDER_NAMES.get(event.provider, event.provider),
    }
    if event.model:
        attributes["gen_ai.request.model"] = event.model
    url = urlsplit(event.url)
    if url.hostname:
        attributes["server.address"] = url.hostname
        attributes["server.port"] = url.port or (443 if url.scheme == "https" else 80)
    return attributes


def _request_attributes(request: CompletionRequest, stream: bool) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    for name, key in _REQUEST_FIELDS.items():
        value = getattr(request, name)
        if value is not None:
            attributes[key] = value
    for name, key in _REQUEST_OPTIONS.items():
        value = request.options.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            attributes[key] = value
    if request.stop:
        attributes["gen_ai.request.stop_sequences"] = list(request.stop)
    if request.response_format is not None:
        attributes["gen_ai.output.type"] = "json"
    if stream:
        attributes["gen_ai.request.stream"] = True
    return attributes


def _response_attributes(response: CompletionResponse | EmbeddingResponse) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    if response.model:
        attributes["gen_ai.response.model"] = response.model
    if isinstance(response, CompletionResponse):
        if response.id:
            attributes["gen_ai.response.id"] = response.id
        if response.finish_reason is not None:
            attributes["gen_ai.response.finish_reasons"] = [response.finish_reason]
    return attributes


def _error_type(event: EndEvent) -> str | None:
    """The error's class name (`RateLimitError`, `StreamInterruptedError`, ...), or what
    interrupted the call; a stream closed early by its reader is no error."""
    if event.error is not None:
        return type(event.error).__qualname__
    if event.interrupted_by is not None and event.interrupted_by != "GeneratorExit":
        return event.interrupted_by
    return None


# --------------------------------------------------------------------------- content


def _input_content(messages: list[Message], dialect: str) -> dict[str, str]:
    """`gen_ai.input.messages` (and `gen_ai.system_instructions` where the dialect sends
    system messages apart), as the conventions' JSON structures."""
    apart = dialect in _SYSTEM_APART
    history = [m for m in messages if not (apart and m.role == "system")]
    content = {"gen_ai.input.messages": _json([_message(m) for m in history])}
    if apart:
        instructions = [part for m in messages if m.role == "system" for part in _parts(m)]
        if instructions:
            content["gen_ai.system_instructions"] = _json(instructions)
    return content


def _output_content(response: CompletionResponse) -> str:
    message: dict[str, Any] = {"role": "assistant", "parts": []}
    if response.reasoning:
        message["parts"].append({"type": "reasoning", "content": response.reasoning})
    if response.content:
        message["parts"].append({"type": "text", "content": response.content})
    message["parts"].extend(_tool_call(call) for call in response.tool_calls)
    message["finish_reason"] = response.finish_reason or "error"
    return _json([message])


def _message(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message.role, "parts": _parts(message)}
    if message.name and message.role != "tool":
        out["name"] = message.name
    return out


def _parts(message: Message) -> list[dict[str, Any]]:
    if message.role == "tool":
        response = message.text()
        return [{"type": "tool_call_response", "id": message.tool_call_id, "response": response}]
    parts: list[dict[str, Any]] = []
    if message.reasoning:
        parts.append({"type": "reasoning", "content": message.reasoning})
    content = (
        [TextPart(text=message.content)] if isinstance(message.content, str) else message.content
    )
    for part in content:
        if isinstance(part, ImagePart):
            parts.append(_image(part))
        elif part.text:
            parts.append({"type": "text", "content": part.text})
    parts.extend(_tool_call(call) for call in message.tool_calls or ())
    return parts


def _tool_call(call: ToolCall) -> dict[str, Any]:
    return {"type": "tool_call", "id": call.id, "name": call.name, "arguments": call.arguments}


def _image(part: ImagePart) -> dict[str, Any]:
    """A URL is a `uri` part; bytes, or a data: URL, a `blob` with its base64 content."""
    if part.data is not None:
        media_type: str | None = part.media_type
        data = part.base64()
    else:
        assert part.url is not None  # an ImagePart has one or the other
        if not part.url.startswith("data:"):
            return {"type": "uri", "modality": "image", "uri": part.url}
        media, _, data = part.url.removeprefix("data:").partition(";base64,")
        media_type = media or None
    return {"type": "blob", "modality": "image", "mime_type": media_type, "content": data}


def _json(value: Any) -> str:
    # span attributes hold no nested structures in the Python API: the conventions allow
    # the JSON string for that case
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
