"""The in-process limiter: one lock over every key's buckets and count, used by threads
and event loops alike (a sync and an async client may share one)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ._base import (
    LimitKey,
    Limits,
    Permit,
    check_fits,
    estimate_tokens,
    limits_for,
)

if TYPE_CHECKING:
    from ..types import CompletionRequest, RateLimits

# A waiter for a free slot is woken by the release that frees it; this bound only covers
# a wake-up lost to a waiter whose event loop was busy.
MAX_SLEEP = 1.0


@dataclass(slots=True)
class _Bucket:
    """A token bucket holding `capacity`, refilled by `per_minute` evenly, starting full."""

    per_minute: float
    capacity: float
    level: float
    updated: float
    # set by observe(): the provider said it is empty until then
    blocked_until: float = 0.0

    def refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.updated) * self.per_minute / 60)
        self.updated = now

    def wait_for(self, amount: float, now: float) -> float:
        """Seconds until `amount` is there (0: it is)."""
        if now < self.blocked_until:
            return self.blocked_until - now
        missing = amount - self.level
        return 0.0 if missing <= 0 else missing * 60 / self.per_minute


@dataclass(slots=True)
class _State:
    limits: Limits
    requests: _Bucket | None
    tokens: _Bucket | None
    in_flight: int = 0
    wakers: set[Callable[[], None]] = field(default_factory=set)


class Limiter:
    """Limits in this process, for any number of clients (pass the same one to each).

    `Limiter(Limits(...))` limits every provider and model alike (each on its own);
    `models={"openai/gpt-4o": Limits(...), "anthropic": Limits(...)}` sets some apart
    ("provider/model" first, then "provider", then the default).
    """

    def __init__(
        self,
        default: Limits | None = None,
        *,
        models: Mapping[str, Limits] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.default = default
        self.models = dict(models or {})
        self._clock = clock
        # re-entrant: a dropped stream's finalizer may settle while this very thread holds
        # the lock (the garbage collector runs where it likes). A settle only frees room,
        # so one that lands inside another step can never let too much through.
        self._lock = threading.RLock()
        self._states: dict[LimitKey, _State] = {}

    def __repr__(self) -> str:
        return f"Limiter({self.default!r}, models={self.models!r})"

    # ------------------------------------------------------------------ acquiring

    def acquire(self, key: LimitKey, request: CompletionRequest) -> Permit | None:
        limits = limits_for(key, self.default, self.models)
        if limits is None:
            return None
        permit = Permit(self, key, estimate_tokens(request, limits))
        check_fits(key, limits, permit.tokens)
        woken = threading.Event()
        while (wait := self._try(key, limits, permit.tokens, woken.set)) > 0:
            woken.wait(min(wait, MAX_SLEEP))
            self._forget(key, woken.set)
            woken.clear()
        return permit

    async def acquire_async(self, key: LimitKey, request: CompletionRequest) -> Permit | None:
        limits = limits_for(key, self.default, self.models)
        if limits is None:
            return None
        permit = Permit(self, key, estimate_tokens(request, limits))
        check_fits(key, limits, permit.tokens)
        import asyncio  # here: a sync client's limiter need not import it

        loop = asyncio.get_running_loop()
        woken = asyncio.Event()

        def wake() -> None:  # called from whichever thread released
            loop.call_soon_threadsafe(woken.set)

        while (wait := self._try(key, limits, permit.tokens, wake)) > 0:
            try:
                await asyncio.wait_for(woken.wait(), min(wait, MAX_SLEEP))
            except asyncio.TimeoutError:  # the builtin one from 3.11 on
                pass
            finally:
                self._forget(key, wake)  # a cancelled waiter leaves nothing behind
            woken.clear()
        return permit

    def _try(self, key: LimitKey, limits: Limits, tokens: int, waker: Callable[[], None]) -> float:
        """Takes a slot, a request and the tokens if all are there (0.0); else registers
        `waker` and returns the seconds worth waiting before trying again."""
        now = self._clock()
        with self._lock:
            state = self._state(key, limits, now)
            waits = [
                bucket.wait_for(amount, now)
                for bucket, amount in ((state.requests, 1), (state.tokens, tokens))
                if bucket is not None
            ]
            if limits.max_concurrency is not None and state.in_flight >= limits.max_concurrency:
                waits.append(MAX_SLEEP)  # until a release wakes us
            wait = max(waits, default=0.0)
            if wait > 0:
                state.wakers.add(waker)
                return wait
            state.in_flight += 1
            if state.requests is not None:
                state.requests.level -= 1
            if state.tokens is not None:
                state.tokens.level -= tokens
            return 0.0

    def _forget(self, key: LimitKey, waker: Callable[[], None]) -> None:
        with self._lock:
            self._states[key].wakers.discard(waker)

    def _state(self, key: LimitKey, limits: Limits, now: float) -> _State:
        state = self._states.get(key)
        if state is None:

            def bucket(per_minute: float | None) -> _Bucket | None:
                if per_minute is None:
                    return None
                capacity = per_minute * limits.burst_seconds / 60
                return _Bucket(per_minute, capacity, capacity, now)

            state = _State(
                limits, bucket(limits.requests_per_minute), bucket(limits.tokens_per_minute)
            )
            self._states[key] = state
        for each in (state.requests, state.tokens):
            if each is not None:
                each.refill(now)
        return state

    # ------------------------------------------------------------------ settling

    def settle(self, permit: Permit, used_tokens: int | None) -> None:
        """Frees the permit's slot and gives back (or takes) the difference between its
        estimate and what the call really used."""
        with self._lock:
            state = self._states[permit.key]
            state.in_flight -= 1
            if state.tokens is not None and used_tokens is not None:
                state.tokens.refill(self._clock())
                # may go below zero: a call that used more than estimated is paid for by
                # the next ones waiting longer
                state.tokens.level = min(
                    state.tokens.capacity, state.tokens.level + permit.tokens - used_tokens
                )
            wakers = list(state.wakers)
        for wake in wakers:
            wake()

    async def settle_async(self, permit: Permit, used_tokens: int | None) -> None:
        self.settle(permit, used_tokens)

    def abandon(self, permit: Permit) -> None:
        self.settle(permit, None)

    # ------------------------------------------------------------------ learning

    async def observe_async(self, key: LimitKey, rate_limits: RateLimits) -> None:
        self.observe(key, rate_limits)

    def observe(self, key: LimitKey, rate_limits: RateLimits) -> None:
        limits = limits_for(key, self.default, self.models)
        if limits is None:
            return
        now = self._clock()
        with self._lock:
            state = self._state(key, limits, now)
            for bucket, remaining, reset in (
                (state.requests, rate_limits.requests.remaining, rate_limits.requests.reset_after),
                (state.tokens, rate_limits.tokens.remaining, rate_limits.tokens.reset_after),
            ):
                if bucket is None or remaining is None:
                    continue
                bucket.level = min(bucket.level, remaining)
                if remaining <= 0 and reset is not None:
                    bucket.blocked_until = max(bucket.blocked_until, now + reset)

    # ------------------------------------------------------------------ looking

    def in_flight(self, key: LimitKey) -> int:
        """Calls holding a permit for the key now."""
        with self._lock:
            state = self._states.get(key)
            return 0 if state is None else state.in_flight
