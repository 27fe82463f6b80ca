"""How often a call is tried, and how long to wait between attempts: a plain value, set
per client and read by the call flow (`_core/flow.py`)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from .errors import ConfigurationError

DEFAULT_MAX_RETRIES = 2


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When and how long to wait before retrying; pass one as a client's `max_retries=`.

    `max_retries`: retries after the first attempt. Retry n waits
    `min(initial_delay * 2**(n-1), max_delay)` seconds with jitter, or the server's
    Retry-After when it sent one (up to `max_retry_after`; longer raises at once).
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    initial_delay: float = 0.5
    max_delay: float = 8.0
    # never sleep longer than this for a server's Retry-After: raise instead
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ConfigurationError("max_retries must be 0 or more")
        if min(self.initial_delay, self.max_delay, self.max_retry_after) < 0:
            raise ConfigurationError("retry delays must be 0 or more")

    @classmethod
    def coerce(cls, value: int | RetryPolicy | None) -> RetryPolicy:
        """A policy from a retry count (default delays), a policy, or the default."""
        if isinstance(value, RetryPolicy):
            return value
        return cls(max_retries=DEFAULT_MAX_RETRIES if value is None else value)

    def delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before retry number `attempt` (1-based), or None to give up."""
        if attempt > self.max_retries:
            return None
        if retry_after is not None:
            if retry_after > self.max_retry_after:
                return None
            return max(retry_after, 0.0)
        backoff: float = min(self.initial_delay * 2.0 ** (attempt - 1), self.max_delay)
        # jitter (half to all of the backoff) keeps clients that failed together from
        # retrying together
        return backoff * (0.5 + random.random() / 2)
