"""The provider spec format (`modelwire.spec`): what a valid spec is, errors that name the key,
and reading spec files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from modelwire.errors import SpecError
from modelwire.spec import (
    OPTION_TYPES,
    AuthSpec,
    ErrorRule,
    OptionSpec,
    ProviderSpec,
    parse_spec,
    read_spec_file,
)
from pydantic import ValidationError

from tests.unit.support import ROOT, VALID

MINIMAL: dict[str, Any] = {
    "name": "acme",
    "display_name": "Acme",
    "class_name": "Acme",
    "dialect": "openai_chat",
    "base_url": "https://api.acme.test/v1",
    "auth": {"type": "bearer", "env": "ACME_API_KEY"},
    "endpoints": {"chat": "/chat/completions"},
}


def spec(**overrides: Any) -> ProviderSpec:
    return ProviderSpec.model_validate({**MINIMAL, **overrides})


def invalid(match: str, **overrides: Any) -> None:
    with pytest.raises(SpecError, match=match):
        parse_spec({**MINIMAL, **overrides}, "acme.yaml")


def test_a_minimal_spec_and_its_defaults() -> None:
    made = spec()
    assert made.stream_format == "sse"
    assert made.capabilities.streaming and made.capabilities.tools
    assert made.capabilities.structured_output == "json_schema"
    assert not made.capabilities.embeddings and not made.capabilities.stream_usage
    assert (made.limits.temperature, made.limits.top_p) == ((0.0, 2.0), (0.0, 1.0))
    assert made.limits.max_tokens_field == "max_tokens"
    assert made.retry_statuses == [408, 409, 429, 500, 502, 503, 504]
    assert made.request_id_headers == ["x-request-id", "request-id"]
    assert made.options == [] and made.errors == [] and made.settings == []


def test_specs_are_frozen() -> None:
    with pytest.raises(ValidationError, match="frozen"):
        spec().name = "other"  # type: ignore[misc]


# --------------------------------------------------------------------------- auth


def test_no_auth_needs_no_key() -> None:
    assert AuthSpec(type="none").required is False
    assert AuthSpec(type="none", required=True).required is True
    assert AuthSpec(type="bearer", env="K").required is True


def test_auth_needs_its_header_and_variable() -> None:
    invalid(
        r"auth: Value error, auth type 'header' needs `header:`",
        auth={"type": "header", "env": "K"},
    )
    invalid(r"auth type 'bearer' needs `env:` \(the API key variable\)", auth={"type": "bearer"})
    invalid(
        r"auth.type: Input should be 'bearer', 'header', 'query' or 'none'",
        auth={"type": "basic", "env": "K"},
    )


# --------------------------------------------------------------------------- options


def test_option_wire_path_and_annotation() -> None:
    option = OptionSpec(name="num_ctx", type="int", wire="options.num_ctx")
    assert option.wire_path == ["options", "num_ctx"]
    assert OptionSpec(name="seed", type="int").wire_path == ["seed"]
    assert option.annotation == "int"
    assert OptionSpec(name="d", type="dict").annotation == "dict[str, Any]"
    assert (
        OptionSpec(name="tier", type="str", enum=["auto", "flex"]).annotation
        == 'Literal["auto", "flex"]'
    )
    assert set(OPTION_TYPES) == {
        "int",
        "float",
        "str",
        "bool",
        "list[str]",
        "dict",
        "list[dict]",
        "str | int",
    }


@pytest.mark.parametrize(
    ("option", "match"),
    [
        ({"name": "top-k", "type": "int"}, r"options.0.name: .*'top-k' is not a Python identifier"),
        ({"name": "class", "type": "int"}, r"'class' is not a Python identifier"),
        ({"name": "top_k", "type": "integer"}, r"options.0.type: .*type 'integer' is not one of"),
    ],
)
def test_invalid_options(option: dict[str, Any], match: str) -> None:
    invalid(match, options=[option])


def test_options_are_named_once_and_found_by_name() -> None:
    invalid(
        r"options are named more than once: \['top_k'\]",
        options=[{"name": "top_k", "type": "int"}] * 2,
    )
    made = spec(options=[{"name": "top_k", "type": "int"}])
    assert made.option("top_k") is made.options[0]
    assert made.option("top_p") is None


# --------------------------------------------------------------------------- errors and the rest


def test_error_rules() -> None:
    assert ErrorRule(status=529, error="OverloadedError").retryable is None
    invalid(
        r"errors.0.error: .*error 'Teapot' is not one of",
        errors=[{"status": 418, "error": "Teapot"}],
    )
    invalid(
        r"an error rule needs status, type, code or message_contains",
        errors=[{"error": "ServerError"}],
    )


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"name": "Acme"}, r"name 'Acme' must be lower-case letters, digits and '_'"),
        ({"name": "2acme"}, r"name '2acme' must be lower-case"),
        ({"class_name": "acme"}, r"class_name 'acme' must be a capitalised Python identifier"),
        ({"class_name": "Ac me"}, r"class_name 'Ac me' must be"),
        (
            {"dialect": "klingon"},
            r"dialect: Input should be 'openai_chat', 'openai_responses', 'anthropic_messages', "
            r"'ollama_chat', 'gemini' or 'bedrock_converse'",
        ),
        ({"stream_format": "websocket"}, r"stream_format"),
        (
            {"capabilities": {"embeddings": True}},
            r"capabilities.embeddings is true but endpoints.embeddings is unset",
        ),
        (
            {"capabilities": {"telepathy": True}},
            r"capabilities.telepathy: Extra inputs are not permitted",
        ),
        ({"endpoints": {}}, r"endpoints.chat: Field required"),
        (
            {"endpoints": {"chat": "/c", "count_tokens": {"path": "/count"}}},
            r"the openai_chat dialect has no token-counting body",
        ),
        (
            {"reasoning": {"wire": "ollama_think", "options": ["reasoning_effort"]}},
            r"reasoning.options names no option of this spec: \['reasoning_effort'\]",
        ),
        ({"reasoning": {"wire": "telepathy"}}, r"reasoning.wire: Input should be"),
        ({"reasoning": {"wire": "reasoning_effort"}}, r"needs `efforts:`"),
        (
            {"endpoints": {"chat": "/c", "batches": {"style": "files", "path": "/batches"}}},
            r"batches style 'files' needs `files:` and `line_url:`",
        ),
        (
            {"endpoints": {"chat": "/c", "batches": {"style": "queue", "path": "/b"}}},
            r"endpoints.batches.style: Input should be 'files' or 'inline'",
        ),
    ],
)
def test_invalid_specs_name_the_key(overrides: dict[str, Any], match: str) -> None:
    invalid(match, **overrides)


def test_a_spec_error_names_its_source_and_every_problem() -> None:
    with pytest.raises(SpecError) as info:
        parse_spec({"name": "x"}, "spec/providers/x.yaml")
    lines = str(info.value).splitlines()
    assert lines[0] == "spec/providers/x.yaml: invalid provider spec"
    assert "  display_name: Field required" in lines
    assert "  dialect: Field required" in lines
    with pytest.raises(SpecError, match=r"<spec>: invalid provider spec\n  \(top level\)"):
        parse_spec("not a mapping")


# --------------------------------------------------------------------------- files


def test_read_a_yaml_and_a_json_spec(tmp_path: Path) -> None:
    from_yaml = read_spec_file(ROOT / "spec/providers/openai.yaml")
    assert (from_yaml.name, from_yaml.limits.max_tokens_field) == (
        "openai",
        "max_completion_tokens",
    )
    path = tmp_path / "acme.json"
    path.write_text(json.dumps(MINIMAL))
    assert read_spec_file(path) == spec()
    assert read_spec_file(str(path)) == spec()


@pytest.mark.parametrize(
    ("name", "text", "match"),
    [
        ("broken.yaml", "name: [unclosed\n", "broken.yaml: not valid YAML"),
        ("broken.json", "{'single': 'quotes'}", "broken.json: not valid JSON"),
        (
            "broken.yml",
            VALID.replace("dialect: openai_chat", "dialect: nope"),
            r"broken.yml: invalid provider spec\n  dialect",
        ),
    ],
)
def test_a_broken_file_is_named(tmp_path: Path, name: str, text: str, match: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(SpecError, match=match) as info:
        read_spec_file(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("listing", "problem"),
    [
        ({"pagination": "cursor"}, "needs `cursor_param:` and `next_cursor:`"),
        ({"pagination": "cursor", "cursor_param": "after"}, "needs `cursor_param:`"),
        ({"page_size": 100}, "`page_size:` and `page_size_param:` go together"),
        ({"page_size_param": "limit", "page_size": 0}, "greater than or equal to 1"),
        ({"pagination": "pages"}, "'none' or 'cursor'"),
    ],
)
def test_a_models_listing_names_what_it_pages_with(listing: dict[str, Any], problem: str) -> None:
    with pytest.raises(SpecError, match="models_list") as caught:
        parse_spec({**MINIMAL, "models_list": listing}, "acme.yaml")
    assert problem in str(caught.value)


def test_the_spec_fields_of_the_chat_dialects_variants_default_to_openais_wire() -> None:
    spec = parse_spec(MINIMAL)
    assert spec.limits.seed_field == "seed"
    assert spec.capabilities.schema_in_json_mode is True
    assert spec.capabilities.reasoning_history_field is None
    assert spec.models_list.pagination == "none" and not spec.models_list.array


def test_query_auth_settings_and_paths_say_what_they_need() -> None:
    invalid(r"auth type 'query' needs `param:`", auth={"type": "query", "env": "K"})
    assert spec(auth={"type": "query", "param": "key", "env": "K"}).auth.param == "key"
    invalid(
        r"settings.0: Value error, setting 'v' needs exactly one of `header:`, `query:` or "
        r"`in_base_url: true`",
        settings=[{"name": "v", "header": "X-V", "query": "v"}],
    )
    invalid(r"setting 'v' needs exactly one of", settings=[{"name": "v"}])
    query = spec(settings=[{"name": "v", "query": "api-version", "default": "1"}]).settings[0]
    assert (query.query, query.default, query.header) == ("api-version", "1", None)
    invalid(
        r"endpoints.chat: Value error, path '/d/{deployment}/chat' has the placeholder\(s\) "
        r"\['deployment'\]: only \{model\} is filled in",
        endpoints={"chat": "/d/{deployment}/chat"},
    )
    paths = spec(endpoints={"chat": "/m/{model}:go", "stream": "/m/{model}:stream"}).endpoints
    assert paths.chat_path(stream=False) == "/m/{model}:go"
    assert paths.chat_path(stream=True) == "/m/{model}:stream"
    assert spec().endpoints.chat_path(stream=True) == "/chat/completions"


def test_the_counting_dialects_are_those_with_a_counting_shape() -> None:
    from modelwire.dialects import get_dialect
    from modelwire.spec import COUNTING_DIALECTS, DialectName

    names = DialectName.__args__
    assert {n for n in names if get_dialect(n).token_count_fields} == COUNTING_DIALECTS


def test_a_tokenize_endpoint_suits_any_dialect() -> None:
    counting = {"path": "/tokenize", "body": "tokenize", "from_root": True}
    made = spec(endpoints={"chat": "/chat/completions", "count_tokens": counting})
    assert made.endpoints.count_tokens is not None
    assert made.endpoints.count_tokens.from_root


# --------------------------------------------------------------------------- URL placeholders


def test_a_setting_goes_in_a_header_or_in_the_base_url() -> None:
    invalid(
        r"setting 'region' needs exactly one of `header:`, `query:` or `in_base_url: true`",
        base_url="https://{region}.example.com",
        settings=[{"name": "region", "header": "X-Region", "in_base_url": True}],
    )
    invalid(
        r"settings.0: .*needs exactly one of",
        settings=[{"name": "region"}],
    )
    invalid(
        r"setting 'region' needs exactly one of `header:`, `query:` or `in_base_url: true`",
        base_url="https://{region}.example.com",
        settings=[{"name": "region", "query": "region", "in_base_url": True}],
    )
    invalid(
        r"the settings \['region'\] fill base_url, but 'https://api.example.com' has no such",
        base_url="https://api.example.com",
        settings=[{"name": "region", "in_base_url": True}],
    )
    made = spec(
        base_url="https://{region}.example.com",
        settings=[{"name": "region", "in_base_url": True, "env": "A", "fallback_env": ["B", "C"]}],
    )
    assert made.settings[0].envs == ["A", "B", "C"]


def test_paths_fill_only_the_model_and_a_stream_may_have_its_own() -> None:
    invalid(
        r"path '/model/\{id\}/converse' has the placeholder\(s\) \['id'\]",
        endpoints={"chat": "/model/{id}/converse"},
    )
    made = spec(endpoints={"chat": "/model/{model}/converse", "stream": "/model/{model}/s"})
    assert made.endpoints.chat_path(stream=False) == "/model/{model}/converse"
    assert made.endpoints.chat_path(stream=True) == "/model/{model}/s"
    assert spec().endpoints.chat_path(stream=True) == spec().endpoints.chat


def test_sigv4_signing_and_the_error_type_header_are_off_by_default() -> None:
    made = spec()
    assert made.auth.sigv4_service is None and made.error_type_header is None
    signed = spec(
        auth={"type": "bearer", "env": "K", "required": False, "sigv4_service": "bedrock"},
        stream_format="eventstream",
    )
    assert signed.auth.sigv4_service == "bedrock" and signed.stream_format == "eventstream"
