"""Every check made before any I/O (`modelwire._core.validation`): each raises its typed error
with a message that names the fix, and nothing is sent."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import modelwire
import modelwire.providers.anthropic
import modelwire.providers.llamacpp
import modelwire.providers.openai
import pytest
from modelwire import (
    CapabilityError,
    ConfigurationError,
    ImagePart,
    InsecureTransportError,
    Reasoning,
    RequestValidationError,
    Tool,
)
from modelwire._core import validation
from modelwire.spec import ProviderSpec
from modelwire.types import CompletionRequest, Message, NamedToolChoice, TextPart, ToolCall
from pydantic import BaseModel

from tests.unit.support import (
    ANTHROPIC_TEXT,
    KEYS,
    OPENAI_TEXT,
    PNG,
    Weather,
    Wire,
    image_message,
    json_answer,
    no_io,
    tool_history,
)


def test_ollama_cannot_be_forced_to_call_a_tool() -> None:
    wire = Wire(no_io)
    with pytest.raises(CapabilityError, match="tool_choice='auto'"):
        wire.client("ollama").complete(
            model="llama3.2",
            messages=tool_history(),
            tools=[Tool.from_model(Weather)],
            tool_choice="required",
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"messages": []}, "messages is empty"),
        ({"messages": [{"role": "wizard", "content": "x"}]}, "unknown role 'wizard'"),
        (
            {"messages": [{"role": "tool", "content": "x", "tool_call_id": "nope"}]},
            "no earlier assistant",
        ),
        ({"temperature": 1.5}, "temperature=1.5 is out of range for Anthropic: use 0.0 to 1.0"),
        ({"top_p": 2}, "top_p=2"),
        ({"max_tokens": 0}, "max_tokens=0"),
        ({"options": {"num_ctx": 4096}}, "has no option 'num_ctx'"),
        ({"top_k": -1}, "below its minimum"),
        ({"tool_choice": "get_time"}, "not among the tools given"),
        ({"tool_choice": "required"}, "tool_choice is set but no tools"),
    ],
)
def test_bad_requests_fail_before_any_io(kwargs: dict[str, Any], message: str) -> None:
    wire = Wire(no_io)
    request = {"messages": [{"role": "user", "content": "hi"}], **kwargs}
    with pytest.raises(RequestValidationError, match=message):
        wire.client("anthropic", **KEYS["anthropic"]).complete(request)
    assert wire.requests == []


def test_named_tool_must_exist() -> None:
    wire = Wire(no_io)
    with pytest.raises(RequestValidationError, match="not among the tools"):
        wire.client("openai", **KEYS["openai"]).complete(
            messages=[{"role": "user", "content": "hi"}],
            tools=[Tool.from_model(Weather)],
            tool_choice="Other",
        )


def test_images_where_they_cannot_go() -> None:
    with pytest.raises(CapabilityError, match="takes no images"):
        Wire(no_io).client("llamacpp").complete(messages=image_message(ImagePart.from_bytes(PNG)))
    with pytest.raises(CapabilityError, match=r"model 'gpt-3\.5-turbo' takes no images"):
        Wire(no_io).client("openai", **KEYS["openai"]).complete(
            model="gpt-3.5-turbo", messages=image_message(ImagePart.from_bytes(PNG))
        )
    with pytest.raises(CapabilityError, match="bytes"):
        Wire(no_io).client("ollama").complete(
            model="llava", messages=image_message(ImagePart(url="https://x.test/a.png"))
        )


def test_embeddings_where_there_are_none() -> None:
    wire = Wire(no_io)
    with pytest.raises(CapabilityError, match="serves no embeddings"):
        wire.client("anthropic", **KEYS["anthropic"]).embed("hello", model="x")
    with pytest.raises(CapabilityError):
        asyncio.run(modelwire.AsyncGroq(api_key="k").embed("hello", model="x"))


def test_missing_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        modelwire.OpenAI()


def test_a_key_is_never_sent_over_plain_http_to_a_remote_host() -> None:
    with pytest.raises(InsecureTransportError, match="allow_insecure_http"):
        modelwire.OpenAI(api_key="sk-secret-value", base_url="http://example.com/v1")
    modelwire.OpenAI(api_key="sk-secret-value", base_url="http://127.0.0.1:9/v1")
    modelwire.OpenAI(
        api_key="sk-secret-value", base_url="http://example.com/v1", allow_insecure_http=True
    )


# --------------------------------------------------------------------------- each check, on its own


def make_spec(**overrides: Any) -> ProviderSpec:
    data: dict[str, Any] = {
        "name": "acme",
        "display_name": "Acme",
        "class_name": "Acme",
        "dialect": "openai_chat",
        "base_url": "https://api.acme.test/v1",
        "auth": {"type": "bearer", "env": "ACME_API_KEY"},
        "endpoints": {"chat": "/chat/completions", "models": "/models"},
        "models": ["acme-1", "acme-2"],
        "options": [
            {"name": "top_k", "type": "int", "min": 1, "max": 100},
            {"name": "mode", "type": "str", "enum": ["fast", "slow"]},
            {"name": "loud", "type": "bool", "min": 5},
        ],
        "limits": {"max_stop_sequences": 2},
    }
    data.update(overrides)
    return ProviderSpec.model_validate(data)


SPEC = make_spec()


def fails(
    kind: type[Exception], match: str, call: Callable[[], object], spec: ProviderSpec = SPEC
) -> Exception:
    """`call()` raises exactly `kind` (not a subclass, not a base) naming the fix and the spec's
    provider."""
    with pytest.raises(kind, match=match) as info:
        call()
    assert type(info.value) is kind, type(info.value)
    assert getattr(info.value, "provider", None) == spec.name
    return info.value


def request(**fields: Any) -> CompletionRequest:
    return CompletionRequest(**{"model": "acme-1", "messages": [Message.user("hi")], **fields})


def check(spec: ProviderSpec = SPEC, *, stream: bool = False, **fields: Any) -> Callable[[], None]:
    return lambda: validation.check_request(spec, request(**fields), stream=stream)


@pytest.mark.parametrize(
    "host",
    ["localhost", "LOCALHOST".lower(), "api.localhost", "127.0.0.1", "127.9.9.9", "::1", "[::1]"],
)
def test_loopback_hosts(host: str) -> None:
    assert validation.is_loopback(host)


@pytest.mark.parametrize(
    "host", ["example.com", "10.0.0.1", "192.168.1.2", "::2", "", "localhost.example"]
)
def test_hosts_that_are_not_loopback(host: str) -> None:
    assert not validation.is_loopback(host)


def test_transport_security() -> None:
    error = fails(
        InsecureTransportError,
        r"refusing to send an API key over plain http to api\.acme\.test: use https, or pass "
        r"allow_insecure_http=True",
        lambda: validation.check_transport_security(SPEC, "http://api.acme.test/v1", True, False),
    )
    assert isinstance(error, RequestValidationError)
    # what is allowed: https, no key, loopback, or the user's say-so
    validation.check_transport_security(SPEC, "https://api.acme.test/v1", True, False)
    validation.check_transport_security(SPEC, "http://api.acme.test/v1", False, False)
    validation.check_transport_security(SPEC, "http://127.0.0.1:8080/v1", True, False)
    validation.check_transport_security(SPEC, "http://[::1]:8080/v1", True, False)
    validation.check_transport_security(SPEC, "http://api.acme.test/v1", True, True)


def test_api_key_required_unless_the_spec_says_otherwise() -> None:
    fails(
        ConfigurationError,
        "Acme needs an API key: pass api_key= or set ACME_API_KEY",
        lambda: validation.check_api_key(SPEC, None),
    )
    fails(ConfigurationError, "needs an API key", lambda: validation.check_api_key(SPEC, ""))
    validation.check_api_key(SPEC, "sk-x")
    optional = make_spec(auth={"type": "bearer", "env": "ACME_API_KEY", "required": False})
    validation.check_api_key(optional, None)
    validation.check_api_key(make_spec(auth={"type": "none"}), None)


def test_unknown_settings_are_named_with_the_known_ones() -> None:
    spec = make_spec(settings=[{"name": "project", "header": "Acme-Project"}])
    fails(
        ConfigurationError,
        r"Acme has no setting 'projekt', 'team' \(its settings: project\)",
        lambda: validation.check_settings(spec, ["team", "projekt", "project"]),
        spec,
    )
    fails(
        ConfigurationError,
        r"\(its settings: none\)",
        lambda: validation.check_settings(SPEC, ["x"]),
    )
    validation.check_settings(spec, ["project"])


def test_max_retries_below_zero() -> None:
    fails(
        ConfigurationError,
        "max_retries must be 0 or more",
        lambda: validation.check_max_retries(SPEC, -1),
    )
    validation.check_max_retries(SPEC, 0)
    validation.check_max_retries(SPEC, None)


# --------------------------------------------------------------------------- request_from


def test_request_from_keywords_alone_with_the_clients_model() -> None:
    prepared = validation.request_from(
        SPEC, "acme-2", None, {"messages": [{"role": "user", "content": "hi"}]}
    )
    assert prepared.model == "acme-2"
    assert prepared.messages == [Message.user("hi")]


def test_request_from_an_object_and_keywords_the_keywords_win() -> None:
    base = CompletionRequest(
        model="acme-1", messages=[Message.user("a")], temperature=0.1, options={"mode": "fast"}
    )
    prepared = validation.request_from(
        SPEC, "acme-2", base, {"temperature": 0.9, "top_p": None, "top_k": 5}
    )
    assert (prepared.model, prepared.temperature, prepared.top_p) == ("acme-1", 0.9, None)
    # a name that is no unified field is a provider option, merged with the object's own
    assert prepared.options == {"mode": "fast", "top_k": 5}
    assert base.temperature == 0.1 and base.options == {"mode": "fast"}  # left as it was


def test_request_from_a_dict() -> None:
    prepared = validation.request_from(
        SPEC,
        None,
        {"model": "acme-1", "messages": [{"role": "user", "content": "hi"}], "mode": "slow"},
        {},
    )
    assert prepared.options == {"mode": "slow"}


def test_request_from_without_messages_says_how_to_pass_them() -> None:
    fails(
        RequestValidationError,
        r"no messages given: pass messages=\[\{'role': 'user', 'content': '...'\}\]",
        lambda: validation.request_from(SPEC, "acme-1", None, {"temperature": 0.5}),
    )


def test_request_from_something_else_names_its_type() -> None:
    fails(
        RequestValidationError,
        "request must be a CompletionRequest or a dict, not list",
        lambda: validation.request_from(SPEC, "acme-1", [Message.user("hi")], {}),  # type: ignore[arg-type]
    )


def test_request_from_invalid_fields_names_the_field() -> None:
    error = fails(
        RequestValidationError,
        r"(?s)invalid request: .*temperature.*valid number",
        lambda: validation.request_from(
            SPEC, "acme-1", None, {"messages": [], "temperature": "warm"}
        ),
    )
    assert error.__cause__ is None  # the pydantic error is folded into the message


# --------------------------------------------------------------------------- check_request


def test_a_good_request_passes() -> None:
    check(
        temperature=2.0, top_p=0.0, max_tokens=1, stop=["a", "b"], seed=1, options={"top_k": 100}
    )()


def test_streaming_where_the_provider_cannot() -> None:
    spec = make_spec(capabilities={"streaming": False})
    fails(
        CapabilityError, r"Acme does not stream: use complete\(\)", check(spec, stream=True), spec
    )
    check(spec, stream=False)()


def test_no_model_gives_an_example_from_the_spec() -> None:
    fails(
        RequestValidationError,
        r"no model given: pass model= \(for example 'acme-1'\)",
        check(model=None),
    )
    spec = make_spec(models=[])
    fails(
        RequestValidationError,
        r"no model given: pass model= to the call",
        check(spec, model=None),
        spec,
    )


@pytest.mark.parametrize(
    ("messages", "message"),
    [
        ([], "messages is empty: give at least one message"),
        (
            [Message.system("a"), Message.system("b")],
            "only system messages were given: add a user message",
        ),
        (
            [Message(role="user", content="x", tool_calls=[ToolCall(id="c", name="f")])],
            r"messages\[0\] has tool_calls but role 'user'",
        ),
        (
            [Message.user("x"), Message(role="tool", content="r")],
            r"messages\[1\] is a tool result without tool_call_id \(the id of the tool call it "
            r"answers\)",
        ),
        (
            [
                Message.user("x"),
                Message.assistant("", tool_calls=[ToolCall(id="c1", name="f")]),
                Message.tool("c2", "r"),
            ],
            r"messages\[2\] answers tool call 'c2', which no earlier assistant message made: "
            "include the assistant turn with that call",
        ),
        (
            [
                Message.user("x"),
                Message.tool("c1", "r"),
                Message.assistant("", tool_calls=[ToolCall(id="c1", name="f")]),
            ],
            r"messages\[1\] answers tool call 'c1', which no earlier",  # the call must come first
        ),
    ],
)
def test_messages(messages: list[Message], message: str) -> None:
    fails(RequestValidationError, message, check(messages=messages))


IMAGE_BY_URL = Message.user([TextPart(text="what?"), ImagePart(url="https://x.test/a.png")])
IMAGE_BY_BYTES = Message.user([ImagePart.from_bytes(PNG)])
IMAGE_BY_DATA_URL = Message.user([ImagePart(url="data:image/png;base64,AAAA")])


def test_images_to_a_provider_without_vision() -> None:
    spec = make_spec(capabilities={"vision": False})
    fails(
        CapabilityError,
        r"messages\[0\] has an image, and Acme takes no images",
        check(spec, messages=[IMAGE_BY_BYTES]),
        spec,
    )


def test_images_to_a_model_without_vision() -> None:
    spec = make_spec(capabilities={"no_vision_models": ["acme-text"]})
    fails(
        CapabilityError,
        r"messages\[0\] has an image, and model 'acme-text-2' takes no images",
        check(spec, model="acme-text-2", messages=[IMAGE_BY_BYTES]),
        spec,
    )
    check(spec, model="acme-1", messages=[IMAGE_BY_BYTES])()


def test_images_by_url_to_a_provider_that_cannot_fetch_them() -> None:
    spec = make_spec(capabilities={"image_urls": False})
    fails(
        CapabilityError,
        r"messages\[0\] gives an image by URL, and Acme cannot fetch images: download it and pass "
        r"its bytes, e.g. ImagePart.from_bytes\(data, media_type='image/png'\)",
        check(spec, messages=[IMAGE_BY_URL]),
        spec,
    )
    # bytes, and data URLs (bytes already), are fine
    check(spec, messages=[IMAGE_BY_BYTES])()
    check(spec, messages=[IMAGE_BY_DATA_URL])()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"temperature": 2.5}, r"temperature=2.5 is out of range for Acme: use 0.0 to 2.0"),
        ({"temperature": -0.1}, r"temperature=-0.1 is out of range"),
        ({"top_p": 1.01}, r"top_p=1.01 is out of range for Acme: use 0.0 to 1.0"),
        ({"max_tokens": 0}, "max_tokens=0 must be at least 1"),
        ({"stop": ["a", "b", "c"]}, "3 stop sequences given; Acme takes at most 2"),
        ({"max_retries": -1}, "max_retries must be 0 or more"),
        ({"tool_choice": "auto"}, "tool_choice is set but no tools were given"),
        (
            {"tools": [Tool(name="a"), Tool(name="b")], "tool_choice": "c"},
            r"tool_choice names 'c', which is not among the tools given \(a, b\)",
        ),
        ({"tool_choice": NamedToolChoice(name="c")}, r"not among the tools given \(none\)"),
        (
            {"options": {"top_q": 1}},
            r"Acme has no option 'top_q' \(its options: top_k, mode, loud\); use extra_body= to "
            "send a raw field",
        ),
        (
            {"options": {"mode": "medium"}},
            r"option mode='medium' must be one of \['fast', 'slow'\]",
        ),
        ({"options": {"top_k": 0}}, "option top_k=0 is below its minimum 1"),
        ({"options": {"top_k": 101}}, "option top_k=101 is above its maximum 100"),
    ],
)
def test_request_fields(fields: dict[str, Any], message: str) -> None:
    fails(RequestValidationError, message, check(**fields))


def test_a_bool_option_is_not_compared_with_bounds() -> None:
    check(options={"loud": True})()  # min: 5 applies to numbers only, and True is no number here


def test_tool_choice_none_without_tools_is_fine() -> None:
    check(tool_choice="none")()


def test_max_tokens_required_unless_the_spec_has_a_default() -> None:
    spec = make_spec(limits={"max_tokens_required": True})
    fails(RequestValidationError, "Acme needs max_tokens: pass max_tokens=", check(spec), spec)
    check(spec, max_tokens=10)()
    check(make_spec(limits={"max_tokens_required": True, "default_max_tokens": 512}))()


def test_seed_where_there_is_none() -> None:
    spec = make_spec(capabilities={"seed": False})
    fails(RequestValidationError, "Acme has no seed: leave seed= unset", check(spec, seed=1), spec)


def test_tools_where_there_are_none() -> None:
    spec = make_spec(capabilities={"tools": False})
    fails(CapabilityError, "Acme does not support tools", check(spec, tools=[Tool(name="a")]), spec)


@pytest.mark.parametrize("choice", ["required", "a"])
def test_forced_tool_choice_where_it_cannot_be_forced(choice: str) -> None:
    spec = make_spec(capabilities={"forced_tool_choice": False})
    fails(
        CapabilityError,
        r"Acme cannot be made to call a tool \(tool_choice=.*\): use tool_choice='auto' and "
        r"check response.tool_calls",
        check(spec, tools=[Tool(name="a")], tool_choice=choice),
        spec,
    )
    check(spec, tools=[Tool(name="a")], tool_choice="auto")()


def test_structured_output_where_there_is_none() -> None:
    spec = make_spec(capabilities={"structured_output": "none"})
    fails(
        CapabilityError,
        "Acme cannot constrain output to JSON",
        check(spec, response_format="json"),
        spec,
    )
    check(response_format="json")()


# --------------------------------------------------------------------------- models and embeddings


def test_model_listing_needs_its_endpoint() -> None:
    assert validation.check_models(SPEC) == "/models"
    spec = make_spec(endpoints={"chat": "/chat"})
    fails(
        CapabilityError,
        "Acme has no model-listing endpoint",
        lambda: validation.check_models(spec),
        spec,
    )


def test_embedding_inputs() -> None:
    spec = make_spec(
        capabilities={"embeddings": True}, endpoints={"chat": "/chat", "embeddings": "/embeddings"}
    )
    assert validation.embedding_inputs(spec, "one", "e-1") == (["one"], "e-1")
    assert validation.embedding_inputs(spec, ("a", "b"), "e-1") == (["a", "b"], "e-1")
    fails(
        RequestValidationError,
        r"embed\(\) needs at least one input",
        lambda: validation.embedding_inputs(spec, [], "e-1"),
        spec,
    )
    fails(
        RequestValidationError,
        "no model given: pass model=",
        lambda: validation.embedding_inputs(spec, "a", None),
        spec,
    )
    fails(
        CapabilityError,
        "Acme serves no embeddings through this API",
        lambda: validation.embedding_inputs(SPEC, "a", "e-1"),
    )


# --------------------------------------------------------------------------- client settings


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"timeout": "fast"}, r"timeout='fast' must be a number of seconds above 0"),
        ({"timeout": -1}, r"timeout=-1 must be a number"),
        ({"timeout": float("nan")}, r"must be a number of seconds above 0"),
        ({"timeout": modelwire.Timeout(read="x")}, r"Timeout\(read=...\) must be"),  # type: ignore[arg-type]
        ({"max_retries": "3"}, r"max_retries='3' must be a number of retries"),
        ({"default_headers": {"X-Id": 1}}, r"the client's headers: header 'X-Id' is int, not a"),
        ({"default_headers": ["X-Id"]}, r"default_headers=.* must be a mapping"),
        ({"allow_insecure_http": "yes"}, r"allow_insecure_http='yes' must be True or False"),
        ({"max_line_bytes": 0}, r"max_line_bytes must be 1 or more"),
        ({"hooks": print}, r"hooks=.* must be a modelwire.Hooks"),
    ],
)
def test_wrongly_typed_settings_fail_at_construction(
    settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(modelwire.ConfigurationError, match=message):
        modelwire.Ollama(**settings)


def test_a_per_call_timeout_is_checked_before_sending() -> None:
    fields = {"messages": [{"role": "user", "content": "hi"}], "timeout": "fast"}
    with pytest.raises(RequestValidationError, match=r"timeout: Input should be a valid number"):
        validation.request_from(SPEC, "acme-1", None, fields)
    with pytest.raises(RequestValidationError, match=r"timeout=0.0 must be a number"):
        check(timeout=0)()


@pytest.mark.parametrize("role", ["user", "system"])
def test_a_message_without_content_is_refused(role: str) -> None:
    messages = [{"role": "user", "content": "hi"}, {"role": role, "content": "  "}]
    with pytest.raises(RequestValidationError, match=rf"messages\[1\] \({role}\) has no content"):
        check(messages=messages)()


def test_a_bad_field_is_reported_in_a_line_without_pydantic_links() -> None:
    client = modelwire.Ollama()
    with pytest.raises(RequestValidationError) as info:
        client.complete(messages=[{"role": "user", "content": "x"}], max_tokens="many")
    text = str(info.value)
    assert "max_tokens: Input should be a valid integer" in text and "'many'" in text
    assert "errors.pydantic.dev" not in text and "\n" not in text


# --------------------------------------------------------------------------- what can be sent


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"temperature": float("nan")}, "body['temperature']"),
        ({"extra": [1.0, float("inf")]}, "body['extra'][1]"),
        ({"messages": [{"content": "a\ud800b"}]}, "body['messages'][0]['content']"),
        ({"schema": {"enum": {1, 2}}}, "body['schema']['enum']"),
        ({"schema": {"default": b"x"}}, "body['schema']['default']"),
        ({"schema": {("a", "b"): 1}}, "body['schema']"),
    ],
)
def test_a_body_json_cannot_carry_is_refused_naming_the_field(body: Any, where: str) -> None:
    with pytest.raises(RequestValidationError) as caught:
        validation.encode_body(SPEC, body)
    assert f"the request's {where} cannot be sent as JSON" in str(caught.value)


def test_a_body_with_tuples_is_sent_as_json_arrays() -> None:
    assert validation.encode_body(SPEC, {"enum": ("a", "é")}) == '{"enum":["a","é"]}'.encode()


@pytest.mark.parametrize(
    ("headers", "shown"),
    [({"X-A": "é"}, "'é'"), ({"X-Api-Key": "sé"}, "its value"), ({"X-A": "a\r\nB: c"}, "")],
)
def test_a_header_that_cannot_be_sent_is_refused(headers: dict[str, str], shown: str) -> None:
    with pytest.raises(RequestValidationError) as caught:
        validation.check_headers(
            SPEC, headers, "extra_headers", lambda n: "key" in n.lower(), RequestValidationError
        )
    assert "cannot be sent" in str(caught.value) and shown in str(caught.value)
    assert "sé" not in str(caught.value)


def test_a_bad_header_name_is_refused() -> None:
    with pytest.raises(modelwire.ConfigurationError, match="not a valid HTTP header name"):
        validation.check_headers(SPEC, {"X A": "v"}, "default_headers", lambda _: False)


@pytest.mark.parametrize(
    ("environ", "proxy"),
    [
        ({}, None),
        ({"HTTP_PROXY": "http://proxy.corp:3128"}, "http://proxy.corp:3128"),
        ({"http_proxy": "proxy.corp:3128", "HTTP_PROXY": "other:1"}, "proxy.corp:3128"),
        ({"ALL_PROXY": "http://proxy.corp:3128"}, "http://proxy.corp:3128"),
        ({"HTTP_PROXY": "http://p:1", "NO_PROXY": "*"}, None),
        ({"HTTP_PROXY": "http://p:1", "NO_PROXY": "other, .example.com"}, None),
        ({"HTTP_PROXY": "http://p:1", "NO_PROXY": "10.0.0.0/8"}, "http://p:1"),
        ({"HTTP_PROXY": "http://p:1", "NO_PROXY": "example.org"}, "http://p:1"),
    ],
)
def test_proxy_for_reads_the_environment_as_httpx_does(
    environ: dict[str, str], proxy: str | None
) -> None:
    assert validation.proxy_for("api.example.com", environ) == proxy


def test_a_key_over_plain_http_through_a_remote_proxy_is_refused() -> None:
    environ = {"HTTP_PROXY": "http://user:pw@proxy.corp:3128"}
    with pytest.raises(InsecureTransportError, match=r"through the proxy at proxy\.corp") as caught:
        validation.check_proxy_security(SPEC, "http://localhost:8080", True, False, environ)
    assert "pw" not in str(caught.value)
    # https is only tunnelled; a proxy on loopback, no key or an explicit opt-in pass
    validation.check_proxy_security(SPEC, "https://api.example.com", True, False, environ)
    loopback = {"HTTP_PROXY": "http://127.0.0.1:3128"}
    validation.check_proxy_security(SPEC, "http://localhost:8080", True, False, loopback)
    validation.check_proxy_security(SPEC, "http://localhost:8080", False, False, environ)
    validation.check_proxy_security(SPEC, "http://localhost:8080", True, True, environ)


def test_a_client_refuses_a_plain_http_key_through_a_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.corp:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with pytest.raises(InsecureTransportError):
        modelwire.LMStudio(api_key="sk-x", base_url="http://localhost:1234/v1")
    monkeypatch.setenv("NO_PROXY", "localhost")
    modelwire.LMStudio(api_key="sk-x", base_url="http://localhost:1234/v1").close()


def test_basic_auth_beside_a_key_in_authorization_is_refused() -> None:
    with pytest.raises(modelwire.ConfigurationError, match="HTTP Basic auth"):
        modelwire.OpenAI(api_key="sk-x", base_url="https://u:pw@gateway.example/v1")
    with pytest.raises(modelwire.ConfigurationError, match="HTTP Basic auth"):
        modelwire.Ollama(base_url="https://u:pw@o.example", default_headers={"authorization": "x"})
    # a key in its own header leaves Authorization free
    client = modelwire.Anthropic(api_key="sk-x", base_url="https://u:pw@gateway.example")
    assert client.base_url == "https://gateway.example" and "pw" not in repr(client)
    client.close()


# --------------------------------------------------------------------------- cross-field rules


def test_parallel_tool_calls_without_tools_is_refused() -> None:
    for value in (True, False):
        with pytest.raises(RequestValidationError, match="parallel_tool_calls is set but no tools"):
            check(parallel_tool_calls=value)()
    check(parallel_tool_calls=False, tools=[{"name": "find"}])()


class Loose(BaseModel):
    counts: dict[str, int]


def test_a_schema_that_cannot_be_strict_is_refused_before_sending() -> None:
    openai = modelwire.providers.openai.SPEC
    with pytest.raises(RequestValidationError, match="counts is an object with free keys"):
        check(openai, model="gpt-4o-mini", response_format=Loose)()
    tool = {"name": "count", "parameters": Loose.model_json_schema(), "strict": True}
    with pytest.raises(RequestValidationError, match="tool 'count'"):
        check(openai, model="gpt-4o-mini", tools=[tool])()
    # not strict: sent as it is
    check(openai, model="gpt-4o-mini", tools=[{**tool, "strict": False}])()
    check(
        openai,
        model="gpt-4o-mini",
        response_format={
            "json_schema": {"type": "object", "additionalProperties": True},
            "strict": False,
        },
    )()
    # JSON mode has no schema to make strict (llama.cpp)
    check(modelwire.providers.llamacpp.SPEC, model="local", response_format=Loose)()


ANTHROPIC = {"model": "claude-sonnet-4-5", "max_tokens": 16000}
THINKING = {"thinking": {"type": "enabled", "budget_tokens": 8000}}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"tools": [{"name": "f"}], "tool_choice": "required"}, "forces a tool call"),
        ({"tools": [{"name": "f"}], "tool_choice": "f"}, "forces a tool call"),
        ({"response_format": "json"}, "through a forced tool call"),
        ({"response_format": Weather, "model": "claude-3-5-haiku-latest"}, "no native structured"),
        ({"max_tokens": 8000}, "budget_tokens=8000 must be below max_tokens=8000"),
        ({"options": {"thinking": {"type": "enabled", "budget_tokens": 512}}}, "at least 1024"),
        ({"temperature": 0.5}, "temperature cannot be changed"),
        ({"top_p": 0.5}, "top_p must be between 0.95 and 1"),
        ({"options": {**THINKING, "top_k": 5}}, "top_k cannot be set"),
    ],
)
def test_anthropic_thinking_rules(fields: dict[str, Any], message: str) -> None:
    spec = modelwire.providers.anthropic.SPEC
    options = fields.pop("options", THINKING)
    with pytest.raises(RequestValidationError, match=message):
        check(spec, **{**ANTHROPIC, "options": options, **fields})()


def test_anthropic_thinking_with_what_it_allows() -> None:
    spec = modelwire.providers.anthropic.SPEC
    check(spec, **ANTHROPIC, options=THINKING, response_format=Weather)()
    check(spec, **ANTHROPIC, options=THINKING, tools=[{"name": "f"}], tool_choice="auto")()
    check(spec, **ANTHROPIC, options=THINKING, temperature=1, top_p=0.95)()
    # without thinking, a forced tool and any temperature are fine
    check(spec, **ANTHROPIC, tools=[{"name": "f"}], tool_choice="required", temperature=0.2)()
    # with no max_tokens given, the dialect raises it above the budget: nothing to refuse
    check(spec, model="claude-sonnet-4-5", options=THINKING)()


# --------------------------------------------------------------------------- reasoning


def _openai_request(provider: str, **fields: Any) -> None:
    fields.setdefault("messages", [{"role": "user", "content": "Hi"}])
    Wire(no_io).client(provider, api_key="sk-x").complete(**fields)


@pytest.mark.parametrize(
    ("provider", "fields", "error", "message"),
    [
        # the unified field and the provider's own option for the same thing
        (
            "openai",
            {"reasoning": "low", "reasoning_effort": "high"},
            RequestValidationError,
            "reasoning= and the option reasoning_effort= both",
        ),
        (
            "anthropic",
            {
                "reasoning": Reasoning(budget_tokens=2048),
                "thinking": {"type": "enabled", "budget_tokens": 2048},
            },
            RequestValidationError,
            "option thinking=",
        ),
        ("deepseek", {"reasoning": "high"}, CapabilityError, "DeepSeek takes no reasoning"),
        ("xai", {"reasoning": "medium"}, CapabilityError, "use one of low, high"),
        (
            "openai",
            {"reasoning": Reasoning(budget_tokens=2048)},
            CapabilityError,
            "no reasoning budget_tokens",
        ),
        (
            "anthropic",
            {"reasoning": Reasoning(budget_tokens=2048, summary="auto")},
            CapabilityError,
            "no reasoning summary",
        ),
        # an effort (adaptive thinking) is for the models that take one; a budget is not
        (
            "anthropic",
            {"model": "claude-sonnet-4-5", "reasoning": "high"},
            CapabilityError,
            r"'claude-sonnet-4-5' takes no adaptive thinking or a reasoning effort: .*"
            r"claude-opus-4-6.* \(give Reasoning\(budget_tokens=N\) instead\)",
        ),
        (
            "anthropic",
            {"model": "claude-haiku-4-5", "reasoning": Reasoning()},
            CapabilityError,
            "takes no adaptive thinking",
        ),
        ("openai", {"reasoning": Reasoning()}, RequestValidationError, "needs a reasoning effort"),
        (
            "openrouter",
            {"reasoning": Reasoning(effort="low", budget_tokens=2000)},
            RequestValidationError,
            "effort or budget_tokens, not both",
        ),
        ("openai", {"reasoning": "extreme"}, RequestValidationError, "reasoning"),
        (
            "anthropic",
            {"reasoning": Reasoning(budget_tokens=500)},
            RequestValidationError,
            "at least 1024",
        ),
        (
            "anthropic",
            {"reasoning": Reasoning(budget_tokens=2048), "temperature": 0.5},
            RequestValidationError,
            "temperature cannot be changed with thinking",
        ),
        # reasoning models refuse sampling settings, before anything is sent
        (
            "openai",
            {"model": "o3", "temperature": 0.2},
            CapabilityError,
            "'o3' is a reasoning model and takes no temperature",
        ),
        (
            "openai_responses",
            {"model": "gpt-5-mini", "top_p": 0.5},
            CapabilityError,
            "takes no top_p",
        ),
        (
            "openai",
            {"model": "o3-mini", "messages": image_message(ImagePart.from_bytes(PNG))},
            CapabilityError,
            "model 'o3-mini' takes no images",
        ),
    ],
)
def test_reasoning_is_checked_before_any_io(
    provider: str, fields: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        _openai_request(provider, **fields)


def test_anthropic_thinking_off_and_a_budget_suit_every_model() -> None:
    wire = Wire(json_answer(ANTHROPIC_TEXT))
    client = wire.client("anthropic", api_key="sk-x")
    for reasoning in ("none", Reasoning(budget_tokens=2048)):
        client.complete(
            model="claude-haiku-4-5",
            messages=[{"role": "user", "content": "Hi"}],
            reasoning=reasoning,
        )
    assert wire.body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    client.complete(
        model="claude-sonnet-4-6", messages=[{"role": "user", "content": "Hi"}], reasoning="low"
    )
    assert wire.body["output_config"] == {"effort": "low"}


def test_sampling_is_taken_where_reasoning_is_turned_off() -> None:
    wire = Wire(json_answer(OPENAI_TEXT))
    wire.client("openai", api_key="sk-x").complete(
        model="gpt-5.1",
        messages=[{"role": "user", "content": "Hi"}],
        temperature=0.3,
        reasoning="none",
    )
    assert wire.body["temperature"] == 0.3 and wire.body["reasoning_effort"] == "none"
    wire.client("openai", api_key="sk-x").complete(
        model="gpt-4o", messages=[{"role": "user", "content": "Hi"}], temperature=0.3
    )
    assert wire.body["temperature"] == 0.3 and "reasoning_effort" not in wire.body
