"""A client's configuration and each call planned from it (`modelwire._core.calls`)."""

from __future__ import annotations

import json
from typing import Any

import modelwire
import pytest
from modelwire._core.calls import USER_AGENT, ClientConfig, HTTPCall
from modelwire._framing import DEFAULT_MAX_LINE_BYTES, NDJSONDecoder, SSEDecoder
from modelwire.dialects import get_dialect
from modelwire.errors import (
    CapabilityError,
    ConfigurationError,
    LineTooLongError,
    RequestValidationError,
    UnexpectedResponseError,
)
from modelwire.hooks import NO_HOOKS, Hooks
from modelwire.providers import anthropic, ollama, openai, openrouter
from modelwire.retries import RetryPolicy
from modelwire.spec import ProviderSpec
from modelwire.types import CompletionResponse, Timeout
from pydantic import BaseModel


def test_base_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "gpu-box:11434")
    assert modelwire.Ollama().base_url == "http://gpu-box:11434"


# --------------------------------------------------------------------------- the configuration

ENV_VARS = (
    "OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID",
    "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "OLLAMA_HOST", "OPENROUTER_API_KEY",
    "OPENROUTER_BASE_URL", "OPENROUTER_APP_URL", "OPENROUTER_APP_TITLE",
)  # fmt: skip


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


def config(spec: ProviderSpec = openai.SPEC, **settings: Any) -> ClientConfig:
    settings.setdefault("api_key", "sk-test")
    return ClientConfig.create(spec, **settings)


def test_defaults_from_the_spec() -> None:
    made = config()
    assert made.spec is openai.SPEC and made.dialect is get_dialect("openai_chat")
    assert (made.base_url, made.model, made.api_key) == (
        "https://api.openai.com/v1",
        "gpt-4o-mini",
        "sk-test",
    )
    assert made.headers == {"User-Agent": USER_AGENT, "Accept": "application/json"}
    assert f"modelwire/{modelwire.__version__}" == USER_AGENT
    assert made.timeout == Timeout()
    assert made.retry == RetryPolicy()
    assert made.max_line_bytes == DEFAULT_MAX_LINE_BYTES
    assert made.hooks is NO_HOOKS


def test_the_key_from_the_argument_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    assert ClientConfig.create(openai.SPEC).api_key == "sk-env"
    assert ClientConfig.create(openai.SPEC, api_key="sk-arg").api_key == "sk-arg"


def test_a_provider_without_auth_keeps_no_key() -> None:
    assert ClientConfig.create(ollama.SPEC, api_key="sk-ignored").api_key is None


def test_base_url_from_the_argument_then_the_environment_then_the_spec(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "https://proxy.test/v1/")
    assert config().base_url == "https://proxy.test/v1"  # the trailing slash goes
    assert config(base_url="https://other.test/v1").base_url == "https://other.test/v1"
    assert config(ollama.SPEC, base_url="localhost:11434").base_url == "http://localhost:11434"


def test_headers_from_the_spec_the_settings_and_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    assert config(anthropic.SPEC).headers["anthropic-version"] == "2023-06-01"
    monkeypatch.setenv("OPENROUTER_APP_TITLE", "From Env")
    made = config(
        openrouter.SPEC,
        app_url="https://app.test",
        default_headers={"X-Extra": "1", "Accept": "application/vnd.test"},
    )
    assert made.headers["HTTP-Referer"] == "https://app.test"
    assert made.headers["X-Title"] == "From Env"
    assert made.headers["X-Extra"] == "1"
    assert made.headers["Accept"] == "application/vnd.test"  # the caller's word is last
    # settings may come as a mapping too, and an argument beats its variable
    made = config(openrouter.SPEC, settings={"app_title": "Mine"})
    assert made.headers["X-Title"] == "Mine" and "HTTP-Referer" not in made.headers


def test_an_unknown_setting_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="OpenAI has no setting 'organisation'"):
        config(organisation="acme")


def test_timeouts_retries_limits_and_hooks() -> None:
    hooks = Hooks(on_chunk=print)
    made = config(timeout=5, max_retries=0, max_line_bytes=1024, hooks=hooks)
    assert made.timeout == Timeout(read=5, stream_idle=5, total=5)
    assert made.retry == RetryPolicy(max_retries=0)
    assert (made.max_line_bytes, made.hooks) == (1024, hooks)
    policy = RetryPolicy(max_retries=7, initial_delay=0.1)
    assert config(max_retries=policy).retry is policy
    with pytest.raises(ConfigurationError, match="max_retries must be 0 or more"):
        config(max_retries=-1)


def test_describe_shows_no_key() -> None:
    described = config(api_key="sk-very-secret-1234").describe()
    assert "sk-very-secret" not in described and "1234" not in described
    assert described == (
        "base_url='https://api.openai.com/v1', model='gpt-4o-mini', api_key='<redacted>'"
    )
    assert "api_key=None" in config(ollama.SPEC).describe()


# --------------------------------------------------------------------------- planning calls


def chat(made: ClientConfig, *, stream: bool = False, **fields: Any) -> HTTPCall:
    fields.setdefault("messages", [{"role": "user", "content": "héllo"}])
    return made.chat_call(made.request(None, fields), stream=stream)


def test_a_chat_call() -> None:
    call = chat(config(), temperature=0.5)
    assert (call.method, call.url, call.stream, call.model) == (
        "POST",
        "https://api.openai.com/v1/chat/completions",
        False,
        "gpt-4o-mini",
    )
    assert call.headers["Authorization"] == "Bearer sk-test"
    assert call.headers["Content-Type"] == "application/json"
    assert call.headers["Accept"] == "application/json"
    # compact JSON, UTF-8 as it is
    assert (
        call.content
        == (
            '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"héllo"}],'
            '"temperature":0.5}'
        ).encode()
    )
    assert (call.timeout, call.retry) == (Timeout(), RetryPolicy())


def test_a_stream_asks_for_its_stream_format() -> None:
    assert chat(config(), stream=True).headers["Accept"] == "text/event-stream"
    assert json.loads(chat(config(), stream=True).content or b"")["stream"] is True
    call = chat(config(ollama.SPEC), stream=True, model="llama3.2")
    assert call.headers["Accept"] == "application/x-ndjson"
    assert call.url == "http://localhost:11434/api/chat"
    assert "Authorization" not in call.headers


def test_per_call_headers_timeout_and_retries() -> None:
    made = config(
        timeout=Timeout(connect=3.0), max_retries=RetryPolicy(max_retries=4, initial_delay=2)
    )
    call = chat(made, extra_headers={"X-Trace": "t1", "Accept": "*/*"}, timeout=9, max_retries=1)
    assert (call.headers["X-Trace"], call.headers["Accept"]) == ("t1", "*/*")
    # a number sets read, stream-idle and total; connect stays the client's
    assert call.timeout == Timeout(connect=3.0, read=9, stream_idle=9, total=9)
    # a per-call retry count keeps the client's delays
    assert call.retry == RetryPolicy(max_retries=1, initial_delay=2)
    assert made.retry.max_retries == 4


def test_a_bad_request_is_never_planned() -> None:
    with pytest.raises(RequestValidationError, match="temperature=3"):
        chat(config(), temperature=3)


def test_a_models_call_has_no_body() -> None:
    call = config().models_call()
    assert (call.method, call.url, call.content) == (
        "GET",
        "https://api.openai.com/v1/models",
        None,
    )
    assert "Content-Type" not in call.headers
    assert call.headers["Authorization"] == "Bearer sk-test"


def test_an_embeddings_call() -> None:
    call = config().embeddings_call(["a", "b"], "text-embedding-3-small", {"dimensions": 8})
    assert (call.method, call.url, call.model) == (
        "POST",
        "https://api.openai.com/v1/embeddings",
        "text-embedding-3-small",
    )
    assert json.loads(call.content or b"") == {
        "model": "text-embedding-3-small",
        "input": ["a", "b"],
        "dimensions": 8,
    }
    # no model given: the client's
    assert config().embeddings_call("a", None, {}).model == "gpt-4o-mini"


def test_the_call_keeps_the_key_out_of_its_repr() -> None:
    assert "sk-test" not in repr(chat(config()))


# --------------------------------------------------------------------------- reading answers


def test_new_decoders_follow_the_stream_format_and_the_line_limit() -> None:
    decoder = config(max_line_bytes=10).new_decoder()
    assert isinstance(decoder, SSEDecoder)
    with pytest.raises(LineTooLongError, match="10 bytes"):
        decoder.feed(b"data: " + b"x" * 20)
    assert isinstance(config(ollama.SPEC).new_decoder(), NDJSONDecoder)


def test_parse_completion_and_its_structured_output() -> None:
    class City(BaseModel):
        name: str

    made = config()
    body = {"choices": [{"message": {"content": '{"name": "Oslo"}'}, "finish_reason": "stop"}]}
    plain = made.request(None, {"messages": [{"role": "user", "content": "x"}]})
    assert made.parse_completion(plain, json.dumps(body).encode()).parsed is None
    structured = made.request(
        None, {"messages": [{"role": "user", "content": "x"}], "response_format": City}
    )
    assert made.parse_completion(structured, json.dumps(body).encode()).parsed == City(name="Oslo")


def test_the_finisher_without_a_response_format_changes_nothing() -> None:
    made = config()
    response = CompletionResponse(content="{}")
    finish = made.finisher(made.request(None, {"messages": [{"role": "user", "content": "x"}]}))
    assert finish(response) is response and response.parsed is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<html>502</html>", r"response is not JSON .*b'<html>502</html>'"),
        (b'{"choices": "none"}', r"response does not have the expected shape"),
        # a tool call must name its function: no bare KeyError from the parser
        (
            b'{"id":"c","model":"m","choices":[{"index":0,"message":{"role":"assistant",'
            b'"tool_calls":[{"id":"t","type":"function","function":{"arguments":"{}"}}]},'
            b'"finish_reason":"tool_calls"}]}',
            r"tool_calls.0.function.name: Field required",
        ),
    ],
)
def test_a_body_that_is_not_the_documented_one(content: bytes, message: str) -> None:
    made = config()
    request = made.request(None, {"messages": [{"role": "user", "content": "x"}]})
    with pytest.raises(UnexpectedResponseError, match=message) as info:
        made.parse_completion(request, content)
    assert info.value.provider == "openai"


def test_parse_models_and_embeddings() -> None:
    made = config()
    models = made.parse_models(b'{"data": [{"id": "gpt-4o", "owned_by": "openai"}]}')
    assert [(m.id, m.owned_by) for m in models] == [("gpt-4o", "openai")]
    with pytest.raises(UnexpectedResponseError, match="models response"):
        made.parse_models(b'{"models": []}')
    vectors = made.parse_embeddings(b'{"data": [{"index": 0, "embedding": [0.5]}]}')
    assert vectors.embeddings == [[0.5]] and vectors.usage is None


# ----------------------------------------------------------------------------- model pages


def _page(ids: list[str], *, more: bool, last: str | None = None) -> bytes:
    data = [{"id": i, "type": "model"} for i in ids]
    return json.dumps(
        {"data": data, "has_more": more, "first_id": ids[0] if ids else None, "last_id": last}
    ).encode()


def test_an_anthropic_listing_asks_for_big_pages_then_follows_the_last_id() -> None:
    made = ClientConfig.create(anthropic.SPEC, api_key="sk-ant-test")
    pages = made.model_pages()
    first = pages.next_call()
    assert first is not None and first.url == "https://api.anthropic.com/v1/models?limit=1000"
    pages.add(_page(["a", "b"], more=True, last="b"))
    second = pages.next_call()
    assert second is not None
    assert second.url == "https://api.anthropic.com/v1/models?limit=1000&after_id=b"
    assert second.headers["x-api-key"] == "sk-ant-test"
    pages.add(_page(["c"], more=False, last="c"))
    assert pages.next_call() is None
    assert [m.id for m in pages.models] == ["a", "b", "c"]


def test_a_provider_that_does_not_page_is_read_once() -> None:
    pages = config().model_pages()
    call = pages.next_call()
    assert call is not None and call.url == "https://api.openai.com/v1/models"
    # a has_more and a last_id mean nothing without pagination in the spec
    pages.add(_page(["gpt-4o"], more=True, last="gpt-4o"))
    assert pages.next_call() is None and [m.id for m in pages.models] == ["gpt-4o"]


def _paging(**listing: Any) -> ClientConfig:
    spec = openai.SPEC.model_copy(
        update={"models_list": openai.SPEC.models_list.model_copy(update=listing)}
    )
    return ClientConfig.create(spec, api_key="sk-test")


def test_a_token_cursor_without_has_more_pages_until_it_is_absent() -> None:
    pages = _paging(
        pagination="cursor", cursor_param="pageToken", next_cursor="nextPageToken"
    ).model_pages()
    pages.add(b'{"data": [{"id": "m1"}], "nextPageToken": "t 2"}')
    call = pages.next_call()
    assert call is not None and call.url.endswith("/models?pageToken=t+2")
    pages.add(b'{"data": [{"id": "m2"}], "nextPageToken": ""}')
    assert pages.next_call() is None
    assert [m.id for m in pages.models] == ["m1", "m2"]


def test_a_cursor_that_comes_back_is_an_error_not_a_loop() -> None:
    pages = _paging(
        pagination="cursor", cursor_param="after", next_cursor="last_id", has_more="has_more"
    ).model_pages()
    pages.add(_page(["a"], more=True, last="a"))
    with pytest.raises(UnexpectedResponseError, match="'a' twice"):
        pages.add(_page(["a"], more=True, last="a"))


def test_a_cursor_of_the_wrong_type_is_a_typed_error() -> None:
    pages = _paging(pagination="cursor", cursor_param="after", next_cursor="last_id").model_pages()
    with pytest.raises(UnexpectedResponseError, match="'last_id' is dict"):
        pages.add(b'{"data": [], "last_id": {}}')


def test_a_bare_array_listing() -> None:
    made = _paging(array=True)
    assert [m.id for m in made.parse_models(b'[{"id": "m1", "type": "chat"}]')] == ["m1"]
    with pytest.raises(UnexpectedResponseError, match="not the JSON array"):
        made.parse_models(b'{"data": []}')


def test_listing_models_without_an_endpoint_fails_before_any_call() -> None:
    spec = openai.SPEC.model_copy(
        update={"endpoints": openai.SPEC.endpoints.model_copy(update={"models": None})}
    )
    with pytest.raises(CapabilityError, match="no model-listing endpoint"):
        ClientConfig.create(spec, api_key="k").model_pages()


# --------------------------------------------------------------------------- Azure OpenAI


def azure_call(name: str, **settings: Any) -> HTTPCall:
    from modelwire.providers import azure_openai, azure_openai_v1

    spec = {"azure_openai": azure_openai.SPEC, "azure_openai_v1": azure_openai_v1.SPEC}[name]
    config = ClientConfig.create(spec, **settings)
    request = config.request(
        None, {"model": "my-gpt4o", "messages": [{"role": "user", "content": "Hi"}]}
    )
    return config.chat_call(request, stream=False)


def test_azure_deployment_urls_carry_the_api_version() -> None:
    call = azure_call("azure_openai", api_key="az-key", base_url="https://res.openai.azure.com/")
    assert call.url == (
        "https://res.openai.azure.com/openai/deployments/my-gpt4o/chat/completions"
        "?api-version=2024-10-21"
    )
    assert call.headers["api-key"] == "az-key" and "Authorization" not in call.headers
    newer = azure_call(
        "azure_openai",
        api_key="k",
        base_url="https://res.openai.azure.com",
        api_version="2025-04-01-preview",
    )
    assert newer.url.endswith("/chat/completions?api-version=2025-04-01-preview")


def test_azure_v1_has_no_api_version_and_the_model_in_the_body() -> None:
    call = azure_call(
        "azure_openai_v1", api_key="k", base_url="https://res.openai.azure.com/openai/v1"
    )
    assert call.url == "https://res.openai.azure.com/openai/v1/chat/completions"
    assert json.loads(call.content or b"")["model"] == "my-gpt4o"


def test_azure_entra_id_tokens_go_as_bearer() -> None:
    call = azure_call(
        "azure_openai",
        base_url="https://res.openai.azure.com",
        auth=modelwire.Auth.token(lambda: "entra-token"),
    )
    # the token is fetched per attempt by the driver, not planned into the call
    assert "api-key" not in call.headers and "Authorization" not in call.headers
    assert call.credential is not None
    url, headers = call.authorize(call.url, call.headers, "entra-token")
    assert headers["Authorization"] == "Bearer entra-token" and url == call.url
    assert "entra-token" in call.secrets  # redacted from whatever comes back


def test_azure_needs_the_resource_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_OPENAI_ENDPOINT", raising=False)
    with pytest.raises(
        ConfigurationError, match=r"needs your own endpoint .* set AZURE_OPENAI_ENDPOINT"
    ):
        azure_call("azure_openai", api_key="k")
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://env.openai.azure.com")
    assert azure_call("azure_openai", api_key="k").url.startswith(
        "https://env.openai.azure.com/openai/"
    )


def test_azure_content_filter_errors_are_typed() -> None:
    import httpx
    from modelwire.errors import BadRequestError, ContentFilterError

    body = {
        "error": {
            "message": "The response was filtered due to the prompt triggering content "
            "management policy.",
            "type": None,
            "param": "prompt",
            "code": "content_filter",
            "status": 400,
            "innererror": {"code": "ResponsibleAIPolicyViolation"},
        }
    }
    http = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(400, json=body)))
    client = modelwire.AzureOpenAI(
        api_key="k", base_url="https://res.openai.azure.com", http_client=http, max_retries=0
    )
    with pytest.raises(ContentFilterError) as info:
        client.complete(model="my-gpt4o", messages=[{"role": "user", "content": "x"}])
    assert isinstance(info.value, BadRequestError) and not info.value.retryable
    assert info.value.error_code == "content_filter" and info.value.status_code == 400


# --------------------------------------------------------------------------- model paths


def test_a_model_in_the_path_is_url_encoded_and_a_stream_has_its_own_path() -> None:
    from modelwire.providers import bedrock

    config = ClientConfig.create(bedrock.SPEC, api_key="k", region="eu-west-3")
    assert config.base_url == "https://bedrock-runtime.eu-west-3.amazonaws.com"
    assert config.url_settings == {"region": "eu-west-3"} and config.sigv4_service is None
    messages = [{"role": "user", "content": "Hi"}]
    request = config.request(None, {"model": "us.amazon.nova-micro-v1:0", "messages": messages})
    whole = config.chat_call(request, stream=False)
    assert whole.url.endswith("/model/us.amazon.nova-micro-v1%3A0/converse")
    streamed = config.chat_call(request, stream=True)
    assert streamed.url.endswith("/model/us.amazon.nova-micro-v1%3A0/converse-stream")
    assert streamed.headers["Accept"] == "application/vnd.amazon.eventstream"
    assert not whole.signed  # a key: nothing to sign
    assert "model" not in json.loads(whole.content or b"{}")


def test_a_base_url_of_ones_own_needs_no_region_until_signing_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from modelwire.providers import bedrock

    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    config = ClientConfig.create(bedrock.SPEC, api_key="k", base_url="https://vpce.example")
    assert config.base_url == "https://vpce.example" and config.url_settings == {}
    signed = ClientConfig.create(bedrock.SPEC, base_url="https://vpce.example", region="us-east-1")
    assert signed.sigv4_service == "bedrock" and signed.url_settings == {"region": "us-east-1"}
