"""modelwire: one typed interface, sync and async, streaming and not, to OpenAI,
Anthropic, OpenRouter, Ollama, LM Studio and any OpenAI-compatible server.

`import modelwire` is cheap: clients, types and errors load on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from . import providers as _providers  # only the table: each client loads on first use
from ._version import __version__

if TYPE_CHECKING:
    from . import cost, otel
    from ._batch import AsyncBatch, Batch, BatchProgress, BatchResult, async_batch, batch
    from ._client import (
        AsyncBaseClient,
        AsyncBatches,
        AsyncClient,
        AsyncStreamingResponse,
        AsyncStreamOpening,
        BaseClient,
        Batches,
        Client,
        StreamingResponse,
    )
    from ._fallback import (
        DEFAULT_FALL_THROUGH,
        AsyncFallback,
        AsyncFallbackStream,
        Fallback,
        FallbackStream,
        fallback,
    )
    from ._loader import load_spec
    from ._protocols import AsyncModelProvider, ModelProvider
    from .auth import Auth, TokenProvider
    from .errors import *
    from .hooks import (
        EndEvent,
        ErrorEvent,
        FirstChunkEvent,
        Hooks,
        RequestEvent,
        ResponseEvent,
        RetryEvent,
        StartEvent,
    )
    from .limits import Limiter, Limits, RedisLimiter
    from .providers import *
    from .retries import RetryPolicy
    from .spec import ProviderSpec
    from .types import *

# public name -> module that defines it, imported on first access (PEP 562)
_LAZY: dict[str, str] = {
    "Hooks": ".hooks",
    "RequestEvent": ".hooks",
    "ResponseEvent": ".hooks",
    "RetryEvent": ".hooks",
    "ErrorEvent": ".hooks",
    "StartEvent": ".hooks",
    "FirstChunkEvent": ".hooks",
    "EndEvent": ".hooks",
    "RetryPolicy": ".retries",
    "load_spec": "._loader",
    "fallback": "._fallback",
    "Fallback": "._fallback",
    "AsyncFallback": "._fallback",
    "FallbackStream": "._fallback",
    "AsyncFallbackStream": "._fallback",
    "DEFAULT_FALL_THROUGH": "._fallback",
    "ModelProvider": "._protocols",
    "AsyncModelProvider": "._protocols",
    "Client": "._client",
    "AsyncClient": "._client",
    "BaseClient": "._client",
    "StreamingResponse": "._client",
    "AsyncBaseClient": "._client",
    "AsyncStreamingResponse": "._client",
    "Batches": "._client",
    "AsyncBatches": "._client",
    "AsyncStreamOpening": "._client",
    "ProviderSpec": ".spec",
    "Auth": ".auth",
    "TokenProvider": ".auth",
    "Limits": ".limits",
    "Limiter": ".limits",
    "RedisLimiter": ".limits",
    "batch": "._batch",
    "async_batch": "._batch",
    "Batch": "._batch",
    "AsyncBatch": "._batch",
    "BatchResult": "._batch",
    "BatchProgress": "._batch",
}
_LAZY_MODULES: dict[str, tuple[str, ...]] = {
    ".types": (
        "BatchJob",
        "BatchJobCounts",
        "BatchJobResult",
        "BatchJobStatus",
        "CacheControl",
        "Citation",
        "CompletionRequest",
        "CompletionResponse",
        "ContentPart",
        "DocumentPart",
        "EmbeddingResponse",
        "FinishReason",
        "ImagePart",
        "Message",
        "ModelInfo",
        "FallbackAttempt",
        "RateLimit",
        "RateLimits",
        "NamedToolChoice",
        "FieldsBesidesFormat",
        "Reasoning",
        "ReasoningEffort",
        "RequestFields",
        "RequestInput",
        "ResponseFormat",
        "Role",
        "StreamingChunk",
        "TextPart",
        "ThinkingPart",
        "Timeout",
        "TokenCount",
        "Tool",
        "ToolCall",
        "ToolCallDelta",
        "ToolChoice",
        "Usage",
    ),
    ".errors": (
        "ProviderError",
        "RequestValidationError",
        "CapabilityError",
        "ClientClosedError",
        "InsecureTransportError",
        "ConfigurationError",
        "SpecError",
        "LimitExceededError",
        "LimiterUnavailableError",
        "UnexpectedResponseError",
        "APIStatusError",
        "BadRequestError",
        "ContextLengthExceededError",
        "ContentFilterError",
        "AuthenticationError",
        "TokenProviderError",
        "PermissionDeniedError",
        "NotFoundError",
        "ConflictError",
        "RequestTooLargeError",
        "UnprocessableEntityError",
        "RateLimitError",
        "ServerError",
        "InternalServerError",
        "OverloadedError",
        "APIConnectionError",
        "APITimeoutError",
        "StreamError",
        "StreamInterruptedError",
        "StreamTimeoutError",
        "StreamIncompleteError",
        "StreamEventError",
        "StreamDecodeError",
        "LineTooLongError",
        "OutputValidationError",
        "ResponseFailedError",
        "CostUnknownError",
        "BatchTimeoutError",
        "BatchItemError",
    ),
}
for _module, _names in _LAZY_MODULES.items():
    _LAZY.update(dict.fromkeys(_names, _module))

# spelled out so that type checkers see every export
__all__ = [
    "__version__",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncBaseClient",
    "AsyncBatch",
    "AsyncBatches",
    "AsyncClient",
    "AsyncFallback",
    "AsyncFallbackStream",
    "AsyncModelProvider",
    "AsyncStreamOpening",
    "AsyncStreamingResponse",
    "Auth",
    "AuthenticationError",
    "BadRequestError",
    "BaseClient",
    "Batch",
    "BatchItemError",
    "BatchJob",
    "BatchJobCounts",
    "BatchJobResult",
    "BatchJobStatus",
    "BatchProgress",
    "BatchResult",
    "BatchTimeoutError",
    "Batches",
    "CacheControl",
    "CapabilityError",
    "Citation",
    "Client",
    "ClientClosedError",
    "CompletionRequest",
    "CompletionResponse",
    "ConfigurationError",
    "DEFAULT_FALL_THROUGH",
    "ConflictError",
    "ContentFilterError",
    "ContentPart",
    "CostUnknownError",
    "ContextLengthExceededError",
    "DocumentPart",
    "EmbeddingResponse",
    "EndEvent",
    "ErrorEvent",
    "FieldsBesidesFormat",
    "Fallback",
    "FallbackAttempt",
    "FallbackStream",
    "FinishReason",
    "FirstChunkEvent",
    "Hooks",
    "ImagePart",
    "InsecureTransportError",
    "InternalServerError",
    "LimitExceededError",
    "Limiter",
    "LimiterUnavailableError",
    "Limits",
    "LineTooLongError",
    "Message",
    "ModelInfo",
    "ModelProvider",
    "NamedToolChoice",
    "NotFoundError",
    "OutputValidationError",
    "OverloadedError",
    "PermissionDeniedError",
    "ProviderError",
    "ProviderSpec",
    "RateLimit",
    "RateLimitError",
    "Reasoning",
    "ReasoningEffort",
    "RedisLimiter",
    "RateLimits",
    "RequestEvent",
    "RequestFields",
    "RequestInput",
    "RequestTooLargeError",
    "RequestValidationError",
    "ResponseEvent",
    "ResponseFailedError",
    "ResponseFormat",
    "RetryEvent",
    "RetryPolicy",
    "Role",
    "ServerError",
    "SpecError",
    "StartEvent",
    "StreamDecodeError",
    "StreamError",
    "StreamEventError",
    "StreamIncompleteError",
    "StreamInterruptedError",
    "StreamTimeoutError",
    "StreamingChunk",
    "StreamingResponse",
    "TextPart",
    "ThinkingPart",
    "Timeout",
    "TokenCount",
    "TokenProvider",
    "TokenProviderError",
    "Tool",
    "ToolCall",
    "ToolCallDelta",
    "ToolChoice",
    "UnexpectedResponseError",
    "UnprocessableEntityError",
    "Usage",
    "async_batch",
    "batch",
    "fallback",
    "load_spec",
]


# every generated client (and client()/async_client()), from the registry: a provider
# added by a spec file alone is `modelwire.<ClassName>` with no edit here
__all__ += _providers.__all__


# optional integrations, each needing its extra: imported on first access, never before
_SUBMODULES = frozenset({"otel", "cost"})


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return import_module(f".{name}", __name__)
    module = _LAZY.get(name)
    if module is None:
        if name not in _providers.__all__:
            raise AttributeError(f"module 'modelwire' has no attribute {name!r}")
        module = ".providers"
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
