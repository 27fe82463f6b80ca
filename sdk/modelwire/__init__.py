"""modelwire: one typed interface, sync and async, streaming and not, to OpenAI,
Anthropic, OpenRouter, Ollama, LM Studio and any OpenAI-compatible server.

`import modelwire` is cheap: clients, types and errors load on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from . import providers as _providers  # only the registry: each client loads on first use

__version__ = "0.1.0"

if TYPE_CHECKING:
    from ._core.hooks import ErrorEvent, Hooks, RequestEvent, ResponseEvent, RetryEvent
    from ._core.policy import RetryPolicy, Timeout
    from ._loader import load_spec
    from ._protocols import AsyncModelProvider, ModelProvider
    from ._transport._async import AsyncBaseClient, AsyncStreamingResponse
    from ._transport._sync import BaseClient, StreamingResponse
    from .errors import *
    from .providers import *
    from .spec import ProviderSpec
    from .types import *

# public name -> module that defines it, imported on first access (PEP 562)
_LAZY: dict[str, str] = {
    "Hooks": "._core.hooks",
    "RequestEvent": "._core.hooks",
    "ResponseEvent": "._core.hooks",
    "RetryEvent": "._core.hooks",
    "ErrorEvent": "._core.hooks",
    "Timeout": "._core.policy",
    "RetryPolicy": "._core.policy",
    "load_spec": "._loader",
    "ModelProvider": "._protocols",
    "AsyncModelProvider": "._protocols",
    "BaseClient": "._transport._sync",
    "StreamingResponse": "._transport._sync",
    "AsyncBaseClient": "._transport._async",
    "AsyncStreamingResponse": "._transport._async",
    "ProviderSpec": ".spec",
}
_LAZY_MODULES: dict[str, tuple[str, ...]] = {
    ".types": (
        "CompletionRequest",
        "CompletionResponse",
        "ContentPart",
        "EmbeddingResponse",
        "FinishReason",
        "ImagePart",
        "Message",
        "ModelInfo",
        "NamedToolChoice",
        "ResponseFormat",
        "Role",
        "StreamingChunk",
        "TextPart",
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
        "InsecureTransportError",
        "ConfigurationError",
        "SpecError",
        "UnexpectedResponseError",
        "APIStatusError",
        "BadRequestError",
        "ContextLengthExceededError",
        "AuthenticationError",
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
        "StreamEventError",
        "StreamDecodeError",
        "LineTooLongError",
        "OutputValidationError",
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
    "AsyncModelProvider",
    "AsyncStreamingResponse",
    "AuthenticationError",
    "BadRequestError",
    "BaseClient",
    "CapabilityError",
    "CompletionRequest",
    "CompletionResponse",
    "ConfigurationError",
    "ConflictError",
    "ContentPart",
    "ContextLengthExceededError",
    "EmbeddingResponse",
    "ErrorEvent",
    "FinishReason",
    "Hooks",
    "ImagePart",
    "InsecureTransportError",
    "InternalServerError",
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
    "RateLimitError",
    "RequestEvent",
    "RequestTooLargeError",
    "RequestValidationError",
    "ResponseEvent",
    "ResponseFormat",
    "RetryEvent",
    "RetryPolicy",
    "Role",
    "ServerError",
    "SpecError",
    "StreamDecodeError",
    "StreamError",
    "StreamEventError",
    "StreamInterruptedError",
    "StreamTimeoutError",
    "StreamingChunk",
    "StreamingResponse",
    "TextPart",
    "Timeout",
    "Tool",
    "ToolCall",
    "ToolCallDelta",
    "ToolChoice",
    "UnexpectedResponseError",
    "UnprocessableEntityError",
    "Usage",
    "load_spec",
]


# every generated client (and client()/async_client()), from the registry: a provider
# added by a spec file alone is `modelwire.<ClassName>` with no edit here
__all__ += _providers.__all__


def __getattr__(name: str) -> Any:
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
