"""What a provider's answers mean (`modelwire._core.policy`): auth headers and URLs going out;
the typed error of an error status, Retry-After and request ids coming back."""

from __future__ import annotations

import email.utils
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from modelwire._core import policy
from modelwire.dialects.base import stream_event_error
from modelwire.errors import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ContextLengthExceededError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    ProviderError,
    RateLimitError,
    RequestTooLargeError,
    ServerError,
    StreamEventError,
    UnprocessableEntityError,
)
from modelwire.providers import anthropic, llamacpp, ollama, openai, openrouter
from modelwire.spec import ProviderSpec
from modelwire.types import NO_RATE_LIMITS, RateLimit, RateLimits


def make_spec(**overrides: Any) -> ProviderSpec:
    data: dict[str, Any] = {
        "name": "acme",
        "display_name": "Acme",
        "class_name": "Acme",
        "dialect": "openai_chat",
        "base_url": "https://api.acme.test/v1",
        "auth": {"type": "bearer", "env": "ACME_API_KEY"},
        "endpoints": {"chat": "/chat/completions"},
        "retry_statuses": [429, 500, 503],
        "request_id_headers": ["x-acme-id", "x-request-id"],
    }
    data.update(overrides)
    return ProviderSpec.model_validate(data)


SPEC = make_spec()


def error_body(
    message: str = "it broke", type: str | None = None, code: str | None = None
) -> bytes:
    return json.dumps({"error": {"message": message, "type": type, "code": code}}).encode()


# --------------------------------------------------------------------------- going out


def test_redact_never_shows_the_value() -> None:
    assert policy.redact("sk-secret") == "<redacted>"
    assert policy.redact("") == policy.redact(None) == "<unset>"


def test_auth_headers_per_auth_type() -> None:
    assert policy.auth_headers(openai.SPEC, "sk-1") == {"Authorization": "Bearer sk-1"}
    assert policy.auth_headers(anthropic.SPEC, "sk-ant") == {"x-api-key": "sk-ant"}
    assert policy.auth_headers(ollama.SPEC, "ignored") == {}  # auth type none
    assert policy.auth_headers(openai.SPEC, None) == {}
    assert policy.auth_headers(openai.SPEC, "") == {}


@pytest.mark.parametrize(
    ("base", "path"),
    [
        ("https://h/v1", "/chat"),
        ("https://h/v1/", "/chat"),
        ("https://h/v1", "chat"),
        ("https://h/v1/", "chat"),
    ],
)
def test_join_url_has_exactly_one_slash(base: str, path: str) -> None:
    assert policy.join_url(base, path) == "https://h/v1/chat"


# --------------------------------------------------------------------------- Retry-After


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),  # the finer one first
        ({"retry-after-ms": "soon", "retry-after": "9"}, 9.0),  # a broken one is skipped
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": "0.25"}, 0.25),
        ({"retry-after": "0"}, 0.0),
        ({"retry-after": "later"}, None),
        ({"retry-after": ""}, None),
        ({}, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], seconds: float | None) -> None:
    assert policy.parse_retry_after(headers) == seconds


def test_parse_retry_after_as_an_http_date(monkeypatch: pytest.MonkeyPatch) -> None:
    now = 1_700_000_000.0
    monkeypatch.setattr(policy.time, "time", lambda: now)
    later = email.utils.formatdate(now + 30, usegmt=True)
    earlier = email.utils.formatdate(now - 30, usegmt=True)
    assert policy.parse_retry_after({"retry-after": later}) == pytest.approx(30.0)
    assert policy.parse_retry_after({"retry-after": earlier}) == 0.0  # never negative


def test_parse_retry_after_reads_response_headers_in_any_case() -> None:
    assert policy.parse_retry_after(httpx.Headers({"Retry-After": "3"})) == 3.0
    assert policy.parse_retry_after(httpx.Headers({"Retry-After-Ms": "250"})) == 0.25


def test_retry_after_of_an_error() -> None:
    assert policy.retry_after_of(RateLimitError("slow", retry_after=4.0)) == 4.0
    assert policy.retry_after_of(RateLimitError("slow")) is None
    assert policy.retry_after_of(APIConnectionError("down")) is None


# --------------------------------------------------------------------------- request ids


def test_request_id_from_the_specs_headers_in_order() -> None:
    assert policy.request_id_from(SPEC, {"x-request-id": "r2", "x-acme-id": "r1"}) == "r1"
    assert policy.request_id_from(SPEC, {"x-acme-id": "", "x-request-id": "r2"}) == "r2"
    assert policy.request_id_from(SPEC, {"request-id": "elsewhere"}) is None
    assert policy.request_id_from(ollama.SPEC, {"x-request-id": "r"}) is None  # it names none


# --------------------------------------------------------------------------- error statuses


def test_decode_body() -> None:
    assert policy.decode_body(b'{"a": 1}') == {"a": 1}
    assert policy.decode_body(b"<html>bad gateway</html>") == "<html>bad gateway</html>"
    assert policy.decode_body(b"\xffnot utf-8") == "\ufffdnot utf-8"


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (413, RequestTooLargeError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, ServerError),
        (503, ServerError),
        (599, ServerError),
        (402, APIStatusError),
        (418, APIStatusError),
    ],
)
def test_each_status_has_its_class(status: int, kind: type[ProviderError]) -> None:
    error = policy.error_from_response(SPEC, status, {}, error_body())
    assert type(error) is kind
    assert error.status_code == status and error.message == "it broke"


def test_the_error_carries_everything_the_response_said() -> None:
    headers = {"x-acme-id": "req_1", "retry-after": "7"}
    content = error_body("slow down", type="rate_limit", code="too_many")
    error = policy.error_from_response(SPEC, 429, headers, content, attempts=3)
    assert isinstance(error, RateLimitError)
    assert (error.provider, error.status_code, error.request_id) == ("acme", 429, "req_1")
    assert (error.error_type, error.error_code) == ("rate_limit", "too_many")
    assert error.body == json.loads(content)
    assert (error.retry_after, error.attempts, error.retryable) == (7.0, 3, True)
    assert str(error) == "[acme, 429, request id req_1] slow down"


def test_retryable_follows_the_specs_retry_statuses_not_the_class() -> None:
    # ConflictError is retryable by default; a provider whose spec does not retry 409 says no
    error = policy.error_from_response(llamacpp.SPEC, 409, {}, error_body())
    assert isinstance(error, ConflictError) and error.retryable is False
    assert policy.error_from_response(SPEC, 503, {}, error_body()).retryable is True
    assert policy.error_from_response(SPEC, 502, {}, error_body()).retryable is False


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "HTTP 502 with an empty body"),
        (b"   \n", "HTTP 502 with an empty body"),
        (b"Bad Gateway\n", "Bad Gateway"),
        (b'{"detail": "no such route"}', '{"detail": "no such route"}'),
        (b'{"error": "plain string error"}', "plain string error"),
        (b'{"message": "top-level message", "error": {"type": "x"}}', "top-level message"),
        (b"x" * 2000, "x" * 500),
    ],
)
def test_the_message_when_the_body_has_no_error_message(content: bytes, message: str) -> None:
    assert policy.error_from_response(SPEC, 502, {}, content).message == message


def test_a_body_already_read_is_used_as_it_is() -> None:
    body = {"error": {"message": "from the stream"}}
    error = policy.error_from_response(SPEC, 400, {}, b"ignored", body=body)
    assert error.message == "from the stream" and error.body is body


RULES = [
    {
        "status": 400,
        "type": "invalid_request",
        "message_contains": "too long",
        "error": "ContextLengthExceededError",
    },
    {"code": "quota", "error": "RateLimitError", "retryable": False},
    {"status": 500, "type": "bad_input", "error": "BadRequestError", "retryable": False},
    {"type": "overloaded", "error": "OverloadedError"},
    {"status": 400, "error": "UnprocessableEntityError"},
]


@pytest.mark.parametrize(
    ("status", "content", "kind", "retryable"),
    [
        # every condition of a rule must hold...
        (
            400,
            error_body("prompt too long", type="invalid_request"),
            ContextLengthExceededError,
            False,
        ),
        # ...else the next rule is tried: the last one catches any 400
        (
            400,
            error_body("prompt too short", type="invalid_request"),
            UnprocessableEntityError,
            False,
        ),
        (400, error_body("too long", type="other"), UnprocessableEntityError, False),
        # a rule without a status matches any status; its retryable wins over the status's
        (429, error_body(code="quota"), RateLimitError, False),
        (403, error_body(code="quota"), RateLimitError, False),
        (500, error_body(type="bad_input"), BadRequestError, False),
        # no retryable in the rule: the spec's retry statuses decide
        (503, error_body(type="overloaded"), OverloadedError, True),
        (529, error_body(type="overloaded"), OverloadedError, False),
        # no rule matches: the status's class
        (500, error_body(type="other"), ServerError, True),
        (429, error_body(code="other"), RateLimitError, True),
    ],
)
def test_spec_rules_first_match_wins(
    status: int, content: bytes, kind: type[ProviderError], retryable: bool
) -> None:
    spec = make_spec(errors=RULES)
    error = policy.error_from_response(spec, status, {}, content)
    assert type(error) is kind
    assert error.retryable is retryable


def test_the_shipped_specs_rules() -> None:
    quota = policy.error_from_response(openai.SPEC, 429, {}, error_body(code="insufficient_quota"))
    assert type(quota) is RateLimitError and not quota.retryable
    busy = policy.error_from_response(openai.SPEC, 429, {}, error_body(code="rate_limit_exceeded"))
    assert type(busy) is RateLimitError and busy.retryable
    context = policy.error_from_response(
        openai.SPEC, 400, {}, error_body(code="context_length_exceeded")
    )
    assert type(context) is ContextLengthExceededError and not context.retryable
    overloaded = policy.error_from_response(
        anthropic.SPEC,
        529,
        {"request-id": "req_a", "retry-after": "2"},
        error_body(type="overloaded_error"),
    )
    assert type(overloaded) is OverloadedError and overloaded.retryable
    assert (overloaded.request_id, overloaded.retry_after) == ("req_a", 2.0)
    too_long = policy.error_from_response(
        anthropic.SPEC,
        400,
        {},
        error_body("prompt is too long: 300000 tokens", type="invalid_request_error"),
    )
    assert type(too_long) is ContextLengthExceededError
    invalid = policy.error_from_response(
        llamacpp.SPEC, 500, {}, error_body(type="internal_server_error")
    )
    assert type(invalid) is BadRequestError and not invalid.retryable


# --------------------------------------------------------------------------- secrets

SECRET = "sk-unit-policy-secret-0123456789"
OPENAI = openai.SPEC


def test_scrub_redacts_a_secret_at_any_depth_of_a_body() -> None:
    body = {"error": {"message": f"bad {SECRET}", SECRET: [f"x{SECRET}y", 3, None]}}
    scrubbed = policy.scrub(body, policy.secrets_of([SECRET]))
    assert SECRET not in json.dumps(scrubbed)
    assert scrubbed["error"]["message"] == "bad <redacted>"
    assert scrubbed["error"]["<redacted>"] == ["x<redacted>y", 3, None]
    assert SECRET in json.dumps(body)  # the peer's value is not changed in place


def test_scrub_walks_a_deep_body_without_recursing() -> None:
    body: Any = SECRET
    for _ in range(100_000):
        body = [body]
    scrubbed = policy.scrub(body, policy.secrets_of([SECRET]))
    for _ in range(100_000):
        scrubbed = scrubbed[0]
    assert scrubbed == "<redacted>"


def test_a_short_secret_is_redacted_only_where_it_stands_alone() -> None:
    secrets = policy.secrets_of(["k1"])
    assert policy.scrub("bad key k1, k1x", secrets) == "bad key <redacted>, k1x"


def test_secrets_of_an_authorization_value_include_its_credential() -> None:
    secrets = policy.secrets_of([f"Bearer {SECRET}", None, ""])
    assert set(secrets) == {f"Bearer {SECRET}", SECRET}
    assert SECRET not in repr(secrets)


def test_scrub_error_cleans_message_args_and_body() -> None:
    error = AuthenticationError(f"no {SECRET}", body={"m": SECRET})
    policy.scrub_error(error, policy.secrets_of([SECRET]))
    assert SECRET not in f"{error} {error!r} {error.args} {error.body}"


def test_error_from_response_redacts_an_echoed_key() -> None:
    content = json.dumps({"error": {"message": f"Incorrect API key provided: {SECRET}"}})
    error = policy.error_from_response(
        OPENAI, 401, {}, content.encode(), secrets=policy.secrets_of([SECRET])
    )
    assert isinstance(error, AuthenticationError)
    assert str(error).endswith("Incorrect API key provided: <redacted>")
    assert SECRET not in repr(error.body)


def test_headers_repr_shows_names_and_no_credential() -> None:
    headers = policy.Headers({"Authorization": f"Bearer {SECRET}", "X-Gateway-Token": SECRET})
    headers["Accept"] = "application/json"
    assert SECRET not in repr(headers) and "'Accept': 'application/json'" in repr(headers)
    assert headers["X-Gateway-Token"] == SECRET


def test_split_userinfo_strips_and_decodes_it() -> None:
    assert policy.split_userinfo("https://u%40x:p%3Aw@h.example:8/v1") == (
        "https://h.example:8/v1",
        "u@x",
        "p:w",
    )
    assert policy.split_userinfo("https://h.example/v1") == ("https://h.example/v1", None, None)
    assert policy.basic_auth("u", "p") == "Basic dTpw"


def test_a_body_nested_too_deep_is_kept_as_text() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    error = policy.error_from_response(OPENAI, 500, {}, deep)
    assert isinstance(error, ServerError) and error.body == deep.decode()


# --------------------------------------------------------------------------- rate limits

NOW = 1_750_000_000.0  # a fixed Unix time that absolute resets are measured from


def test_openai_and_groq_rate_limit_headers_with_go_durations() -> None:
    # the form OpenAI documents (and Groq sends): counts, and resets as Go durations
    headers = httpx.Headers(
        {
            "x-ratelimit-limit-requests": "10000",
            "x-ratelimit-remaining-requests": "9999",
            "x-ratelimit-reset-requests": "6m0s",
            "x-ratelimit-limit-tokens": "30000000",
            "x-ratelimit-remaining-tokens": "29999980",
            "x-ratelimit-reset-tokens": "20ms",
        }
    )
    limits = policy.parse_rate_limits(headers, now=NOW)
    assert limits.requests == RateLimit(limit=10000, remaining=9999, reset_after=360.0)
    assert limits.tokens == RateLimit(limit=30000000, remaining=29999980, reset_after=0.02)
    assert limits.input_tokens == RateLimit() and limits.retry_after is None
    assert limits


def test_groq_resets_in_fractional_durations() -> None:
    headers = {"x-ratelimit-reset-requests": "2m59.56s", "x-ratelimit-reset-tokens": "7.66s"}
    limits = policy.parse_rate_limits(headers, now=NOW)
    assert limits.requests.reset_after == pytest.approx(179.56)
    assert limits.tokens.reset_after == pytest.approx(7.66)


def test_anthropic_rate_limit_headers_with_rfc_3339_resets() -> None:
    headers = httpx.Headers(
        {
            "anthropic-ratelimit-requests-limit": "50",
            "anthropic-ratelimit-requests-remaining": "49",
            "anthropic-ratelimit-requests-reset": "2025-06-15T15:07:40Z",  # NOW + 60 s
            "anthropic-ratelimit-tokens-limit": "40000",
            "anthropic-ratelimit-tokens-remaining": "39000",
            "anthropic-ratelimit-tokens-reset": "2025-06-15T15:06:41.5+00:00",
            "anthropic-ratelimit-input-tokens-limit": "30000",
            "anthropic-ratelimit-input-tokens-remaining": "29500",
            "anthropic-ratelimit-input-tokens-reset": "2025-06-15T15:06:40Z",
            "anthropic-ratelimit-output-tokens-limit": "8000",
            "anthropic-ratelimit-output-tokens-remaining": "7500",
            "anthropic-ratelimit-output-tokens-reset": "2025-06-15T15:04:00Z",  # passed
            "retry-after": "12",
        }
    )
    limits = policy.parse_rate_limits(headers, now=NOW)
    assert limits.requests == RateLimit(limit=50, remaining=49, reset_after=60.0)
    assert limits.tokens == RateLimit(limit=40000, remaining=39000, reset_after=1.5)
    assert limits.input_tokens == RateLimit(limit=30000, remaining=29500, reset_after=0.0)
    assert limits.output_tokens == RateLimit(limit=8000, remaining=7500, reset_after=0.0)
    assert limits.retry_after == 12.0


def test_openrouters_own_headers_with_a_reset_in_epoch_milliseconds() -> None:
    headers = {
        "x-ratelimit-limit": "20",
        "x-ratelimit-remaining": "19",
        "x-ratelimit-reset": str(int((NOW + 30) * 1000)),
    }
    limits = policy.parse_rate_limits(headers, now=NOW)
    assert limits.requests == RateLimit(limit=20, remaining=19, reset_after=30.0)


def test_retry_after_ms_wins_over_retry_after() -> None:
    limits = policy.parse_rate_limits({"retry-after-ms": "250", "retry-after": "3"})
    assert limits.retry_after == 0.25 and limits.requests == RateLimit()


@pytest.mark.parametrize(
    "value", ["nan", "inf", "-1", "1e400", "soon", "", "6x", "5m-3s", "2025-13-40T00:00:00Z"]
)
def test_unreadable_or_infinite_values_are_ignored_never_raised(value: str) -> None:
    headers = {
        "x-ratelimit-limit-requests": value,
        "x-ratelimit-remaining-requests": value,
        "x-ratelimit-reset-requests": value,
        "anthropic-ratelimit-tokens-reset": value,
        "retry-after": value,
    }
    limits = policy.parse_rate_limits(headers, now=NOW)
    assert limits == RateLimits()
    assert not limits


def test_a_reset_time_without_a_zone_is_ignored() -> None:
    limits = policy.parse_rate_limits({"anthropic-ratelimit-requests-reset": "2025-06-15T15:06:40"})
    assert limits.requests.reset_after is None


def test_headers_without_rate_limits_give_the_empty_value() -> None:
    assert policy.parse_rate_limits({"content-type": "application/json"}) is NO_RATE_LIMITS


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("6m0s", 360.0), ("1s", 1.0), ("20ms", 0.02), ("1h2m3.5s", 3723.5), ("0.5", 0.5)],
)
def test_durations(text: str, seconds: float) -> None:
    assert policy.parse_duration(text) == pytest.approx(seconds)


def test_the_retry_after_a_recording_carries(shared_cassettes: Path) -> None:
    # the only rate-limit header the shared recordings kept: Hugging Face's router sends
    # `retry-after: 30` on its answers
    recording = shared_cassettes / "huggingface" / "test_huggingface__test_simple_completion.yaml"
    interactions = yaml.safe_load(recording.read_text())["interactions"]
    sent = interactions[0]["response"]["headers"]
    headers = httpx.Headers({name: values[0] for name, values in sent.items()})
    assert headers["retry-after"] == "30"
    assert policy.parse_rate_limits(headers).retry_after == 30.0


def test_an_error_status_carries_its_rate_limits() -> None:
    headers = {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1s"}
    error = policy.error_from_response(openai.SPEC, 429, headers, b'{"error":{"message":"slow"}}')
    assert isinstance(error, RateLimitError)
    assert error.rate_limits == RateLimits(requests=RateLimit(remaining=0, reset_after=1.0))


# --------------------------------------------------------------------------- x-should-retry


@pytest.mark.parametrize(
    ("value", "told"), [("true", True), ("TRUE", True), ("false", False), ("maybe", None)]
)
def test_x_should_retry(value: str, told: bool | None) -> None:
    assert policy.should_retry_header(httpx.Headers({"X-Should-Retry": value})) is told
    assert policy.should_retry_header({}) is None


# --------------------------------------------------------------------------- stream events


def event_error(data: dict[str, Any]) -> StreamEventError:
    return stream_event_error(data, "the provider")


def test_anthropics_overloaded_event_is_the_overloaded_error_of_a_529() -> None:
    data = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    error = policy.error_from_stream_event(anthropic.SPEC, event_error(data), {"request-id": "r1"})
    status_twin = policy.error_from_response(anthropic.SPEC, 529, {}, json.dumps(data).encode())
    assert type(error) is type(status_twin) is OverloadedError
    assert error.retryable and status_twin.retryable
    assert (error.message, error.request_id, error.provider) == ("Overloaded", "r1", "anthropic")
    assert error.status_code is None  # it came in a 200 stream


def test_openrouters_error_chunk_is_typed_by_the_status_in_its_code() -> None:
    data = {"error": {"code": 502, "message": "Upstream error from OpenAI"}}
    error = policy.error_from_stream_event(openrouter.SPEC, event_error(data), {})
    assert type(error) is ServerError and error.retryable and error.status_code == 502
    data = {"error": {"code": 429, "message": "Rate limited upstream"}}
    error = policy.error_from_stream_event(openrouter.SPEC, event_error(data), {})
    assert type(error) is RateLimitError and error.retryable
    data = {"error": {"code": 400, "message": "bad"}}
    error = policy.error_from_stream_event(openrouter.SPEC, event_error(data), {})
    assert type(error) is BadRequestError and not error.retryable


def test_openai_responses_error_event_is_typed_by_its_code() -> None:
    from modelwire.dialects.openai_responses import _error_event
    from modelwire.providers import openai_responses

    event = _error_event({"type": "error", "code": "server_error", "message": "boom"})
    error = policy.error_from_stream_event(openai_responses.SPEC, event, {})
    assert type(error) is ServerError and error.retryable
    event = _error_event({"type": "error", "code": "rate_limit_exceeded", "message": "slow"})
    error = policy.error_from_stream_event(openai_responses.SPEC, event, {"retry-after": "2"})
    assert type(error) is RateLimitError and error.retry_after == 2.0


def test_an_event_that_names_no_known_fault_stays_a_stream_event_error() -> None:
    event = event_error({"error": {"message": "something odd", "type": "weird"}})
    assert policy.error_from_stream_event(openai.SPEC, event, {}) is event


# --------------------------------------------------------------------------- AWS error types


def test_an_aws_error_type_comes_from_its_header_or_from_type() -> None:
    from modelwire.providers import bedrock

    spec = bedrock.SPEC
    header = {"x-amzn-errortype": "ThrottlingException:http://internal.amazon.com/coral/"}
    error = policy.error_from_response(spec, 429, header, b'{"message": "Too many requests"}')
    assert type(error) is RateLimitError and error.error_type == "ThrottlingException"
    assert error.retryable and error.message == "Too many requests"
    body = b'{"__type": "com.amazon.coral.validate#ValidationException", "message": "bad"}'
    error = policy.error_from_response(spec, 400, {}, body)
    assert type(error) is BadRequestError and error.error_type == "ValidationException"
    error = policy.error_from_response(
        spec,
        400,
        {},
        b'{"message": "Input is too long for requested model."}',
        body=None,
    )
    assert error.error_type is None  # no type named anywhere: typed by its status alone
    assert type(error) is BadRequestError
    # a spec without error_type_header reads no header
    assert policy.error_type_from(openai.SPEC, {}, header) is None
