"""The testing kit for code that uses modelwire: scripted providers and cassette replay.

`MockProvider` (sync) and `AsyncMockProvider` are real modelwire clients whose HTTP client
talks to an in-memory script instead of a network. Scripted answers are rendered as the
bytes a real provider sends (OpenAI chat chunks by default; Anthropic SSE events or Ollama
NDJSON with `dialect_of=`), so they go through the real decoder, dialect parser,
accumulator, error mapping and retries::

    mock = MockProvider().reply("Hello world").fail(status=429, retry_after=0).reply("Hi")
    assert mock.complete(messages=[{"role": "user", "content": "Hi"}]).content == "Hello world"
    assert mock.requests[0]["messages"][0]["content"] == "Hi"

`replay_cassette(path, client)` replays a vcrpy cassette into any generated client.

How it fits together, one module each:

- `_script`: what a test scripts (`Reply`, `Failure`) and the `Script` queue that holds
  it and records the requests; `MockScriptError`.
- `_render`: a scripted answer as calls of the dialect's writer (`modelwire.dialects`),
  which spells the bodies, stream events and errors.
- `_transport`: the in-memory server (`MockServer`: request -> planned response) and the
  httpx transports that play the response back (delays, timeouts, cut connections).
- `_mock`: `MockProvider(BaseClient)` / `AsyncMockProvider(AsyncBaseClient)` and the
  script API they share.
- `_cassettes`: `replay_cassette`.

The pytest plugin (`modelwire.testing.pytest_plugin`, loaded in every pytest run of anyone
who installs modelwire) imports this package, so importing it stays cheap: the names below
load on first use (PEP 562), httpx and the client bases with the mocks, vcrpy when
`replay_cassette` is called.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._cassettes import CassetteReplay, replay_cassette
    from ._mock import AsyncMockProvider, MockProvider
    from ._script import MockScriptError

__all__ = [
    "AsyncMockProvider",
    "CassetteReplay",
    "MockProvider",
    "MockScriptError",
    "replay_cassette",
]

# public name -> module that defines it, imported on first access
_LAZY: dict[str, str] = {
    "AsyncMockProvider": "._mock",
    "CassetteReplay": "._cassettes",
    "MockProvider": "._mock",
    "MockScriptError": "._script",
    "replay_cassette": "._cassettes",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
