"""The error hierarchy (`modelwire.errors`): what each error says and carries, which are
retryable, and the one reader of providers' error bodies."""

from __future__ import annotations

from typing import Any

import pytest
from modelwire import errors
from modelwire.errors import (
    ERROR_CLASSES,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    BadRequestError,
    CapabilityError,
    ConfigurationError,
    ConflictError,
    ContextLengthExceededError,
    InsecureTransportError,
    InternalServerError,
    LineTooLongError,
    OutputValidationError,
    OverloadedError,
    ProviderError,
    RateLimitError,
    RequestValidationError,
    ServerError,
    SpecError,
    StreamDecodeError,
    StreamError,
    StreamEventError,
    StreamInterruptedError,
    error_fields,
)
from modelwire.types import CompletionResponse


def test_the_message_names_provider_status_and_request_id() -> None:
    error = BadRequestError("bad field", provider="openai", status_code=400, request_id="req_1")
    assert str(error) == "[openai, 400, request id req_1] bad field"
    assert repr(error) == "BadRequestError('[openai, 400, request id req_1] bad field')"
    assert str(ProviderError("plain")) == "plain"
    assert str(ConfigurationError("no key", provider="anthropic")) == "[anthropic] no key"


def test_a_stream_error_does_not_show_its_200() -> None:
    error = StreamEventError("overloaded", provider="anthropic", status_code=200, request_id="r")
    assert str(error) == "[anthropic, request id r] overloaded"
    assert error.status_code == 200


def test_what_an_error_carries() -> None:
    partial = CompletionResponse(content="so far")
    error = StreamInterruptedError(
        "cut", body={"x": 1}, error_type="t", error_code="c", partial=partial, attempts=2
    )
    assert (error.message, error.body, error.error_type, error.error_code) == (
        "cut",
        {"x": 1},
        "t",
        "c",
    )
    assert (error.partial, error.attempts) == (partial, 2)
    assert APIStatusError("slow", retry_after=1.5).retry_after == 1.5
    assert APIStatusError("slow").retry_after is None
    assert OutputValidationError("bad", raw_output="{oops").raw_output == "{oops"


@pytest.mark.parametrize(
    ("kind", "retryable"),
    [
        (ProviderError, False),
        (BadRequestError, False),
        (ConflictError, True),
        (RateLimitError, True),
        (ServerError, True),
        (OverloadedError, True),
        (APIConnectionError, True),
        (APITimeoutError, True),
        (StreamError, False),
        (RequestValidationError, False),
    ],
)
def test_which_errors_are_retryable_by_default(kind: type[ProviderError], retryable: bool) -> None:
    assert kind("x").retryable is retryable
    assert kind("x", retryable=not retryable).retryable is (not retryable)


def test_the_hierarchy() -> None:
    assert issubclass(CapabilityError, RequestValidationError)
    assert issubclass(InsecureTransportError, RequestValidationError)
    assert issubclass(RequestValidationError, ValueError)  # a wrong argument, to Python too
    assert issubclass(SpecError, ConfigurationError)
    assert issubclass(ContextLengthExceededError, BadRequestError)
    assert issubclass(OverloadedError, ServerError) and InternalServerError is ServerError
    assert issubclass(APITimeoutError, APIConnectionError)
    assert issubclass(LineTooLongError, StreamDecodeError)
    for name in dir(errors):
        value = getattr(errors, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, ProviderError), name


def test_error_classes_a_spec_may_name() -> None:
    assert ERROR_CLASSES["OverloadedError"] is OverloadedError
    assert set(ERROR_CLASSES) == {cls.__name__ for cls in ERROR_CLASSES.values()}
    assert all(issubclass(cls, APIStatusError) for cls in ERROR_CLASSES.values())
    assert "StreamError" not in ERROR_CLASSES  # only statuses map to a class


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"error": {"message": "m", "type": "t", "code": "c"}}, ("m", "t", "c")),
        ({"error": {"message": "m", "code": 429}}, ("m", None, "429")),  # codes may be numbers
        (
            {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}},
            ("busy", "overloaded_error", None),
        ),
        ({"error": "model not found"}, ("model not found", None, None)),  # Ollama
        ({"message": "top level", "error": {"type": "t"}}, ("top level", "t", None)),
        ({"message": "no error key"}, ("no error key", None, None)),
        ({"error": ["odd"]}, (None, None, None)),
        ("a string body", (None, None, None)),
        (None, (None, None, None)),
        ([{"error": "list"}], (None, None, None)),
    ],
)
def test_error_fields(body: Any, fields: tuple[str | None, str | None, str | None]) -> None:
    assert error_fields(body) == fields
