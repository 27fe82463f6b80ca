"""The clients (`modelwire._client`): sync/async parity, reprs, closing, and the calls every
provider's client makes."""

from __future__ import annotations

import asyncio
import inspect
import json
from typing import Any

import httpx
import modelwire
import pytest
from modelwire import Tool
from modelwire.providers import PROVIDERS, client_class
from modelwire.testing import MockProvider

from tests.unit.support import ANTHROPIC_TEXT, Weather, Wire, json_answer, tool_history

PUBLIC_METHODS = ("complete", "stream_completion", "list_models", "embed", "close")


@pytest.mark.parametrize("name", sorted(PROVIDERS))
def test_sync_and_async_classes_match(name: str) -> None:
    sync_cls = client_class(name)
    async_cls = client_class(name, asynchronous=True)
    assert (
        inspect.signature(sync_cls.__init__).parameters.keys()
        == inspect.signature(async_cls.__init__).parameters.keys()
    )
    for method in PUBLIC_METHODS:
        sync_sig = inspect.signature(getattr(sync_cls, method))
        async_sig = inspect.signature(getattr(async_cls, method))
        assert list(sync_sig.parameters) == list(async_sig.parameters), method
        for param in sync_sig.parameters:
            assert str(sync_sig.parameters[param]).replace("AsyncClient", "Client") == str(
                async_sig.parameters[param]
            ).replace("AsyncClient", "Client"), (method, param)
        assert inspect.iscoroutinefunction(getattr(async_cls, method)), method
        assert not inspect.iscoroutinefunction(getattr(sync_cls, method)), method
    public_sync = {n for n in dir(sync_cls) if not n.startswith("_")}
    public_async = {n for n in dir(async_cls) if not n.startswith("_")}
    assert public_sync == public_async


def test_async_client_sends_the_same_request() -> None:
    bodies: list[bytes] = []

    def answer(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        return httpx.Response(200, json=ANTHROPIC_TEXT)

    kwargs: dict[str, Any] = {
        "messages": tool_history(),
        "tools": [Tool.from_model(Weather)],
        "temperature": 0.5,
        "stop": "END",
    }
    sync_client = modelwire.Anthropic(
        api_key="k", http_client=httpx.Client(transport=httpx.MockTransport(answer))
    )
    async_client = modelwire.AsyncAnthropic(
        api_key="k", http_client=httpx.AsyncClient(transport=httpx.MockTransport(answer))
    )
    sync_result = sync_client.complete(**kwargs)
    async_result = asyncio.run(async_client.complete(**kwargs))
    assert bodies[0] == bodies[1]
    assert sync_result == async_result
    assert json.loads(bodies[0])["stop_sequences"] == ["END"]


def test_repr_hides_the_key() -> None:
    secret = "sk-proj-0123456789abcdef"
    made = modelwire.OpenAI(api_key=secret)
    assert secret not in repr(made)
    assert secret[-4:] not in repr(made)
    assert secret not in repr(made._config)


HI = [{"role": "user", "content": "Say hi to me"}]


def test_closing_a_stream_early() -> None:
    mock = MockProvider().reply("one two three four five")
    stream = mock.stream_completion(messages=HI)
    first = [next(stream), next(stream)]
    stream.close()
    assert stream.closed
    assert "".join(c.content for c in first) == "one"
    assert stream.snapshot().content == "one"


def test_list_models_for_every_provider() -> None:
    lists = {
        "openai": {
            "data": [{"id": "gpt-4o", "object": "model", "owned_by": "openai", "created": 1}]
        },
        "anthropic": {
            "data": [
                {
                    "id": "claude-sonnet-4-5",
                    "display_name": "Claude",
                    "created_at": "2025-09-29T00:00:00Z",
                }
            ]
        },
        "openrouter": {"data": [{"id": "openai/gpt-4o", "context_length": 128000}]},
        "ollama": {
            "models": [{"name": "llama3.2:latest", "model": "llama3.2:latest", "size": 2019393189}]
        },
        "lmstudio": {
            "data": [{"id": "qwen3-4b", "object": "model", "owned_by": "organization_owner"}]
        },
    }
    for name, body in lists.items():
        wire = Wire(json_answer(body))
        models = wire.client(name, api_key="k").list_models()
        assert len(models) == 1 and models[0].id in json.dumps(body), name
        assert wire.requests[0].method == "GET"
    assert (
        Wire(json_answer(lists["openrouter"]))
        .client("openrouter", api_key="k")
        .list_models()[0]
        .context_length
        == 128000
    )
