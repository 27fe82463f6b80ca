"""modelwire: one typed interface, sync and async, streaming and not, to OpenAI,
Anthropic, OpenRouter, Ollama, LM Studio and any OpenAI-compatible server.

`import modelwire` is cheap: clients, types and errors load on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from ._core.hooks import ErrorEvent, Hooks, RequestEvent, ResponseEvent, RetryEvent
    from ._core.policy import RetryPolicy, Timeout
    from ._loader import load_spec
    from ._protocols import AsyncModelProvider, ModelProvider
    from ._transport._async import AsyncBaseClient, AsyncStreamingResponse
    from ._transport._sync import BaseClient, StreamingResponse
    from .errors import *
    from .providers import async_client, client
    from .providers.anthropic import Anthropic, AsyncAnthropic
    from .providers.groq import AsyncGroq, Groq
    from .providers.llamacpp import AsyncLlamaCpp, LlamaCpp
    from .providers.lmstudio import AsyncLMStudio, LMStudio
    from .providers.ollama import AsyncOllama, Ollama
    from .providers.openai import AsyncOpenAI, OpenAI
    from .providers.openrouter import AsyncOpenRouter, OpenRouter
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
    "client": ".providers",
    "async_client": ".providers",
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
    ".providers.openai": ("OpenAI", "AsyncOpenAI"),
    ".providers.anthropic": ("Anthropic", "AsyncAnthropic"),
    ".providers.openrouter": ("OpenRouter", "AsyncOpenRouter"),
    ".providers.ollama": ("Ollama", "AsyncOllama"),
    ".providers.lmstudio": ("LMStudio", "AsyncLMStudio"),
    ".providers.llamacpp": ("LlamaCpp", "AsyncLlamaCpp"),
    ".providers.groq": ("Groq", "AsyncGroq"),
}
for _module, _names in _LAZY_MODULES.items():
    _LAZY.update(dict.fromkeys(_names, _module))

# spelled out so that type checkers see every export
__all__ = [
    "__version__",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "Anthropic",
    "AsyncAnthropic",
    "AsyncBaseClient",
    "AsyncGroq",
    "AsyncLMStudio",
    "AsyncLlamaCpp",
    "AsyncModelProvider",
    "AsyncOllama",
    "AsyncOpenAI",
    "AsyncOpenRouter",
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
    "Groq",
    "Hooks",
    "ImagePart",
    "InsecureTransportError",
    "InternalServerError",
    "LMStudio",
    "LineTooLongError",
    "LlamaCpp",
    "Message",
    "ModelInfo",
    "ModelProvider",
    "NamedToolChoice",
    "NotFoundError",
    "Ollama",
    "OpenAI",
    "OpenRouter",
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
    "async_client",
    "client",
    "load_spec",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'modelwire' has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
