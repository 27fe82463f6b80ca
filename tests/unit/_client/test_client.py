"""The clients (`modelwire._client`): sync/async parity, reprs, closing, and the calls every
provider's client makes."""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import modelwire
import pytest
from modelwire import ConfigurationError, RetryPolicy, Tool
from modelwire._client import AsyncClient, Client
from modelwire.dialects import get_writer
from modelwire.dialects.base import Answer
from modelwire.providers import PROVIDERS, client_class, groq
from modelwire.testing import MockProvider
from pydantic import BaseModel

from tests.unit.support import (
    ANTHROPIC_TEXT,
    OPENAI_TEXT,
    Weather,
    Wire,
    json_answer,
    no_io,
    tool_history,
)

PUBLIC_METHODS = ("complete", "stream_completion", "count_tokens", "list_models", "embed", "close")


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


# --------------------------------------------------------------------------- making and closing

SSE = (
    b'data: {"id":"c","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n'
    b'data: {"id":"c","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"lo"},'
    b'"finish_reason":"stop"}]}\n\n'
    b"data: [DONE]\n\n"
)


def streaming(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200, content=SSE, headers={"content-type": "text/event-stream", "x-request-id": "req_s"}
    )


@pytest.mark.parametrize("cls", [Client, AsyncClient])
def test_a_bare_client_needs_a_spec(cls: type[Any]) -> None:
    with pytest.raises(
        ConfigurationError, match=r"needs a provider: pass spec= \(e.g. from load_spec\(\)\)"
    ):
        cls()
    bound = cls(spec=groq.SPEC, api_key="gsk-x")
    assert (bound.spec, bound.base_url, bound.model) == (
        groq.SPEC,
        groq.SPEC.base_url,
        groq.SPEC.default_model,
    )


def test_the_old_base_names_are_the_clients() -> None:
    assert modelwire.BaseClient is Client and modelwire.AsyncBaseClient is AsyncClient
    assert issubclass(modelwire.OpenAI, Client) and issubclass(modelwire.AsyncOpenAI, AsyncClient)


def test_the_repr_names_url_model_and_a_redacted_key() -> None:
    made = modelwire.OpenAI(api_key="sk-x", model="gpt-4o")
    assert (
        repr(made)
        == "OpenAI(base_url='https://api.openai.com/v1', model='gpt-4o', api_key='<redacted>')"
    )
    assert (
        repr(modelwire.Ollama())
        == "Ollama(base_url='http://localhost:11434', model='llama3.2', api_key=None)"
    )


def test_close_closes_only_the_http_client_it_made() -> None:
    own = modelwire.OpenAI(api_key="k")
    with own as entered:
        assert entered is own
    assert own._http.is_closed
    given = httpx.Client()
    with modelwire.OpenAI(api_key="k", http_client=given):
        pass
    assert not given.is_closed
    given.close()


async def test_async_close_closes_only_the_http_client_it_made() -> None:
    async with modelwire.AsyncOpenAI(api_key="k") as own:
        pass
    assert own._http.is_closed
    given = httpx.AsyncClient()
    await modelwire.AsyncOpenAI(api_key="k", http_client=given).close()
    assert not given.is_closed
    await given.aclose()


# --------------------------------------------------------------------------- answers


def test_complete_says_which_request_it_was_and_how_many_it_took() -> None:
    answers = [
        httpx.Response(503, json={"error": {"message": "busy"}}),
        httpx.Response(200, json=OPENAI_TEXT, headers={"x-request-id": "req_2"}),
    ]
    http = httpx.Client(transport=httpx.MockTransport(lambda request: answers.pop(0)))
    made = modelwire.OpenAI(
        api_key="k", http_client=http, max_retries=RetryPolicy(initial_delay=0, max_delay=0)
    )
    response = made.complete(messages=[{"role": "user", "content": "hi"}])
    assert (response.content, response.request_id, response.attempts) == ("hi", "req_2", 2)
    assert response.raw == OPENAI_TEXT


def test_a_stream_and_what_it_says_about_itself() -> None:
    http = httpx.Client(transport=httpx.MockTransport(streaming))
    made = modelwire.OpenAI(api_key="k", http_client=http)
    with made.stream_completion(messages=[{"role": "user", "content": "hi"}]) as stream:
        assert (stream.provider, stream.status_code, stream.request_id, stream.attempts) == (
            "openai",
            200,
            "req_s",
            1,
        )
        assert stream.headers["content-type"] == "text/event-stream"
        assert list(stream.text_stream()) == ["Hel", "lo"]
        final = stream.get_final_response()
    assert stream.closed
    assert (final.content, final.finish_reason, final.request_id) == ("Hello", "stop", "req_s")
    assert final.raw is None  # a stream has no single body


async def test_an_async_stream() -> None:
    http = httpx.AsyncClient(transport=httpx.MockTransport(streaming))
    async with modelwire.AsyncOpenAI(api_key="k", http_client=http) as made:
        stream = await made.stream_completion(messages=[{"role": "user", "content": "hi"}])
        async with stream:
            first = await stream.__anext__()
            assert first.content == "Hel" and stream.snapshot().content == "Hel"
            final = await stream.accumulate()
        assert stream.closed
    assert final.content == "Hello"
    await http.aclose()


def test_an_error_status_raises_before_a_stream_starts() -> None:
    http = httpx.Client(
        transport=httpx.MockTransport(
            lambda r: httpx.Response(401, json={"error": {"message": "bad key"}})
        )
    )
    made = modelwire.OpenAI(api_key="k", http_client=http)
    with pytest.raises(modelwire.AuthenticationError, match="bad key"):
        made.stream_completion(messages=[{"role": "user", "content": "hi"}])


def _anthropic_pages(request: httpx.Request) -> httpx.Response:
    """Three pages of two models, as Anthropic pages them (after_id / has_more / last_id)."""
    ids = [f"claude-{n}" for n in range(6)]
    after = request.url.params.get("after_id")
    start = 0 if after is None else ids.index(after) + 1
    page = ids[start : start + 2]
    body = {
        "data": [{"id": i, "type": "model", "display_name": i} for i in page],
        "has_more": start + 2 < len(ids),
        "first_id": page[0],
        "last_id": page[-1],
    }
    return httpx.Response(200, json=body)


def test_list_models_follows_every_page_sync_and_async() -> None:
    wire = Wire(_anthropic_pages)
    models = wire.client("anthropic", api_key="k").list_models()
    assert [m.id for m in models] == [f"claude-{n}" for n in range(6)]
    assert [r.url.params.get("after_id") for r in wire.requests] == [None, "claude-1", "claude-3"]
    assert all(r.url.params["limit"] == "1000" for r in wire.requests)

    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _anthropic_pages(request)

    async def run() -> list[str]:
        http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
        async with modelwire.AsyncAnthropic(api_key="k", http_client=http) as client:
            found = [m.id for m in await client.list_models()]
        await http.aclose()
        return found

    assert asyncio.run(run()) == [m.id for m in models]
    assert len(seen) == 3


def test_an_error_on_a_later_page_raises_with_its_status() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("after_id"):
            return httpx.Response(
                500, json={"type": "error", "error": {"type": "api_error", "message": "boom"}}
            )
        return _anthropic_pages(request)

    with pytest.raises(modelwire.ServerError, match="boom") as caught:
        Wire(answer).client("anthropic", api_key="k").list_models()
    assert caught.value.status_code == 500


# ----------------------------------------------------------------------------- count_tokens


def _counting_answer(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/tokenize"):
        return httpx.Response(200, json={"tokens": [1, 2, 3, 4, 5]})
    if request.url.path.endswith("/responses/input_tokens"):
        return httpx.Response(200, json={"object": "response.input_tokens", "input_tokens": 11})
    return httpx.Response(200, json={"input_tokens": 14})


COUNTING = [
    # provider, model, the URL counted at, the count its answer gives
    ("anthropic", "claude-sonnet-4-5", "https://api.anthropic.com/v1/messages/count_tokens", 14),
    ("openai_responses", "gpt-5", "https://api.openai.com/v1/responses/input_tokens", 11),
    # llama.cpp serves /tokenize from its root, beside /v1
    ("llamacpp", "local", "http://127.0.0.1:8080/tokenize", 5),
]


@pytest.mark.parametrize(("provider", "model", "url", "count"), COUNTING)
def test_count_tokens_sync_and_async(provider: str, model: str, url: str, count: int) -> None:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    wire = Wire(_counting_answer)
    counted = wire.client(provider, api_key="sk-x").count_tokens(model=model, messages=messages)
    assert isinstance(counted, modelwire.TokenCount)
    assert (counted.input_tokens, counted.model) == (count, model)
    assert str(wire.requests[-1].url) == url and wire.requests[-1].method == "POST"
    sync_body = wire.body

    async def run() -> modelwire.TokenCount:
        http = httpx.AsyncClient(transport=httpx.MockTransport(wire))
        async with modelwire.async_client(provider, api_key="sk-x", http_client=http) as made:
            result: modelwire.TokenCount = await made.count_tokens(model=model, messages=messages)
            return result

    assert asyncio.run(run()).input_tokens == count
    assert wire.body == sync_body  # the same request, sync and async


def test_count_tokens_sends_what_the_counting_endpoint_takes() -> None:
    wire = Wire(_counting_answer)
    wire.client("anthropic", api_key="sk-x").count_tokens(
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        tools=[Tool.from_model(Weather)],
        reasoning=modelwire.Reasoning(budget_tokens=2048),
        temperature=1,
        metadata={"user_id": "u1"},  # not part of what is counted
    )
    body = wire.body
    assert body["system"] == "Be brief." and body["tools"][0]["name"] == "Weather"
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert not {"max_tokens", "temperature", "metadata", "stream"} & set(body)
    wire.client("llamacpp").count_tokens(
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    )
    assert wire.body == {"content": "Be brief.\nHi"}


@pytest.mark.parametrize("provider", ["openai", "ollama", "deepseek"])
def test_count_tokens_where_the_provider_has_none_fails_before_any_io(provider: str) -> None:
    with pytest.raises(modelwire.CapabilityError, match="has no token counting"):
        Wire(no_io).client(provider, api_key="sk-x").count_tokens(
            messages=[{"role": "user", "content": "Hi"}]
        )


def test_count_tokens_checks_the_request_like_complete() -> None:
    with pytest.raises(modelwire.RequestValidationError, match="messages is empty"):
        Wire(no_io).client("anthropic", api_key="sk-x").count_tokens(messages=[])


@pytest.mark.parametrize(
    ("provider", "answer"),
    [
        ("anthropic", {"input_tokens": "many"}),
        ("anthropic", {"tokens": 3}),
        ("llamacpp", {"tokens": 3}),
        ("llamacpp", ["not", "an", "object"]),
    ],
)
def test_a_count_without_its_number_is_a_typed_error(provider: str, answer: Any) -> None:
    client = Wire(json_answer(answer)).client(provider, api_key="sk-x")
    with pytest.raises(modelwire.UnexpectedResponseError, match="token"):
        client.count_tokens(messages=[{"role": "user", "content": "Hi"}])


# ----------------------------------------------------------------------------- partial objects


class Landmark(BaseModel):
    name: str
    year: int


class City(BaseModel):
    name: str
    country: str
    landmarks: list[Landmark] = []


LISBON = City(
    name="Lisbon",
    country="Portugal",
    landmarks=[Landmark(name="Belém Tower", year=1519), Landmark(name="Sé", year=1147)],
)


def _structured_stream(provider: str) -> bytes:
    """What `provider` streams for LISBON as structured output, in 4-character deltas."""
    spec = client_class(provider).spec
    text = LISBON.model_dump_json()
    answer = Answer(model="m", chunks=[text[i : i + 4] for i in range(0, len(text), 4)])
    return b"".join(event.data for event in get_writer(spec.dialect).stream(answer))


def _split_answer(body: bytes, cuts: list[int]) -> Callable[[httpx.Request], httpx.Response]:
    pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=pieces)

    return answer


def _grows(earlier: Any, later: Any) -> bool:
    if isinstance(earlier, dict):
        return all(k in later and _grows(v, later[k]) for k, v in earlier.items())
    if isinstance(earlier, list):
        return len(earlier) <= len(later) and all(map(_grows, earlier, later))
    if isinstance(earlier, str):
        return bool(later.startswith(earlier))
    return bool(earlier == later)


def _partials(provider: str, body: bytes, cuts: list[int]) -> tuple[list[City], City]:
    client = Wire(_split_answer(body, cuts)).client(provider, api_key="sk-x", model="m")
    with client.stream_completion(
        messages=[{"role": "user", "content": "Lisbon?"}], response_format=City
    ) as stream:
        partials = list(stream.partial_objects())
        parsed = stream.accumulate().parsed
    return partials, parsed


@pytest.mark.parametrize("provider", ["openai", "anthropic", "openai_responses"])
def test_partial_objects_grow_to_parsed_however_the_bytes_arrive(provider: str) -> None:
    # every byte boundary is split in tests/unit/_core/test_partial.py, without a client
    body = _structured_stream(provider)
    whole, parsed = _partials(provider, body, [])
    assert parsed == LISBON and whole[-1] == parsed and len(whole) >= 5
    shown = [p.model_dump(exclude_unset=True) for p in whole]
    assert all(_grows(a, b) and a != b for a, b in itertools.pairwise(shown))
    for cut in range(1, len(body), 97):
        assert _partials(provider, body, [cut]) == (whole, parsed), cut
    assert _partials(provider, body, list(range(1, len(body)))) == (whole, parsed)


async def test_partial_objects_async_are_the_sync_ones() -> None:
    body = _structured_stream("openai")
    expected = _partials("openai", body, [])

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 3):
            yield body[start : start + 3]

    async def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=pieces())

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    async with modelwire.AsyncOpenAI(api_key="k", http_client=http, model="m") as made:
        stream = await made.stream_completion(
            messages=[{"role": "user", "content": "Lisbon?"}], response_format=City
        )
        async with stream:
            partials = [partial async for partial in stream.partial_objects()]
            parsed = (await stream.accumulate()).parsed
    assert (partials, parsed) == expected


def test_partial_objects_need_a_response_format() -> None:
    client = Wire(_split_answer(_structured_stream("openai"), [])).client("openai", api_key="k")
    with (
        client.stream_completion(messages=[{"role": "user", "content": "hi"}]) as stream,
        pytest.raises(modelwire.RequestValidationError, match="response_format="),
    ):
        next(iter(stream.partial_objects()))


def test_a_stream_cut_short_raises_with_what_arrived() -> None:
    text = LISBON.model_dump_json()
    answer = Answer(model="m", chunks=[text[i : i + 4] for i in range(0, len(text), 4)])
    events = get_writer("openai_chat").stream(answer)
    cut_body = b"".join(event.data for event in events[: len(events) * 2 // 3])
    client = Wire(_split_answer(cut_body, [])).client("openai", api_key="k", model="m")
    seen: list[City] = []
    with (
        client.stream_completion(
            messages=[{"role": "user", "content": "Lisbon?"}], response_format=City
        ) as stream,
        pytest.raises(modelwire.StreamInterruptedError) as info,
    ):
        seen.extend(stream.partial_objects())
    assert seen and seen[-1].name == "Lisbon" and seen[-1] != LISBON
    assert info.value.partial is not None and info.value.partial.content.startswith('{"name"')
