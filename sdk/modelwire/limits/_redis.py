"""The shared limiter: the same limits as `Limiter`, with their state in Redis, so that
every process and machine pointed at one Redis shares them (a fleet of workers).

Each step is one Lua script that Redis runs atomically: the token buckets are refilled
from Redis's own clock (`TIME`, so the workers' clocks do not matter) and taken from in
the same script; calls in flight are a sorted set of holders, each with a lease that
expires, so a worker that dies never keeps its slot for longer than `lease`. This is the
usual token-bucket-in-Lua pattern; nothing else coordinates the workers.

Every Redis call has `timeout` seconds. When Redis does not answer, acquiring raises
`LimiterUnavailableError` (nothing is sent), or uses `fallback`, an in-process `Limiter`,
when one is given; settling logs at DEBUG and leaves the holder to its lease.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError, LimiterUnavailableError
from ._base import (
    LimitKey,
    Limits,
    Permit,
    check_fits,
    estimate_tokens,
    limits_for,
)

try:
    import redis
    import redis.asyncio
    from redis.backoff import NoBackoff
    from redis.retry import Retry
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError(
        'modelwire.limits.RedisLimiter needs the redis package: pip install "modelwire[redis]"'
    ) from exc

if TYPE_CHECKING:
    from ..types import CompletionRequest, RateLimits
    from ._local import Limiter

logger = logging.getLogger("modelwire")

# Refills bucket `p` (fields p..'level', p..'updated', p..'blocked' of KEYS[1]), which
# gains `rate` a minute up to `rate * burst / 60`, to `now`; returns its level, the time it
# is blocked until and its capacity. ARGV[1] is always `burst`. Shared by the scripts.
_REFILL = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local burst = tonumber(ARGV[1])
local function refill(p, rate)
  local cap = rate * burst / 60
  local v = redis.call('HMGET', KEYS[1], p .. 'level', p .. 'updated', p .. 'blocked')
  local level = tonumber(v[1]) or cap
  local updated = tonumber(v[2]) or now
  level = math.min(cap, level + math.max(0, now - updated) * rate / 60)
  return level, tonumber(v[3]) or 0, cap
end
local function store(p, level)
  redis.call('HSET', KEYS[1], p .. 'level', tostring(level), p .. 'updated', tostring(now))
end
local function keep(lease)
  -- a bucket left alone refills within a minute: its keys need not outlive that
  local ms = math.ceil((60 + lease) * 1000)
  redis.call('PEXPIRE', KEYS[1], ms)
  redis.call('PEXPIRE', KEYS[2], ms)
end
"""

# KEYS: buckets, holders. ARGV: burst, rpm, tpm, max_concurrency (0: none), tokens,
# holder, lease. Returns {1, 0} when taken, else {0, milliseconds to wait} (-1: wait for a
# free slot).
_ACQUIRE = (
    _REFILL
    + """
local rpm, tpm, conc = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local tokens, holder, lease = tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7])
local wait = 0
local rl, tl
local function need(p, rate, amount)
  local level, blocked = refill(p, rate)
  if now < blocked then
    wait = math.max(wait, blocked - now)
  elseif level < amount then
    wait = math.max(wait, (amount - level) * 60 / rate)
  end
  return level
end
if rpm > 0 then rl = need('r_', rpm, 1) end
if tpm > 0 then tl = need('t_', tpm, tokens) end
if wait > 0 then return {0, math.ceil(wait * 1000)} end
if conc > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  if redis.call('ZCARD', KEYS[2]) >= conc then return {0, -1} end
  redis.call('ZADD', KEYS[2], now + lease, holder)
end
if rpm > 0 then store('r_', rl - 1) end
if tpm > 0 then store('t_', tl - tokens) end
keep(lease)
return {1, 0}
"""
)

# KEYS: buckets, holders. ARGV: burst, tpm, holder, estimated tokens, used tokens (-1:
# unknown), lease.
_SETTLE = (
    _REFILL
    + """
local tpm, holder = tonumber(ARGV[2]), ARGV[3]
local estimated, used = tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('ZREM', KEYS[2], holder)
if tpm > 0 and used >= 0 then
  local level, blocked, cap = refill('t_', tpm)
  store('t_', math.min(cap, level + estimated - used))
  keep(tonumber(ARGV[6]))
end
return 1
"""
)

# KEYS: buckets, holders. ARGV: burst, rpm, tpm, then remaining and reset for requests and
# for tokens ('' where the provider said nothing), lease.
_OBSERVE = (
    _REFILL
    + """
local rates = {r_ = tonumber(ARGV[2]), t_ = tonumber(ARGV[3])}
local given = {r_ = {ARGV[4], ARGV[5]}, t_ = {ARGV[6], ARGV[7]}}
for p, rate in pairs(rates) do
  local remaining, reset = tonumber(given[p][1]), tonumber(given[p][2])
  if rate > 0 and remaining then
    local level, blocked = refill(p, rate)
    store(p, math.min(level, remaining))
    if remaining <= 0 and reset then
      redis.call('HSET', KEYS[1], p .. 'blocked', tostring(math.max(blocked, now + reset)))
    end
  end
end
keep(tonumber(ARGV[8]))
return 1
"""
)


_SCRIPTS = {"acquire": _ACQUIRE, "settle": _SETTLE, "observe": _OBSERVE}


def _figure(value: float | None) -> float:
    return 0 if value is None else value


def _given(value: float | None) -> str:
    return "" if value is None else repr(float(value))


class RedisLimiter:
    """Limits shared through Redis by every process that uses the same `url` and `prefix`.

    `default` and `models` are read as by `Limiter`; every process must give the same.
    `timeout`: seconds for each Redis call (connecting included). `lease`: how long a
    call in flight may hold its slot before Redis frees it (longer than any call lasts).
    `poll_interval`: how often a call waiting for a free slot asks again.
    """

    def __init__(
        self,
        default: Limits | None = None,
        *,
        url: str = "redis://localhost:6379/0",
        models: Mapping[str, Limits] | None = None,
        prefix: str = "modelwire",
        timeout: float = 1.0,
        lease: float = 600.0,
        poll_interval: float = 0.05,
        fallback: Limiter | None = None,
    ) -> None:
        if not timeout > 0 or not lease > 0 or not poll_interval > 0:
            raise ConfigurationError(
                "RedisLimiter: timeout, lease and poll_interval must be above 0 "
                f"(got {timeout!r}, {lease!r}, {poll_interval!r})"
            )
        self.default = default
        self.models = dict(models or {})
        self.prefix = prefix
        self.timeout = timeout
        self.lease = lease
        self.poll_interval = poll_interval
        self.fallback = fallback
        options: dict[str, Any] = {
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
            # one attempt per call: a retry would stretch the timeout we promise
            "retry": Retry(NoBackoff(), 0),
        }
        self._url = url
        self._options = options
        self._sync = redis.Redis.from_url(url, **options)
        pool = self._sync.connection_pool.connection_kwargs
        # where, for messages: never the URL, which may hold a password
        self._where = f"{pool.get('host', '?')}:{pool.get('port', '?')}"
        self._scripts = {name: self._sync.register_script(lua) for name, lua in _SCRIPTS.items()}
        # redis.asyncio connections belong to the event loop that opened them: per loop, a
        # client and its scripts
        self._async: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[Any, dict[str, Any]]
        ] = weakref.WeakKeyDictionary()

    def __repr__(self) -> str:
        return f"RedisLimiter({self.default!r}, at {self._where}, prefix={self.prefix!r})"

    def close(self) -> None:
        """Closes the sync connections (the async ones: `aclose()` in their loop)."""
        self._sync.close()

    async def aclose(self) -> None:
        made = self._async.pop(asyncio.get_running_loop(), None)
        if made is not None:
            await made[0].aclose()

    # ------------------------------------------------------------------ the keys

    def _keys(self, key: LimitKey) -> list[str]:
        # one hash tag, so that both keys live on the same node of a Redis Cluster
        tag = f"{{{self.prefix}:{key}}}"
        return [f"{tag}:buckets", f"{tag}:holders"]

    def _acquire_args(self, limits: Limits, permit: Permit) -> list[Any]:
        return [
            limits.burst_seconds,
            _figure(limits.requests_per_minute),
            _figure(limits.tokens_per_minute),
            limits.max_concurrency or 0,
            permit.tokens,
            permit.holder,
            self.lease,
        ]

    def _settle_args(self, permit: Permit, used_tokens: int | None) -> list[Any]:
        limits = limits_for(permit.key, self.default, self.models) or Limits()
        return [
            limits.burst_seconds,
            _figure(limits.tokens_per_minute),
            permit.holder,
            permit.tokens,
            -1 if used_tokens is None else used_tokens,
            self.lease,
        ]

    def _permit(self, key: LimitKey, request: CompletionRequest) -> tuple[Limits, Permit] | None:
        limits = limits_for(key, self.default, self.models)
        if limits is None:
            return None
        permit = Permit(self, key, estimate_tokens(request, limits), holder=uuid.uuid4().hex)
        check_fits(key, limits, permit.tokens)
        return limits, permit

    def _unavailable(self, exc: BaseException) -> LimiterUnavailableError:
        return LimiterUnavailableError(
            f"the shared limiter's Redis at {self._where} did not answer within "
            f"{self.timeout:g} s ({type(exc).__name__}); nothing was sent. Check that Redis "
            "is up, or give RedisLimiter(fallback=Limiter(...)) to go on with limits of "
            "this process alone while it is down",
            retryable=True,
        )

    def _wait(self, answer: Any) -> float:
        taken, milliseconds = int(answer[0]), int(answer[1])
        if taken:
            return 0.0
        return self.poll_interval if milliseconds < 0 else milliseconds / 1000

    # ------------------------------------------------------------------ sync

    def acquire(self, key: LimitKey, request: CompletionRequest) -> Permit | None:
        import time

        prepared = self._permit(key, request)
        if prepared is None:
            return None
        limits, permit = prepared
        keys, args = self._keys(key), self._acquire_args(limits, permit)
        while True:
            try:
                wait = self._wait(self._scripts["acquire"](keys=keys, args=args))
            except (redis.RedisError, OSError) as exc:
                if self.fallback is None:
                    raise self._unavailable(exc) from exc
                logger.info("limiter: Redis at %s is down, limiting in-process", self._where)
                return self.fallback.acquire(key, request)
            if not wait:
                return permit
            time.sleep(wait)

    def settle(self, permit: Permit, used_tokens: int | None) -> None:
        try:
            self._scripts["settle"](
                keys=self._keys(permit.key), args=self._settle_args(permit, used_tokens)
            )
        except (redis.RedisError, OSError) as exc:
            # the call itself went well: its slot goes when its lease ends
            logger.debug("limiter: could not settle with Redis at %s: %r", self._where, exc)

    def abandon(self, permit: Permit) -> None:
        """A dropped stream's finalizer does no I/O: the holder's lease frees the slot."""

    def observe(self, key: LimitKey, rate_limits: RateLimits) -> None:
        args = self._observe_args(key, rate_limits)
        if args is None:
            return
        try:
            self._scripts["observe"](keys=self._keys(key), args=args)
        except (redis.RedisError, OSError) as exc:
            logger.debug("limiter: could not update Redis at %s: %r", self._where, exc)

    async def observe_async(self, key: LimitKey, rate_limits: RateLimits) -> None:
        args = self._observe_args(key, rate_limits)
        if args is None:
            return
        try:
            await self._run_async("observe", self._keys(key), args)
        except (redis.RedisError, OSError, asyncio.TimeoutError) as exc:
            logger.debug("limiter: could not update Redis at %s: %r", self._where, exc)

    def _observe_args(self, key: LimitKey, rate_limits: RateLimits) -> list[Any] | None:
        limits = limits_for(key, self.default, self.models)
        if limits is None:
            return None
        args: list[Any] = [
            limits.burst_seconds,
            _figure(limits.requests_per_minute),
            _figure(limits.tokens_per_minute),
            _given(rate_limits.requests.remaining),
            _given(rate_limits.requests.reset_after),
            _given(rate_limits.tokens.remaining),
            _given(rate_limits.tokens.reset_after),
            self.lease,
        ]
        return args

    # ------------------------------------------------------------------ async

    def _async_scripts(self) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        made = self._async.get(loop)
        if made is None:
            client = redis.asyncio.Redis.from_url(self._url, **self._options)
            made = client, {name: client.register_script(lua) for name, lua in _SCRIPTS.items()}
            self._async[loop] = made
        return made[1]

    async def _run_async(self, name: str, keys: list[str], args: list[Any]) -> Any:
        script = self._async_scripts()[name]
        # redis-py's own timeouts bound each socket step; this bounds the whole call
        return await asyncio.wait_for(script(keys=keys, args=args), self.timeout * 2)

    async def acquire_async(self, key: LimitKey, request: CompletionRequest) -> Permit | None:
        prepared = self._permit(key, request)
        if prepared is None:
            return None
        limits, permit = prepared
        keys, args = self._keys(key), self._acquire_args(limits, permit)
        while True:
            try:
                wait = self._wait(await self._run_async("acquire", keys, args))
            except (redis.RedisError, OSError, asyncio.TimeoutError) as exc:
                if self.fallback is None:
                    raise self._unavailable(exc) from exc
                logger.info("limiter: Redis at %s is down, limiting in-process", self._where)
                return await self.fallback.acquire_async(key, request)
            if not wait:
                return permit
            await asyncio.sleep(wait)

    async def settle_async(self, permit: Permit, used_tokens: int | None) -> None:
        try:
            await self._run_async(
                "settle", self._keys(permit.key), self._settle_args(permit, used_tokens)
            )
        except (redis.RedisError, OSError, asyncio.TimeoutError) as exc:
            logger.debug("limiter: could not settle with Redis at %s: %r", self._where, exc)
