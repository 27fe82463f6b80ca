"""modelwire at service scale: many calls through one async fallback chain with limits.

    python bench/scale.py [--requests 10000] [--streams 1000] [--chunks 200] [--fail-every 10]

Each part runs in a fresh process against its own `server.py` (so that the server's
count of failed requests, and the process's peak RSS, start from nothing). The chain is
`modelwire.fallback(primary, secondary)`: the primary an `AsyncAnthropic` whose base URL
has the server's `/fail/<N>` prefix, so that exactly one request in N answers 529
`overloaded_error` before any content, with `max_retries=0`, so that the chain (not the
client's own retries) handles it; the secondary an `AsyncOpenAI` that never fails. Both
take `limits=Limits(max_concurrency=..., requests_per_minute=...)`, the rate high enough
never to throttle the run.

1. `requests`: `--requests` non-streamed completions, from twice `--concurrency` workers,
   so the limiter always has waiters. Wall time, requests/s, CPU per request, how many
   the secondary answered (it must be exactly the number the server failed), and RSS
   sampled after each of `--slices` equal slices: the growth per request from the end of
   the first slice (imports, pools and validators warmed up) to the end, as the slope of
   a least-squares line, must stay within `--max-growth` bytes.
2. `streams`: `--streams` concurrent streams of `--chunks` chunks each through the same
   kind of chain, with `max_concurrency` and the pools as large as the number of streams.
   Wall time, peak RSS per stream (growth of `ru_maxrss` during the run, after one
   warm-up stream), CPU per chunk.

After each part, every client's httpcore pool must hold no checked-out connection and
its limiter no permit. Every answer's text is checked. The run exits with status 1 when a
call failed, a text differs, the secondary's count is not the server's, a connection or a
permit is left held, or memory grows beyond the bound. CPU is `time.process_time()` of
the client process alone; the server runs in its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import payloads

HERE = Path(__file__).resolve().parent
SDK = HERE.parent / "sdk"
MESSAGES = [{"role": "user", "content": "Say hello"}]
PAGE = os.sysconf("SC_PAGE_SIZE")
CHILD_TIMEOUT = 900.0


# --------------------------------------------------------------------------- measures


def current_rss() -> int:
    """The process's resident set now, in bytes (not its peak)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


def peak_rss() -> int:
    """The process's peak resident set so far, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def growth_per_request(samples: Sequence[tuple[int, int]]) -> float:
    """The slope, in bytes per request, of the least-squares line through
    `(requests done, RSS)` samples; 0.0 with fewer than two samples."""
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mean_x = sum(x for x, _ in samples) / n
    mean_y = sum(y for _, y in samples) / n
    spread = sum((x - mean_x) ** 2 for x, _ in samples)
    if spread == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in samples) / spread


def expected_failures(calls: int, every: int, before: int = 0) -> int:
    """How many of `calls` requests the server fails with `/fail/<every>`, after
    `before` requests it has already counted (one in `every`, counted from the first)."""
    if every <= 0:
        return 0
    return (before + calls) // every - before // every


def pool_problems(client: Any) -> list[str]:
    """What a client still holds after its calls ended: httpcore pool requests (one per
    response left open), connections neither idle nor closed, limiter permits in flight."""
    pool = client._http._transport._pool
    problems = []
    if pool._requests:
        problems.append(f"{len(pool._requests)} responses still hold connections")
    busy = [c for c in pool.connections if not (c.is_idle() or c.is_closed())]
    if busy:
        problems.append(f"{len(busy)} connections still checked out")
    limiter = client._limiter
    if limiter is not None:
        from modelwire.limits import LimitKey

        held = limiter.in_flight(LimitKey(client.spec.name, client.model))
        if held:
            problems.append(f"{held} limiter permits still held")
    return problems


# --------------------------------------------------------------------------- the chain


def make_chain(base: str, args: argparse.Namespace, *, concurrency: int, pool: int | None) -> Any:
    import httpx
    import modelwire

    limits = modelwire.Limits(max_concurrency=concurrency, requests_per_minute=args.rpm)

    def http() -> httpx.AsyncClient | None:
        if pool is None:
            return None  # the client's own, with its pool mended after cancellations
        size = httpx.Limits(max_connections=pool, max_keepalive_connections=pool)
        return httpx.AsyncClient(limits=size, timeout=60.0)

    prefix = f"/n/{args.chunks}" if args.part == "streams" else ""
    primary = modelwire.AsyncAnthropic(
        api_key="sk-bench",
        base_url=f"{base}/fail/{args.fail_every}{prefix}",
        model=payloads.MODELS["anthropic"],
        max_retries=0,
        limits=limits,
        http_client=http(),
    )
    secondary = modelwire.AsyncOpenAI(
        api_key="sk-bench",
        base_url=f"{base}{prefix}/v1",
        model=payloads.MODELS["openai"],
        limits=limits,
        http_client=http(),
    )
    return modelwire.fallback(primary, secondary)


def answered_by_secondary(attempts: Sequence[Any]) -> bool:
    return bool(attempts) and attempts[-1].index == 1


# --------------------------------------------------------------------------- the parts


async def requests_part(base: str, args: argparse.Namespace) -> dict[str, Any]:
    import modelwire

    chain = make_chain(base, args, concurrency=args.concurrency, pool=None)
    warm = await chain.complete(messages=MESSAGES, max_tokens=16)  # imports, first connection
    failed: list[str] = []
    wrong = 0
    secondary = 0
    started = 0
    done = 0
    slice_size = max(args.requests // args.slices, 1)
    samples: list[tuple[int, int]] = []
    traced: list[tuple[int, int]] = []  # with --tracemalloc: the Python heap, from slice 1

    async def worker() -> None:
        nonlocal started, done, wrong, secondary
        while started < args.requests:
            started += 1
            try:
                response = await chain.complete(messages=MESSAGES, max_tokens=16)
            except modelwire.ProviderError as error:
                failed.append(f"{type(error).__name__}: {error}")
            else:
                wrong += response.content != payloads.COMPLETION_TEXT
                secondary += answered_by_secondary(response.fallback_attempts)
            done += 1
            if done % slice_size == 0:
                samples.append((done, current_rss()))
                if args.tracemalloc:
                    if done == slice_size:
                        tracemalloc.start()
                    traced.append((done, tracemalloc.get_traced_memory()[0]))

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(2 * args.concurrency)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    tracemalloc.stop()
    problems = {c.spec.name: pool_problems(c) for c in chain.clients}
    await chain.close()
    expected = expected_failures(args.requests, args.fail_every, before=1)
    return {
        "requests": args.requests,
        "warm_up_by_secondary": answered_by_secondary(warm.fallback_attempts),
        "concurrency": args.concurrency,
        "workers": 2 * args.concurrency,
        "wall_s": wall,
        "requests_per_s": args.requests / wall,
        "cpu_us_per_request": cpu / args.requests * 1e6,
        "by_secondary": secondary,
        "expected_by_secondary": expected,
        "failed": len(failed),
        "first_failure": failed[0] if failed else None,
        "wrong_text": wrong,
        "rss_samples": samples,
        "growth_bytes_per_request": growth_per_request(samples[1:] if len(samples) > 2 else []),
        "traced_samples": traced,
        # from the second slice on, as for RSS: the first holds the caches filling
        "traced_growth_bytes_per_request": growth_per_request(traced[1:]) if traced else None,
        "pool_problems": problems,
    }


async def streams_part(base: str, args: argparse.Namespace) -> dict[str, Any]:
    import modelwire

    chain = make_chain(base, args, concurrency=args.streams, pool=args.streams)
    expected_text = payloads.expected_text(args.chunks)
    failed: list[str] = []
    wrong = 0
    secondary = 0

    async def one() -> None:
        nonlocal wrong, secondary
        try:
            async with await chain.stream_completion(messages=MESSAGES, max_tokens=16) as stream:
                text = "".join([chunk.content async for chunk in stream if chunk.content])
                wrong += text != expected_text
                secondary += answered_by_secondary(stream.fallback_attempts)
        except modelwire.ProviderError as error:
            failed.append(f"{type(error).__name__}: {error}")

    await one()  # imports, first connections, first-use costs
    failed.clear()
    wrong = secondary = 0
    rss, cpu, wall = peak_rss(), time.process_time(), time.perf_counter()
    await asyncio.gather(*(one() for _ in range(args.streams)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    grown = peak_rss() - rss
    problems = {c.spec.name: pool_problems(c) for c in chain.clients}
    await chain.close()
    return {
        "streams": args.streams,
        "chunks": args.chunks,
        "wall_s": wall,
        "peak_rss_kib_per_stream": grown / args.streams / 1024,
        "cpu_us_per_chunk": cpu / (args.streams * args.chunks) * 1e6,
        "by_secondary": secondary,
        "expected_by_secondary": expected_failures(args.streams, args.fail_every, before=1),
        "failed": len(failed),
        "first_failure": failed[0] if failed else None,
        "wrong_text": wrong,
        "pool_problems": problems,
    }


def verdict(result: dict[str, Any], max_growth: float) -> list[str]:
    """Why a part's result fails the run; empty when it passes."""
    reasons = []
    if result["failed"]:
        reasons.append(f"{result['failed']} calls failed, first: {result['first_failure']}")
    if result["wrong_text"]:
        reasons.append(f"{result['wrong_text']} answers differ from the text the server sent")
    if result["by_secondary"] != result["expected_by_secondary"]:
        reasons.append(
            f"the secondary answered {result['by_secondary']}, the server failed "
            f"{result['expected_by_secondary']}"
        )
    for provider, problems in result["pool_problems"].items():
        reasons += [f"{provider}: {problem}" for problem in problems]
    growth = result.get("growth_bytes_per_request")
    if growth is not None and growth > max_growth:
        reasons.append(f"RSS grew {growth:.1f} bytes per request, more than {max_growth:g}")
    return reasons


# --------------------------------------------------------------------------- processes


def child_env() -> dict[str, str]:
    """modelwire from the installed package, else from sdk/ (as run.py does)."""
    import importlib.util

    env = dict(os.environ)
    if importlib.util.find_spec("modelwire") is None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SDK), env.get("PYTHONPATH")]))
    return env


def run_part(part: str, argv: list[str]) -> dict[str, Any]:
    """Runs one part in a fresh process, against a fresh server."""
    env = child_env()
    command = [sys.executable, str(HERE / "server.py"), "--precompute", "200"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert server.stdout is not None
        ready = server.stdout.readline().split()
        if ready[:1] != ["READY"]:
            raise RuntimeError(f"the bench server did not start: {ready!r}")
        base = f"http://127.0.0.1:{ready[1]}"
        child = [sys.executable, __file__, *argv, "--part", part, "--base", base]
        done = subprocess.run(child, env=env, capture_output=True, text=True, timeout=CHILD_TIMEOUT)
    finally:
        server.terminate()
        server.wait(timeout=10)
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
        raise RuntimeError(f"the {part} part failed: {lines[-1]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def report(part: str, result: dict[str, Any]) -> str:
    secondary = f"{result['by_secondary']} (server failed {result['expected_by_secondary']})"
    if part == "requests":
        return "\n".join(
            [
                f"requests: {result['requests']:,} non-streamed, {result['workers']} workers, "
                f"max_concurrency={result['concurrency']}",
                f"  wall {result['wall_s']:.2f} s, {result['requests_per_s']:,.0f} requests/s, "
                f"{result['cpu_us_per_request']:.0f} µs CPU per request",
                f"  by the secondary: {secondary}; failed: {result['failed']}",
                "  RSS MiB after each slice: "
                + " ".join(f"{rss / 2**20:.1f}" for _, rss in result["rss_samples"]),
                f"  growth from the second slice on: "
                f"{result['growth_bytes_per_request']:.1f} bytes per request",
            ]
            + (
                [
                    "  traced Python heap KiB after each slice from the first: "
                    + " ".join(f"{size / 1024:.0f}" for _, size in result["traced_samples"]),
                    f"  traced growth from the second slice on: {traced:.1f} bytes per request",
                ]
                if (traced := result.get("traced_growth_bytes_per_request")) is not None
                else []
            )
        )
    return "\n".join(
        [
            f"streams: {result['streams']:,} concurrent, {result['chunks']} chunks each",
            f"  wall {result['wall_s']:.2f} s, {result['peak_rss_kib_per_stream']:.1f} KiB peak "
            f"RSS per stream, {result['cpu_us_per_chunk']:.2f} µs CPU per chunk",
            f"  by the secondary: {secondary}; failed: {result['failed']}",
        ]
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=64, help="max_concurrency, requests")
    parser.add_argument("--streams", type=int, default=1_000)
    parser.add_argument("--chunks", type=int, default=200)
    parser.add_argument("--fail-every", type=int, default=10, help="the primary fails 1 in N")
    parser.add_argument("--rpm", type=float, default=10_000_000, help="requests_per_minute")
    parser.add_argument("--slices", type=int, default=10)
    parser.add_argument(
        "--max-growth", type=float, default=1024, help="bytes of RSS per request, at most"
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also trace the Python heap from the end of the first slice (slower)",
    )
    parser.add_argument("--json", type=Path, help="also write the results there")
    parser.add_argument("--part", choices=["requests", "streams"], help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.part:  # a child: one part, its result as JSON on the last line
        measure = requests_part if args.part == "requests" else streams_part
        print(json.dumps(asyncio.run(measure(args.base, args))))
        return 0
    names = ("requests", "concurrency", "streams", "chunks", "fail_every", "rpm", "slices")
    passthrough = [f"--{name.replace('_', '-')}={getattr(args, name)}" for name in names]
    passthrough += ["--tracemalloc"] if args.tracemalloc else []
    results: dict[str, Any] = {"load_average_at_start": os.getloadavg(), "cores": os.cpu_count()}
    reasons: list[str] = []
    for part in ("requests", "streams"):
        result = run_part(part, passthrough)
        results[part] = result
        print(report(part, result), flush=True)
        failures = verdict(result, args.max_growth)
        reasons += [f"{part}: {reason}" for reason in failures]
        problems = [p for ps in result["pool_problems"].values() for p in ps]
        print(f"  pools after the run: {'; '.join(problems) or 'clean'}", flush=True)
    results["load_average_at_end"] = os.getloadavg()
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    for reason in reasons:
        print(f"FAILED {reason}", file=sys.stderr)
    return 1 if reasons else 0


if __name__ == "__main__":
    sys.exit(main())
