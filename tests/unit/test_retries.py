"""How often a call is tried and how long to wait (`modelwire.retries.RetryPolicy`)."""

from __future__ import annotations

import pytest
from modelwire import retries
from modelwire.errors import ConfigurationError
from modelwire.retries import DEFAULT_MAX_RETRIES, RetryPolicy


def test_defaults() -> None:
    policy = RetryPolicy()
    assert (policy.max_retries, policy.initial_delay, policy.max_delay, policy.max_retry_after) == (
        DEFAULT_MAX_RETRIES,
        0.5,
        8.0,
        60.0,
    )
    assert DEFAULT_MAX_RETRIES == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_retries": -1}, "max_retries must be 0 or more"),
        ({"initial_delay": -0.1}, "retry delays must be 0 or more"),
        ({"max_delay": -1}, "retry delays must be 0 or more"),
        ({"max_retry_after": -1}, "retry delays must be 0 or more"),
    ],
)
def test_invalid_policies(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_coerce() -> None:
    assert RetryPolicy.coerce(None) == RetryPolicy()
    assert RetryPolicy.coerce(0) == RetryPolicy(max_retries=0)
    assert RetryPolicy.coerce(5) == RetryPolicy(max_retries=5)
    policy = RetryPolicy(max_retries=1, initial_delay=3)
    assert RetryPolicy.coerce(policy) is policy


def test_no_retry_past_the_last_one() -> None:
    policy = RetryPolicy(max_retries=2)
    assert policy.delay(2, None) is not None
    assert policy.delay(3, None) is None
    assert RetryPolicy(max_retries=0).delay(1, 0.0) is None


@pytest.mark.parametrize("jitter", [0.0, 0.999999])
def test_exponential_backoff_with_jitter_capped(
    monkeypatch: pytest.MonkeyPatch, jitter: float
) -> None:
    monkeypatch.setattr(retries.random, "random", lambda: jitter)
    policy = RetryPolicy(max_retries=10, initial_delay=0.5, max_delay=3.0)
    factor = 0.5 + jitter / 2  # half to all of the backoff
    expected = [0.5, 1.0, 2.0, 3.0, 3.0]
    for attempt, backoff in enumerate(expected, start=1):
        assert policy.delay(attempt, None) == pytest.approx(backoff * factor)


def test_the_servers_retry_after_is_honoured_up_to_a_limit() -> None:
    policy = RetryPolicy(max_retries=3, max_retry_after=10.0)
    assert policy.delay(1, 7.0) == 7.0  # no jitter, no cap by max_delay
    assert policy.delay(1, 10.0) == 10.0
    assert policy.delay(1, 10.5) is None  # longer than we would wait: give up at once
    assert policy.delay(1, -3.0) == 0.0
    assert policy.delay(4, 1.0) is None
