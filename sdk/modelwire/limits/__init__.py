"""Client-side limits: how many calls run at once, and how many requests and tokens a
minute go to each provider and model.

A `Limiter` holds the limits and their state in this process; `RedisLimiter` (the
`redis` extra) keeps the same state in Redis, shared by every process that uses it. A
client takes either as `limits=` (or a bare `Limits`, for a limiter of its own), and asks
it for a `Permit` before each completion and settles it with the real usage after.

Tokens are estimated before the call (`estimate_tokens`): the prompt's characters / 4,
plus 4 per message, plus `max_tokens` (or the limits' `default_output_tokens`); the
estimate is reconciled with the response's usage when the call ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._base import (
    LimitKey,
    Limits,
    Permit,
    RateLimiter,
    estimate_tokens,
    limiter_from,
)
from ._local import Limiter

if TYPE_CHECKING:
    from ._redis import RedisLimiter

__all__ = [
    "LimitKey",
    "Limiter",
    "Limits",
    "Permit",
    "RateLimiter",
    "RedisLimiter",
    "estimate_tokens",
    "limiter_from",
]


def __getattr__(name: str) -> Any:
    # the Redis backend imports the optional `redis` package: only when asked for
    if name == "RedisLimiter":
        from ._redis import RedisLimiter

        return RedisLimiter
    raise AttributeError(f"module 'modelwire.limits' has no attribute {name!r}")
