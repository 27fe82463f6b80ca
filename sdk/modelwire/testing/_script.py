"""What a test scripts: the answers a mock holds (`Reply`, `Failure`) and the `Script`
that queues them and records what was sent.

Only the standard library here: `MockScriptError` is exported from this module, and
catching it should not load httpx.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import httpx

    from ..spec import ProviderSpec
    from ..types import FinishReason


def ends_with_endpoint(path: str, endpoint: str) -> bool:
    """Whether a request's path is the spec's endpoint (whose `{model}` is any model)."""
    pattern = re.escape(endpoint.partition("?")[0]).replace(re.escape("{model}"), ".+")
    return re.search(pattern + "$", path) is not None


class MockScriptError(AssertionError):
    """A mock got a request its script has no answer for (or was scripted wrongly)."""


@dataclass
class Call:
    """One scripted tool call."""

    id: str | None
    name: str
    arguments: str  # JSON text


@dataclass
class Reply:
    """One scripted answer to one chat request; rendered when the request arrives, in the
    dialect of the mock's spec."""

    chunks: list[str]
    reasoning: str | None = None
    tool_calls: list[Call] = field(default_factory=list)
    finish_reason: FinishReason | None = None
    usage: Any = "auto"  # "auto", None, (input, output) or a Usage
    delay: float = 0.0
    tool_chunk_size: int = 16
    structured: bool = False
    # how the body ends: whole, with an error event, or with the connection cut
    end: Literal["ok", "error", "disconnect"] = "ok"
    after_chunks: int = 0
    error_message: str = ""
    error_type: str | None = None
    error_code: str | None = None


@dataclass
class Failure:
    """A scripted HTTP error status, sent with the provider's own error body."""

    status: int
    message: str | None
    error_type: str | None
    code: str | None
    retry_after: float | None
    headers: dict[str, str]


class Script:
    """The queue of scripted answers and the record of requests. The mock fills the queue
    and reads the record; its transport does the reverse."""

    def __init__(self, spec: ProviderSpec, model: str | None) -> None:
        self.spec = spec
        self.model = model
        self.queue: deque[Reply | Failure] = deque()
        self.requests: list[dict[str, Any]] = []  # chat request bodies
        self.http_requests: list[httpx.Request] = []  # every request
        # async streams run concurrently, and a sync mock may be shared between threads
        self._lock = threading.Lock()

    def take(
        self, request: httpx.Request, body: dict[str, Any]
    ) -> tuple[int, Reply | Failure | None]:
        """Records `request` and, for a chat request, takes the next answer from the queue:
        (the request's number, counting from 1; the answer, or None for other endpoints)."""
        with self._lock:
            self.http_requests.append(request)
            number = len(self.http_requests)
            if not self.is_chat(request):
                return number, None
            self.requests.append(body)
            if not self.queue:
                raise MockScriptError(
                    f"{self.owner_name()} got chat request #{len(self.requests)} "
                    f"({request.method} {request.url.path}) but its script is empty: queue an "
                    "answer first with .reply(...), .fail(...), ..."
                )
            return number, self.queue.popleft()

    def is_chat(self, request: httpx.Request) -> bool:
        return self.chat_kind(request) is not None

    def chat_kind(self, request: httpx.Request) -> str | None:
        """ "chat" or "stream" for a request to the chat or the stream endpoint (a
        `{model}` in the path matches any model), else None."""
        endpoints = self.spec.endpoints
        for kind, pattern in (("stream", endpoints.stream), ("chat", endpoints.chat)):
            if pattern is not None and ends_with_endpoint(request.url.path, pattern):
                return kind
        return None

    def owner_name(self) -> str:
        return "MockProvider" if self.spec.name == "mock" else f"MockProvider({self.spec.name})"

    def clear(self) -> None:
        self.queue.clear()
        self.requests.clear()
        self.http_requests.clear()
