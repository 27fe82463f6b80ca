"""Pluggable auth through real clients on an in-memory transport: a token provider is
called for every attempt (retries included), sync or async; a failing one raises a typed
error before anything is sent; tokens and query keys never show in a repr, a log or an
error; `Auth.in_header` and `Auth.in_query` move the key."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
import modelwire
import pytest
from modelwire import Auth, RetryPolicy
from modelwire.errors import AuthenticationError, ServerError, TokenProviderError

from tests.unit.support import OPENAI_TEXT, no_io

FAST = RetryPolicy(max_retries=2, initial_delay=0.0, max_delay=0.0)
MESSAGES = [{"role": "user", "content": "Hi"}]
STREAM = b'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n'


class Tokens:
    """A token provider that hands out tok-1, tok-2, ... and counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        return f"secret-token-{self.calls:04d}"


class AsyncTokens(Tokens):
    async def __call__(self) -> str:  # type: ignore[override]
        await asyncio.sleep(0)
        return super().__call__()


def failing_then_ok(
    failures: int, seen: list[httpx.Request]
) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) <= failures:
            # the server echoes what it was sent: the token must not come back to the user
            echoed = request.headers.get("authorization", "")
            return httpx.Response(500, json={"error": {"message": f"broken for {echoed}"}})
        if b'"stream":true' in request.content:
            return httpx.Response(
                200, content=STREAM, headers={"content-type": "text/event-stream"}
            )
        return httpx.Response(200, json=OPENAI_TEXT)

    return answer


def sync_client(answer: Callable[[httpx.Request], httpx.Response], **kwargs: Any) -> Any:
    http = httpx.Client(transport=httpx.MockTransport(answer))
    return modelwire.OpenAI(http_client=http, max_retries=FAST, **kwargs)


def async_client(answer: Callable[[httpx.Request], httpx.Response], **kwargs: Any) -> Any:
    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    return modelwire.AsyncOpenAI(http_client=http, max_retries=FAST, **kwargs)


def test_a_sync_provider_is_called_for_every_attempt() -> None:
    tokens, seen = Tokens(), []
    client = sync_client(failing_then_ok(2, seen), auth=Auth.token(tokens))
    assert client.complete(messages=MESSAGES).content
    assert tokens.calls == 3 == len(seen)
    assert [r.headers["authorization"] for r in seen] == [
        "Bearer secret-token-0001",
        "Bearer secret-token-0002",
        "Bearer secret-token-0003",
    ]


@pytest.mark.parametrize("provider", [Tokens, AsyncTokens], ids=["sync", "async"])
def test_the_async_client_takes_a_sync_or_an_async_provider(provider: type[Tokens]) -> None:
    tokens, seen = provider(), []

    async def run() -> str:
        async with async_client(failing_then_ok(1, seen), auth=Auth.token(tokens)) as client:
            response = await client.complete(messages=MESSAGES)
            stream = await client.stream_completion(messages=MESSAGES)
            await stream.close()
            return response.content

    assert asyncio.run(run())
    assert tokens.calls == 3 == len(seen)  # a retry, then one stream
    assert seen[-1].headers["authorization"] == "Bearer secret-token-0003"


def test_the_sync_client_refuses_an_async_provider_before_sending() -> None:
    client = sync_client(no_io, auth=Auth.token(AsyncTokens()))
    with pytest.raises(TokenProviderError, match="use it with the async client"):
        client.complete(messages=MESSAGES)


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_a_failing_provider_is_typed_and_nothing_is_sent(asynchronous: bool) -> None:
    def broken() -> str:
        raise RuntimeError("the identity service is down")

    async def run() -> None:
        async with async_client(no_io, auth=Auth.token(broken)) as client:
            await client.complete(messages=MESSAGES)

    with pytest.raises(TokenProviderError) as info:
        if asynchronous:
            asyncio.run(run())
        else:
            sync_client(no_io, auth=Auth.token(broken)).complete(messages=MESSAGES)
    assert isinstance(info.value, AuthenticationError)
    assert "RuntimeError: the identity service is down" in str(info.value)
    assert info.value.provider == "openai"


@pytest.mark.parametrize("token", ["", None, "line\nbreak"])
def test_a_token_that_cannot_be_sent_is_refused(token: Any) -> None:
    client = sync_client(no_io, auth=Auth.token(lambda: token))
    with pytest.raises(TokenProviderError, match="the token provider returned"):
        client.complete(messages=MESSAGES)


def test_tokens_never_show_in_errors_logs_or_reprs(caplog: pytest.LogCaptureFixture) -> None:
    tokens, seen = Tokens(), []
    client = sync_client(failing_then_ok(3, seen), auth=Auth.token(tokens))
    with caplog.at_level(logging.DEBUG, logger="modelwire"), pytest.raises(ServerError) as info:
        client.complete(messages=MESSAGES)
    assert tokens.calls == 3
    error = info.value
    shown = f"{error} {error!r} {error.body} {caplog.text} {client!r} {Auth.token(tokens)!r}"
    assert "broken for" in str(error)
    assert "secret-token" not in shown


def test_a_token_replaces_the_api_key() -> None:
    seen: list[httpx.Request] = []
    client = sync_client(failing_then_ok(0, seen), api_key="sk-static", auth=Auth.token(Tokens()))
    client.complete(messages=MESSAGES)
    assert seen[0].headers["authorization"] == "Bearer secret-token-0001"
    assert "sk-static" not in str(seen[0].headers)


def test_a_token_needs_no_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(modelwire.ConfigurationError, match="needs an API key"):
        modelwire.OpenAI()
    assert modelwire.OpenAI(auth=Auth.token(Tokens())).model


def test_a_token_in_another_header_and_scheme() -> None:
    seen: list[httpx.Request] = []
    http = httpx.Client(transport=httpx.MockTransport(failing_then_ok(0, seen)))
    client = modelwire.OpenAI(
        http_client=http, auth=Auth.token(Tokens(), header="X-Token", scheme=None)
    )
    client.complete(messages=MESSAGES)
    assert seen[0].headers["x-token"] == "secret-token-0001"
    assert "authorization" not in seen[0].headers


def test_a_key_in_another_header() -> None:
    seen: list[httpx.Request] = []
    http = httpx.Client(transport=httpx.MockTransport(failing_then_ok(0, seen)))
    client = modelwire.OpenAI(http_client=http, api_key="sk-123", auth=Auth.in_header("api-key"))
    client.complete(messages=MESSAGES)
    assert seen[0].headers["api-key"] == "sk-123"
    assert "authorization" not in seen[0].headers


def test_a_key_in_the_query_stays_out_of_logs_and_hooks(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[httpx.Request] = []
    urls: list[str] = []
    hooks = modelwire.Hooks(on_request=lambda event: urls.append(event.url))
    http = httpx.Client(transport=httpx.MockTransport(failing_then_ok(1, seen)))
    client = modelwire.OpenAI(
        http_client=http,
        api_key="sk-query-key-123456",
        auth=Auth.in_query("key"),
        max_retries=FAST,
        hooks=hooks,
    )
    with caplog.at_level(logging.DEBUG, logger="modelwire"):
        client.complete(messages=MESSAGES)
    assert [r.url.params["key"] for r in seen] == ["sk-query-key-123456"] * 2
    assert "authorization" not in seen[0].headers
    assert urls == ["https://api.openai.com/v1/chat/completions"] * 2
    assert "sk-query-key" not in caplog.text


def test_gemini_takes_its_legacy_query_key() -> None:
    seen: list[httpx.Request] = []
    body = {"candidates": [{"content": {"parts": [{"text": "Hi"}]}, "finishReason": "STOP"}]}

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=body)

    http = httpx.Client(transport=httpx.MockTransport(answer))
    client = modelwire.Gemini(http_client=http, api_key="AIza-q", auth=Auth.in_query("key"))
    assert client.complete(messages=MESSAGES).content == "Hi"
    assert str(seen[0].url).endswith(":generateContent?key=AIza-q")
    assert "x-goog-api-key" not in seen[0].headers


def test_auth_is_checked_at_construction() -> None:
    with pytest.raises(modelwire.ConfigurationError, match=r"must be a modelwire\.Auth"):
        modelwire.OpenAI(api_key="k", auth="Bearer")  # type: ignore[arg-type]
    with pytest.raises(modelwire.ConfigurationError, match="not a valid HTTP header name"):
        modelwire.OpenAI(api_key="k", auth=Auth.in_header("bad header"))
    with pytest.raises(ValueError, match="exactly one of header= or query="):
        Auth()
    with pytest.raises(TypeError, match="needs a callable"):
        Auth.token("a-token")  # type: ignore[arg-type]


def test_a_token_echoed_in_an_error_event_mid_stream_is_redacted() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        token = request.headers["authorization"].removeprefix("Bearer ")
        error = {"error": {"code": 500, "message": f"bad token {token}", "status": "INTERNAL"}}
        text = {"candidates": [{"content": {"parts": [{"text": "Hel"}]}}]}
        body = b"".join(b"data: " + json.dumps(e).encode() + b"\r\n\r\n" for e in (text, error))
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    http = httpx.Client(transport=httpx.MockTransport(answer))
    client = modelwire.Gemini(http_client=http, auth=Auth.token(Tokens()))
    with (
        pytest.raises(modelwire.StreamEventError) as info,
        client.stream_completion(messages=MESSAGES) as stream,
    ):
        list(stream)
    assert info.value.partial is not None and info.value.partial.content == "Hel"
    assert str(info.value).endswith("bad token <redacted>")
    assert "secret-token" not in repr(info.value.body)


def test_tokens_are_never_sent_over_plain_http_to_another_host() -> None:
    with pytest.raises(modelwire.InsecureTransportError, match="a token provider's tokens"):
        modelwire.OpenAI(base_url="http://api.example.com/v1", auth=Auth.token(Tokens()))
