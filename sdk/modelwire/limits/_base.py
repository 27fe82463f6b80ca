"""What every limiter shares: the limits, the key they apply to, the token estimate, the
permit a call holds, and the interface a client drives."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from ..errors import ConfigurationError, LimitExceededError

if TYPE_CHECKING:
    from ..types import CompletionRequest, RateLimits, Usage

# the rough rule of thumb for English text and today's tokenizers: 4 characters a token
CHARS_PER_TOKEN = 4
# what a message costs besides its text (role, separators)
TOKENS_PER_MESSAGE = 4


@dataclass(frozen=True, slots=True)
class Limits:
    """Limits for one provider and model: each (provider, model) pair has its own.

    `max_concurrency`: calls in flight at once (a stream counts until it is closed);
    `requests_per_minute`, `tokens_per_minute`: token buckets that refill evenly and start
    full. None means no limit on that figure.
    `burst_seconds`: how many seconds' worth each bucket holds, so the most that may go at
    once after a quiet spell (60: a whole minute's worth; 1: a sixtieth of it).
    `default_output_tokens`: the output a request without `max_tokens` is assumed to take.
    """

    max_concurrency: int | None = None
    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None
    burst_seconds: float = 60.0
    default_output_tokens: int = 1024

    def __post_init__(self) -> None:
        for name in ("max_concurrency", "requests_per_minute", "tokens_per_minute"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ConfigurationError(
                    f"Limits({name}={value!r}): give a number above 0, or None"
                )
        if not 0 < self.burst_seconds <= 60:
            raise ConfigurationError(
                f"Limits(burst_seconds={self.burst_seconds!r}): give more than 0, at most 60"
            )
        if self.default_output_tokens < 0:
            raise ConfigurationError(
                f"Limits(default_output_tokens={self.default_output_tokens!r}): give 0 or more"
            )


@dataclass(frozen=True, slots=True)
class LimitKey:
    """What a limit applies to: one provider's model (model None: the provider's default)."""

    provider: str
    model: str | None = None

    def __str__(self) -> str:
        return f"{self.provider}/{self.model}" if self.model else self.provider


def limits_for(
    key: LimitKey, default: Limits | None, models: Mapping[str, Limits]
) -> Limits | None:
    """The most specific limits for a key: "provider/model", then "provider", then default."""
    return models.get(str(key)) or models.get(key.provider) or default


def estimate_tokens(request: CompletionRequest, limits: Limits) -> int:
    """The tokens a request is counted for before it is sent: its text's characters / 4
    (rounded up) plus 4 per message, plus `max_tokens` or `limits.default_output_tokens`.
    Images, tools and schemas are not counted; the real usage settles the difference."""
    chars = 0
    for message in request.messages:
        if isinstance(message.content, str):
            chars += len(message.content)
        else:
            chars += sum(len(getattr(part, "text", "")) for part in message.content)
    prompt = math.ceil(chars / CHARS_PER_TOKEN) + TOKENS_PER_MESSAGE * len(request.messages)
    output = request.max_tokens if request.max_tokens is not None else limits.default_output_tokens
    return prompt + output


def used_tokens(usage: Usage | None) -> int | None:
    """The tokens a finished call really took, when the provider said."""
    if usage is None:
        return None
    return usage.input_tokens + usage.output_tokens


def check_fits(key: LimitKey, limits: Limits, tokens: int) -> None:
    """A request larger than the whole bucket would wait for ever: refuse it now."""
    if limits.tokens_per_minute is None:
        return
    capacity = limits.tokens_per_minute * limits.burst_seconds / 60
    if tokens > capacity:
        raise LimitExceededError(
            f"the request is estimated at {tokens} tokens, more than {key}'s bucket holds "
            f"({capacity:g}: tokens_per_minute={limits.tokens_per_minute:g}, "
            f"burst_seconds={limits.burst_seconds:g}): lower max_tokens or shorten the "
            "prompt, or raise tokens_per_minute or burst_seconds",
            provider=key.provider,
        )


@dataclass(slots=True, eq=False)
class Permit:
    """Held by one call from before it is sent until it ends: settle it with the real
    usage (or None when unknown) exactly once; settling again does nothing."""

    limiter: RateLimiter = field(repr=False)
    key: LimitKey
    tokens: int
    # the backend's own name for this holder (Redis: its entry in the concurrency set)
    holder: str = ""
    settled: bool = False

    def settle(self, usage: Usage | None = None, rate_limits: RateLimits | None = None) -> None:
        """Ends the permit with the call's real usage, and learns from the rate-limit
        headers of its response where there were any."""
        if not self.settled:
            self.settled = True
            if rate_limits:
                self.limiter.observe(self.key, rate_limits)
            self.limiter.settle(self, used_tokens(usage))

    async def settle_async(
        self, usage: Usage | None = None, rate_limits: RateLimits | None = None
    ) -> None:
        if not self.settled:
            self.settled = True
            if rate_limits:
                await self.limiter.observe_async(self.key, rate_limits)
            await self.limiter.settle_async(self, used_tokens(usage))

    def abandon(self) -> None:
        """Settles without I/O where the backend can (a dropped stream's finalizer); a
        shared backend lets the holder's lease expire instead."""
        if not self.settled:
            self.settled = True
            self.limiter.abandon(self)


class RateLimiter(Protocol):
    """What a client asks of a limiter. `Limiter` and `RedisLimiter` are the two kinds."""

    def acquire(self, key: LimitKey, request: CompletionRequest) -> Permit | None:
        """Waits until the call may go; None when no limit applies to the key."""
        ...

    async def acquire_async(self, key: LimitKey, request: CompletionRequest) -> Permit | None: ...

    def settle(self, permit: Permit, used_tokens: int | None) -> None: ...

    async def settle_async(self, permit: Permit, used_tokens: int | None) -> None: ...

    def abandon(self, permit: Permit) -> None: ...

    def observe(self, key: LimitKey, rate_limits: RateLimits) -> None:
        """Learns from the provider's own figures: a bucket never holds more than the
        provider says remains, and one the provider says is empty stays empty until its
        reset."""
        ...

    async def observe_async(self, key: LimitKey, rate_limits: RateLimits) -> None: ...


def limiter_from(limits: Limits | RateLimiter | None) -> RateLimiter | None:
    """A client's `limits=`: a `Limits` gets a limiter of its own, a limiter is shared."""
    if limits is None:
        return None
    if isinstance(limits, Limits):
        from ._local import Limiter

        return Limiter(limits)
    if not callable(getattr(limits, "acquire_async", None)):
        raise ConfigurationError(
            f"limits={limits!r}: give a modelwire.limits.Limits, Limiter or RedisLimiter"
        )
    return limits
