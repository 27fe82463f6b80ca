"""The limits, their key, the token estimate and how a client's `limits=` is read."""

from __future__ import annotations

import modelwire
import pytest
from modelwire import CompletionRequest, Message, TextPart
from modelwire.errors import ConfigurationError, LimitExceededError
from modelwire.limits import Limiter, LimitKey, Limits, estimate_tokens, limiter_from
from modelwire.limits._base import check_fits, limits_for

from tests.unit.support import Wire, no_io


def request(text: str = "", max_tokens: int | None = None, messages: int = 1) -> CompletionRequest:
    return CompletionRequest(
        model="m",
        messages=[Message(role="user", content=text)] * messages,
        max_tokens=max_tokens,
    )


def test_the_estimate_is_characters_over_four_plus_four_a_message_plus_the_output() -> None:
    limits = Limits(default_output_tokens=100)
    assert estimate_tokens(request("abcd" * 10, max_tokens=7), limits) == 10 + 4 + 7
    assert estimate_tokens(request("abcde"), limits) == 2 + 4 + 100  # rounded up
    assert estimate_tokens(request("", max_tokens=0, messages=3), limits) == 12
    parts = CompletionRequest(
        messages=[Message(role="user", content=[TextPart(text="x" * 8), TextPart(text="y" * 4)])],
        max_tokens=1,
    )
    assert estimate_tokens(parts, limits) == 3 + 4 + 1


@pytest.mark.parametrize(
    "bad",
    [
        {"max_concurrency": 0},
        {"requests_per_minute": -1},
        {"tokens_per_minute": 0},
        {"default_output_tokens": -5},
        {"burst_seconds": 0},
        {"burst_seconds": 61},
    ],
)
def test_limits_refuse_figures_that_cannot_limit(bad: dict[str, float]) -> None:
    with pytest.raises(ConfigurationError, match=next(iter(bad))):
        Limits(**bad)  # type: ignore[arg-type]


def test_the_most_specific_limits_apply() -> None:
    default, provider, model = (
        Limits(max_concurrency=1),
        Limits(max_concurrency=2),
        Limits(max_concurrency=3),
    )
    models = {"openai": provider, "openai/gpt-4o": model}
    assert limits_for(LimitKey("openai", "gpt-4o"), default, models) is model
    assert limits_for(LimitKey("openai", "gpt-4o-mini"), default, models) is provider
    assert limits_for(LimitKey("anthropic", "claude"), default, models) is default
    assert limits_for(LimitKey("anthropic", "claude"), None, models) is None
    assert str(LimitKey("ollama")) == "ollama"


def test_a_request_larger_than_the_bucket_is_refused_saying_what_to_change() -> None:
    key = LimitKey("openai", "gpt-4o")
    with pytest.raises(LimitExceededError, match=r"tokens_per_minute=100.*lower max_tokens"):
        check_fits(key, Limits(tokens_per_minute=100), 101)
    check_fits(key, Limits(tokens_per_minute=100), 100)


def test_a_client_refuses_it_before_sending() -> None:
    client = Wire(no_io).client("openai", api_key="sk-x", limits=Limits(tokens_per_minute=100))
    with pytest.raises(LimitExceededError) as caught:
        client.complete(messages=[{"role": "user", "content": "hi"}], max_tokens=200)
    assert caught.value.provider == "openai"


def test_limits_makes_a_limiter_of_its_own_and_a_limiter_is_shared() -> None:
    limits = Limits(max_concurrency=1)
    own = limiter_from(limits)
    assert isinstance(own, Limiter) and own.default is limits
    shared = Limiter(limits)
    assert limiter_from(shared) is shared
    assert limiter_from(None) is None
    with pytest.raises(ConfigurationError, match=r"give a modelwire\.limits\.Limits"):
        limiter_from(5)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"give a modelwire\.limits\.Limits"):
        modelwire.OpenAI(api_key="sk-x", limits={"max_concurrency": 1})  # type: ignore[arg-type]
