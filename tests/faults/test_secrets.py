"""Secrets and bad input against a real server, sync and async: a server that echoes the
key, a base_url with a password, errors whose chains and locals must hold no credential,
JSON nested too deep, and the retry-count header each attempt carries.
docs/faults.md has these as rows of its table."""

from __future__ import annotations

import base64
import logging
import traceback
from typing import Any

import modelwire
import pytest
from modelwire.dialects.base import Answer, ToolCallText
from modelwire.errors import (
    APIConnectionError,
    AuthenticationError,
    ProviderError,
    ServerError,
    StreamEventError,
    StreamInterruptedError,
    UnexpectedResponseError,
)
from modelwire.providers.openai import SPEC as OPENAI_SPEC

from .server import FaultServer, Reset, Respond, Stream, refused_url
from .support import (
    API_KEY,
    FAST_RETRY,
    MESSAGES,
    STREAMS,
    WRITERS,
    Clients,
    assert_pool_clean,
    call,
    completion_body,
    drain,
    error_body,
    error_event,
    raises,
    whole_stream,
)

GATEWAY_KEY = "gw-modelwire-fault-gateway-5e8d1f"
PASSWORD = "hunter2-modelwire-basic-pw"
DEEP = b"[" * 100_000 + b"]" * 100_000


def everything_said(error: BaseException) -> str:
    """All an error shows: str, repr, body, and its chain formatted with every local."""
    assert isinstance(error, ProviderError)
    shown = traceback.TracebackException(
        type(error), error, error.__traceback__, capture_locals=True
    ).format()
    return "\n".join([str(error), repr(error), repr(error.body), *shown])


def chain_of(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def assert_no_httpx_in_chain(error: BaseException) -> None:
    for link in chain_of(error):
        assert not type(link).__module__.startswith(("httpx", "httpcore")), (
            f"{type(error).__name__} keeps {type(link).__name__} in its chain"
        )


# --------------------------------------------------------------------------- an echoed key


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_a_401_echoing_the_key_is_redacted(
    make_client: Clients, server: FaultServer, provider: str, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[Any] = []
    client = make_client(provider, hooks=modelwire.Hooks(on_error=seen.append))
    body = error_body(provider, 401, "authentication_error", f"Incorrect API key: {API_KEY}")
    server.script(Respond(401, body))
    with caplog.at_level(logging.DEBUG, logger="modelwire"):
        error = await raises(client.complete, messages=MESSAGES, max_tokens=5)
    assert type(error) is AuthenticationError
    said = everything_said(error)
    assert API_KEY not in said
    assert "Incorrect API key: <redacted>" in str(error)  # the rest of the message is kept
    assert "<redacted>" in repr(error.body)
    assert API_KEY not in caplog.text and "<redacted>" in caplog.text
    assert [event.error for event in seen] == [error]
    assert_no_httpx_in_chain(error)
    assert_pool_clean(client)


@pytest.mark.parametrize("provider", ["openai", "anthropic", "ollama"])
async def test_a_mid_stream_error_echoing_a_credential_is_redacted(
    make_client: Clients, server: FaultServer, provider: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Ollama takes no key: the credential it could echo is a gateway's header
    client = make_client(provider, default_headers={"X-Gateway-Key": GATEWAY_KEY})
    events, _, content_type = STREAMS[provider]
    echoed = f"key {API_KEY} / {GATEWAY_KEY} is not allowed"
    server.script(
        Stream([*events(["Hel"]), error_event(provider, echoed)], content_type=content_type)
    )
    with caplog.at_level(logging.DEBUG, logger="modelwire"):
        stream = await call(client.stream_completion, messages=MESSAGES, max_tokens=5)
        texts, error = await drain(stream)
    assert isinstance(error, StreamEventError)
    assert "".join(texts) == "Hel" and error.partial is not None
    assert error.partial.content == "Hel"
    said = everything_said(error)
    assert GATEWAY_KEY not in said and GATEWAY_KEY not in caplog.text
    if provider != "ollama":  # Ollama's client has no key, so cannot know this one
        assert API_KEY not in said and API_KEY not in caplog.text
    assert "is not allowed" in str(error)
    assert_pool_clean(client)


# --------------------------------------------------------------------------- chains and locals


async def test_a_stream_cut_mid_way_keeps_no_httpx_exception(
    make_client: Clients, server: FaultServer
) -> None:
    client = make_client(default_headers={"X-Gateway-Key": GATEWAY_KEY})
    events = STREAMS["openai"][0](["Hel", "lo"])
    server.script(Stream(events, content_type=STREAMS["openai"][2], end="reset"))
    stream = await call(client.stream_completion, messages=MESSAGES)
    _, error = await drain(stream)
    assert isinstance(error, StreamInterruptedError)
    assert error.__context__ is None and error.__cause__ is None
    said = everything_said(error)
    assert API_KEY not in said and GATEWAY_KEY not in said
    assert_pool_clean(client)


@pytest.mark.parametrize("mode", ["complete", "stream"])
async def test_a_failure_before_the_head_keeps_no_credential(
    make_client: Clients, server: FaultServer, mode: str
) -> None:
    client = make_client(default_headers={"X-Gateway-Key": GATEWAY_KEY}, max_retries=0)
    server.script(Reset())
    method = client.complete if mode == "complete" else client.stream_completion
    error = await raises(method, messages=MESSAGES)
    assert isinstance(error, APIConnectionError)
    assert_no_httpx_in_chain(error)
    said = everything_said(error)
    assert API_KEY not in said and GATEWAY_KEY not in said
    assert_pool_clean(client)


# --------------------------------------------------------------------------- basic auth


async def test_a_base_url_password_is_sent_as_basic_auth_and_never_shown(
    make_client: Clients, server: FaultServer
) -> None:
    events: list[Any] = []
    hooks = modelwire.Hooks(on_request=events.append, on_response=events.append)
    base_url = server.url.replace("http://", f"http://ops:{PASSWORD}@")
    client = make_client("ollama", base_url=base_url, hooks=hooks)
    assert PASSWORD not in repr(client) and client.base_url == server.url
    server.script(Respond(200, completion_body("ollama")))
    response = await call(client.complete, messages=MESSAGES)
    assert response.content == "Hello!"
    token = base64.b64encode(f"ops:{PASSWORD}".encode()).decode()
    assert server.requests[0].headers["authorization"] == f"Basic {token}"
    assert all(PASSWORD not in repr(event) for event in events) and len(events) == 2


async def test_a_refused_base_url_with_a_password_does_not_show_it(make_client: Clients) -> None:
    url = refused_url().replace("http://", f"http://ops:{PASSWORD}@")
    client = make_client("ollama", base_url=url, max_retries=0)
    error = await raises(client.complete, messages=MESSAGES)
    assert isinstance(error, APIConnectionError)
    token = base64.b64encode(f"ops:{PASSWORD}".encode()).decode()
    said = everything_said(error)
    assert PASSWORD not in said and token not in said


async def test_a_server_echoing_basic_auth_is_redacted(
    make_client: Clients, server: FaultServer
) -> None:
    token = base64.b64encode(f"ops:{PASSWORD}".encode()).decode()
    client = make_client("ollama", base_url=server.url.replace("//", f"//ops:{PASSWORD}@"))
    server.script(Respond(401, {"error": f"bad credentials: Basic {token} ({PASSWORD})"}))
    error = await raises(client.complete, messages=MESSAGES)
    assert isinstance(error, AuthenticationError)
    said = everything_said(error)
    assert PASSWORD not in said and token not in said
    assert str(error).endswith("bad credentials: <redacted> (<redacted>)")


# --------------------------------------------------------------------------- deep JSON


async def test_a_200_nested_too_deep_is_a_typed_error(
    make_client: Clients, server: FaultServer
) -> None:
    client = make_client()
    server.script(Respond(200, DEEP))
    error = await raises(client.complete, messages=MESSAGES)
    assert type(error) is UnexpectedResponseError
    assert "too deep" in str(error)
    assert_pool_clean(client)


async def test_a_500_nested_too_deep_is_a_server_error(
    make_client: Clients, server: FaultServer
) -> None:
    client = make_client(max_retries=0)
    server.script(Respond(500, DEEP))
    error = await raises(client.complete, messages=MESSAGES)
    assert type(error) is ServerError and error.status_code == 500
    assert_pool_clean(client)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_tool_arguments_nested_too_deep_keep_the_real_stream_error(
    make_client: Clients, server: FaultServer, provider: str
) -> None:
    client = make_client(provider)
    deep = "[" * 100_000 + "]" * 100_000
    answer = Answer(model="m", tool_calls=[ToolCallText("f", deep)], argument_chunk_size=len(deep))
    # the arguments go out as one fragment (Anthropic's writer sends them as text too)
    events = [e.data for e in WRITERS[provider].stream(answer) if e.kind != "end"]
    server.script(Stream(events, content_type=STREAMS[provider][2], end="close"))
    stream = await call(client.stream_completion, messages=MESSAGES, max_tokens=5)
    _, error = await drain(stream)
    assert isinstance(error, StreamInterruptedError)
    assert error.partial is not None
    assert error.partial.tool_calls[0].arguments == {"_raw": deep}
    assert_pool_clean(client)


async def test_a_whole_body_with_deep_tool_arguments_keeps_them_as_text(
    make_client: Clients, server: FaultServer
) -> None:
    client = make_client()
    deep = "[" * 100_000 + "]" * 100_000
    body = WRITERS["openai"].response(Answer(model="m", tool_calls=[ToolCallText("f", deep)]))
    server.script(Respond(200, body))
    response = await call(client.complete, messages=MESSAGES)
    assert response.tool_calls[0].arguments == {"_raw": deep}


# --------------------------------------------------------------------------- retries


async def test_each_attempt_says_how_many_retries_came_before(
    make_client: Clients, server: FaultServer
) -> None:
    client = make_client()
    busy = error_body("openai", 503, "server_error", "busy")
    server.script(Respond(503, busy), Respond(503, busy), Respond(200, completion_body("openai")))
    assert (await call(client.complete, messages=MESSAGES)).content == "Hello!"
    assert [r.headers["x-modelwire-retry-count"] for r in server.requests] == ["0", "1", "2"]


async def test_a_provider_idempotency_header_repeats_one_key_across_a_calls_retries(
    make_client: Clients, server: FaultServer
) -> None:
    spec = OPENAI_SPEC.model_copy(update={"idempotency_header": "Idempotency-Key"})
    client = make_client(spec=spec)
    busy = error_body("openai", 503, "server_error", "busy")
    server.script(Respond(503, busy), Respond(200, completion_body("openai")))
    await call(client.complete, messages=MESSAGES)
    server.script(Respond(200, completion_body("openai")))
    await call(client.complete, messages=MESSAGES)
    keys = [r.headers["idempotency-key"] for r in server.requests]
    assert keys[0] == keys[1], "a retry repeats its call's key"
    assert keys[2] != keys[0], "a new call has a key of its own"
    assert all(key.startswith("modelwire-") for key in keys)


async def test_an_idempotency_key_in_extra_headers_is_sent_on_every_attempt(
    make_client: Clients, server: FaultServer
) -> None:
    client = make_client()  # OpenAI documents no key; the caller's header still goes
    busy = error_body("openai", 503, "server_error", "busy")
    server.script(Respond(503, busy), Respond(200, completion_body("openai")))
    headers = {"Idempotency-Key": "order-17"}
    await call(client.complete, messages=MESSAGES, extra_headers=headers)
    assert [r.headers["idempotency-key"] for r in server.requests] == ["order-17", "order-17"]


async def test_a_stream_retried_before_its_head_counts_too(
    make_client: Clients, server: FaultServer
) -> None:
    client = make_client(max_retries=FAST_RETRY)
    server.script(
        Reset(), Stream(whole_stream("openai", ["Hi"]), content_type=STREAMS["openai"][2])
    )
    stream = await call(client.stream_completion, messages=MESSAGES)
    texts, error = await drain(stream)
    assert error is None and "".join(texts) == "Hi"
    assert [r.headers["x-modelwire-retry-count"] for r in server.requests] == ["0", "1"]
