"""The client side of the bench: one measurement per fresh process.

    python bench/workloads.py '{"kind": "stream", "library": "openai", "mode": "sync", ...}'

`run.py` starts this once per measurement so that no import, connection pool or garbage
collector state carries over from one row to the next. It prints one line,
`BENCH-RESULT {json}`, and exits non-zero with the error on stderr if the row failed,
for example because the text a client consumed was not the text the server sent.

A library is plugged in by adapters: a factory that takes a `Setup`, builds one client,
and returns an `open()` callable that starts one request and yields the text of each item
the library hands to its user (`""` for items without text). Only the library under test
is imported, inside its factories.
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import json
import os
import resource
import socket
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import payloads

if TYPE_CHECKING:
    from anthropic.types import MessageParam
    from openai.types.chat import ChatCompletionMessageParam

SyncStream = Callable[[], Iterator[str]]
AsyncStream = Callable[[], AsyncIterator[str]]
SyncCall = Callable[[], str]
AsyncCall = Callable[[], Awaitable[str]]
F = TypeVar("F")

WARM_CHUNKS = 50
TIMEOUT = 120.0
MESSAGES = [{"role": "user", "content": "hi"}]
OPENAI_MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]
ANTHROPIC_MESSAGES: list[MessageParam] = [{"role": "user", "content": "hi"}]
PATH = {shape: path for path, shape in payloads.PATHS.items()}


class IncompleteStreamError(AssertionError):
    """The consumed text is not the text the server sent."""


@dataclass(frozen=True)
class Setup:
    server: str  # http://127.0.0.1:PORT
    shape: str
    chunks: int
    pool: int | None = None  # None: the library's default connection pool

    @property
    def base(self) -> str:
        """The server root seen by a client: the path prefix carries the chunk count."""
        return f"{self.server}/n/{self.chunks}"

    @property
    def model(self) -> str:
        return payloads.MODELS[self.shape]

    def request_body(self, *, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "messages": MESSAGES, "stream": stream}
        if self.shape == "anthropic":
            body["max_tokens"] = 1024
        return body


SYNC_STREAMS: dict[str, Callable[[Setup], SyncStream]] = {}
ASYNC_STREAMS: dict[str, Callable[[Setup], AsyncStream]] = {}
SYNC_CALLS: dict[str, Callable[[Setup], SyncCall]] = {}
ASYNC_CALLS: dict[str, Callable[[Setup], AsyncCall]] = {}


def register(table: dict[str, F], library: str) -> Callable[[F], F]:
    def add(factory: F) -> F:
        table[library] = factory
        return factory

    return add


# --------------------------------------------------------------------------- raw socket


@register(SYNC_STREAMS, "raw")
def raw_stream(setup: Setup) -> SyncStream:
    """The server's ceiling: a recv loop that only counts bytes. Complete means exactly the
    bytes of the precomputed response, up to the server closing the connection."""
    url = urlsplit(setup.server)
    address = (url.hostname or "127.0.0.1", url.port or 80)
    body = json.dumps(setup.request_body(stream=True)).encode()
    request = (
        f"POST /n/{setup.chunks}{PATH[setup.shape]} HTTP/1.1\r\nhost: {url.netloc}\r\n"
        f"content-type: application/json\r\ncontent-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    ).encode() + body
    expected = sum(map(len, payloads.stream_response(setup.shape, setup.chunks)))

    def open_() -> Iterator[str]:
        received = 0
        buffer = bytearray(64 * 1024)
        with socket.create_connection(address) as sock:
            sock.sendall(request)
            while count := sock.recv_into(buffer):
                received += count
        if received != expected:
            raise IncompleteStreamError(f"received {received} bytes, expected {expected}")
        yield payloads.expected_text(setup.chunks)

    return open_


# --------------------------------------------------------------------------- plain httpx


def _openai_line(line: str) -> str | None:
    if not line.startswith("data: ") or line == "data: [DONE]":
        return None
    choices = json.loads(line[6:])["choices"]
    return (choices[0]["delta"].get("content") or "") if choices else ""


def _anthropic_line(line: str) -> str | None:
    if not line.startswith("data: "):
        return None
    event = json.loads(line[6:])
    return event["delta"]["text"] if event["type"] == "content_block_delta" else ""


def _ollama_line(line: str) -> str | None:
    return json.loads(line)["message"]["content"] if line else None


LINE_PARSERS: dict[str, Callable[[str], str | None]] = {
    "openai": _openai_line,
    "anthropic": _anthropic_line,
    "ollama": _ollama_line,
}


def _httpx_options(setup: Setup) -> dict[str, Any]:
    import httpx

    options: dict[str, Any] = {"timeout": TIMEOUT}
    if setup.pool:
        options["limits"] = httpx.Limits(
            max_connections=setup.pool, max_keepalive_connections=setup.pool
        )
    return options


@register(SYNC_STREAMS, "httpx")
def httpx_stream(setup: Setup) -> SyncStream:
    import httpx

    client = httpx.Client(**_httpx_options(setup))
    url, body, parse = (
        setup.base + PATH[setup.shape],
        setup.request_body(stream=True),
        LINE_PARSERS[setup.shape],
    )

    def open_() -> Iterator[str]:
        with client.stream("POST", url, json=body) as response:
            response.raise_for_status()
            for line in response.iter_lines():
                if (text := parse(line)) is not None:
                    yield text

    return open_


@register(ASYNC_STREAMS, "httpx")
def httpx_astream(setup: Setup) -> AsyncStream:
    import httpx

    client = httpx.AsyncClient(**_httpx_options(setup))
    url, body, parse = (
        setup.base + PATH[setup.shape],
        setup.request_body(stream=True),
        LINE_PARSERS[setup.shape],
    )

    async def open_() -> AsyncIterator[str]:
        async with client.stream("POST", url, json=body) as response:
            response.raise_for_status()
            async for line in response.aiter_lines():
                if (text := parse(line)) is not None:
                    yield text

    return open_


@register(SYNC_CALLS, "httpx")
def httpx_call(setup: Setup) -> SyncCall:
    import httpx

    client = httpx.Client(**_httpx_options(setup))
    url, body = setup.base + PATH[setup.shape], setup.request_body(stream=False)

    def call() -> str:
        response = client.post(url, json=body)
        response.raise_for_status()
        return str(response.json()["choices"][0]["message"]["content"])

    return call


@register(ASYNC_CALLS, "httpx")
def httpx_acall(setup: Setup) -> AsyncCall:
    import httpx

    client = httpx.AsyncClient(**_httpx_options(setup))
    url, body = setup.base + PATH[setup.shape], setup.request_body(stream=False)

    async def call() -> str:
        response = await client.post(url, json=body)
        response.raise_for_status()
        return str(response.json()["choices"][0]["message"]["content"])

    return call


# --------------------------------------------------------------------------- modelwire

MODELWIRE_CLASSES = {
    "openai": ("OpenAI", "AsyncOpenAI"),
    "anthropic": ("Anthropic", "AsyncAnthropic"),
    "ollama": ("Ollama", "AsyncOllama"),
}


def _modelwire_client(setup: Setup, *, asynchronous: bool) -> Any:
    import httpx
    import modelwire

    options: dict[str, Any] = {
        "openai": {"api_key": "sk-bench", "base_url": setup.base + "/v1"},
        "anthropic": {"api_key": "sk-bench", "base_url": setup.base},
        "ollama": {"base_url": setup.base},
    }[setup.shape]
    if setup.pool:
        http = httpx.AsyncClient if asynchronous else httpx.Client
        options["http_client"] = http(**_httpx_options(setup))
    return getattr(modelwire, MODELWIRE_CLASSES[setup.shape][asynchronous])(**options)


def _modelwire_kwargs(setup: Setup) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"model": setup.model, "messages": MESSAGES}
    if setup.shape == "anthropic":
        kwargs["max_tokens"] = 1024
    return kwargs


@register(SYNC_STREAMS, "modelwire")
def modelwire_stream(setup: Setup) -> SyncStream:
    client, kwargs = _modelwire_client(setup, asynchronous=False), _modelwire_kwargs(setup)

    def open_() -> Iterator[str]:
        for chunk in client.stream_completion(**kwargs):
            yield chunk.content

    return open_


@register(ASYNC_STREAMS, "modelwire")
def modelwire_astream(setup: Setup) -> AsyncStream:
    client, kwargs = _modelwire_client(setup, asynchronous=True), _modelwire_kwargs(setup)

    async def open_() -> AsyncIterator[str]:
        async for chunk in await client.stream_completion(**kwargs):
            yield chunk.content

    return open_


@register(SYNC_CALLS, "modelwire")
def modelwire_call(setup: Setup) -> SyncCall:
    client, kwargs = _modelwire_client(setup, asynchronous=False), _modelwire_kwargs(setup)

    def call() -> str:
        return str(client.complete(**kwargs).content)

    return call


@register(ASYNC_CALLS, "modelwire")
def modelwire_acall(setup: Setup) -> AsyncCall:
    client, kwargs = _modelwire_client(setup, asynchronous=True), _modelwire_kwargs(setup)

    async def call() -> str:
        return str((await client.complete(**kwargs)).content)

    return call


# --------------------------------------------------------------------------- openai-python


def _openai_options(setup: Setup, *, asynchronous: bool) -> dict[str, Any]:
    options: dict[str, Any] = {"api_key": "sk-bench", "base_url": setup.base + "/v1"}
    if setup.pool:
        import httpx2  # what openai-python is built on since 3.x

        limits = httpx2.Limits(max_connections=setup.pool, max_keepalive_connections=setup.pool)
        http = httpx2.AsyncClient if asynchronous else httpx2.Client
        options["http_client"] = http(limits=limits, timeout=TIMEOUT)
    return options


def _openai_delta(chunk: Any) -> str:
    return (chunk.choices[0].delta.content or "") if chunk.choices else ""


@register(SYNC_STREAMS, "openai")
def openai_stream(setup: Setup) -> SyncStream:
    import openai

    client = openai.OpenAI(**_openai_options(setup, asynchronous=False))

    def open_() -> Iterator[str]:
        stream = client.chat.completions.create(
            model=setup.model, messages=OPENAI_MESSAGES, stream=True
        )
        for chunk in stream:
            yield _openai_delta(chunk)

    return open_


@register(ASYNC_STREAMS, "openai")
def openai_astream(setup: Setup) -> AsyncStream:
    import openai

    client = openai.AsyncOpenAI(**_openai_options(setup, asynchronous=True))

    async def open_() -> AsyncIterator[str]:
        stream = await client.chat.completions.create(
            model=setup.model, messages=OPENAI_MESSAGES, stream=True
        )
        async for chunk in stream:
            yield _openai_delta(chunk)

    return open_


@register(SYNC_CALLS, "openai")
def openai_call(setup: Setup) -> SyncCall:
    import openai

    client = openai.OpenAI(**_openai_options(setup, asynchronous=False))

    def call() -> str:
        completion = client.chat.completions.create(model=setup.model, messages=OPENAI_MESSAGES)
        return completion.choices[0].message.content or ""

    return call


@register(ASYNC_CALLS, "openai")
def openai_acall(setup: Setup) -> AsyncCall:
    import openai

    client = openai.AsyncOpenAI(**_openai_options(setup, asynchronous=True))

    async def call() -> str:
        completion = await client.chat.completions.create(
            model=setup.model, messages=OPENAI_MESSAGES
        )
        return completion.choices[0].message.content or ""

    return call


# --------------------------------------------------------------------------- anthropic-sdk-python


def _anthropic_text(event: Any) -> str:
    if event.type == "content_block_delta" and event.delta.type == "text_delta":
        return str(event.delta.text)
    return ""


@register(SYNC_STREAMS, "anthropic")
def anthropic_stream(setup: Setup) -> SyncStream:
    import anthropic

    client = anthropic.Anthropic(api_key="sk-bench", base_url=setup.base)

    def open_() -> Iterator[str]:
        stream = client.messages.create(
            model=setup.model, max_tokens=1024, messages=ANTHROPIC_MESSAGES, stream=True
        )
        for event in stream:
            yield _anthropic_text(event)

    return open_


@register(ASYNC_STREAMS, "anthropic")
def anthropic_astream(setup: Setup) -> AsyncStream:
    import anthropic

    client = anthropic.AsyncAnthropic(api_key="sk-bench", base_url=setup.base)

    async def open_() -> AsyncIterator[str]:
        stream = await client.messages.create(
            model=setup.model, max_tokens=1024, messages=ANTHROPIC_MESSAGES, stream=True
        )
        async for event in stream:
            yield _anthropic_text(event)

    return open_


@register(SYNC_STREAMS, "anthropic-text")
def anthropic_text_stream(setup: Setup) -> SyncStream:
    import anthropic

    client = anthropic.Anthropic(api_key="sk-bench", base_url=setup.base)

    def open_() -> Iterator[str]:
        with client.messages.stream(
            model=setup.model, max_tokens=1024, messages=ANTHROPIC_MESSAGES
        ) as stream:
            yield from stream.text_stream

    return open_


@register(ASYNC_STREAMS, "anthropic-text")
def anthropic_text_astream(setup: Setup) -> AsyncStream:
    import anthropic

    client = anthropic.AsyncAnthropic(api_key="sk-bench", base_url=setup.base)

    async def open_() -> AsyncIterator[str]:
        async with client.messages.stream(
            model=setup.model, max_tokens=1024, messages=ANTHROPIC_MESSAGES
        ) as stream:
            async for text in stream.text_stream:
                yield text

    return open_


# --------------------------------------------------------------------------- LiteLLM, ollama-python


@register(SYNC_STREAMS, "litellm")
def litellm_stream(setup: Setup) -> SyncStream:
    import litellm

    def open_() -> Iterator[str]:
        stream = litellm.completion(
            model="openai/" + setup.model,
            api_base=setup.base + "/v1",
            api_key="sk-bench",
            messages=MESSAGES,
            stream=True,
        )
        for chunk in stream:
            yield chunk.choices[0].delta.content or ""

    return open_


@register(SYNC_STREAMS, "ollama")
def ollama_stream(setup: Setup) -> SyncStream:
    import ollama

    client = ollama.Client(host=setup.base)

    def open_() -> Iterator[str]:
        for part in client.chat(model=setup.model, messages=MESSAGES, stream=True):
            yield part.message.content or ""

    return open_


@register(ASYNC_STREAMS, "ollama")
def ollama_astream(setup: Setup) -> AsyncStream:
    import ollama

    client = ollama.AsyncClient(host=setup.base)

    async def open_() -> AsyncIterator[str]:
        async for part in await client.chat(model=setup.model, messages=MESSAGES, stream=True):
            yield part.message.content or ""

    return open_


# --------------------------------------------------------------------------- measurements


class Clock:
    """Wall and CPU time (this process, all threads) of a `with` block.

    With `BENCH_PROFILE=out.prof` in the environment the block also runs under cProfile
    and its stats are written there (`python -m pstats out.prof`); its times then include
    the profiler's overhead.
    """

    def __enter__(self) -> Clock:
        self._profile = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None
        if self._profile:
            self._profile.enable()
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu
        if self._profile:
            self._profile.disable()
            self._profile.dump_stats(os.environ["BENCH_PROFILE"])


def check(parts: list[str], chunks: int) -> None:
    text, expected = "".join(parts), payloads.expected_text(chunks)
    if text != expected:
        at = next(
            (i for i, (a, b) in enumerate(zip(text, expected, strict=False)) if a != b), len(text)
        )
        raise IncompleteStreamError(
            f"consumed {len(text)} chars, expected {len(expected)}; first difference at "
            f"{at}: {text[at : at + 20]!r} != {expected[at : at + 20]!r}"
        )


def max_rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _setup(task: dict[str, Any], chunks: int, pool: int | None = None) -> Setup:
    return Setup(task["server"], task["shape"], chunks, pool)


def stream_sync(task: dict[str, Any]) -> dict[str, Any]:
    factory, chunks = SYNC_STREAMS[task["library"]], task["chunks"]
    check(list(factory(_setup(task, WARM_CHUNKS))()), WARM_CHUNKS)
    open_ = factory(_setup(task, chunks))
    gc.collect()
    with Clock() as clock:
        parts = list(open_())
    check(parts, chunks)
    return {"wall": clock.wall, "cpu": clock.cpu, "chunks": chunks, "items": len(parts)}


async def stream_async(task: dict[str, Any]) -> dict[str, Any]:
    factory, chunks = ASYNC_STREAMS[task["library"]], task["chunks"]
    check([text async for text in factory(_setup(task, WARM_CHUNKS))()], WARM_CHUNKS)
    open_ = factory(_setup(task, chunks))
    gc.collect()
    with Clock() as clock:
        parts = [text async for text in open_()]
    check(parts, chunks)
    return {"wall": clock.wall, "cpu": clock.cpu, "chunks": chunks, "items": len(parts)}


def _first_result(samples: list[float]) -> dict[str, Any]:
    return {"first": statistics.median(samples), "requests": len(samples)}


def ttfc_sync(task: dict[str, Any]) -> dict[str, Any]:
    chunks = task["chunks"]
    open_ = SYNC_STREAMS[task["library"]](_setup(task, chunks))
    samples = []
    for i in range(task["warmup"] + task["requests"]):
        start = time.perf_counter()
        stream = open_()
        parts = [next(stream)]
        samples.append(time.perf_counter() - start)
        parts.extend(stream)
        check(parts, chunks)
        if i < task["warmup"]:
            samples.clear()
    return _first_result(samples)


async def ttfc_async(task: dict[str, Any]) -> dict[str, Any]:
    chunks = task["chunks"]
    open_ = ASYNC_STREAMS[task["library"]](_setup(task, chunks))
    samples = []
    for i in range(task["warmup"] + task["requests"]):
        start = time.perf_counter()
        stream = open_()
        parts = [await anext(stream)]
        samples.append(time.perf_counter() - start)
        parts.extend([text async for text in stream])
        check(parts, chunks)
        if i < task["warmup"]:
            samples.clear()
    return _first_result(samples)


async def many_async(task: dict[str, Any]) -> dict[str, Any]:
    """`streams` concurrent streams over one shared client; RSS is the high-water mark
    above what the process held after importing, building the client and one stream."""
    chunks, streams = task["chunks"], task["streams"]
    open_ = ASYNC_STREAMS[task["library"]](_setup(task, chunks, pool=streams))

    async def consume() -> list[str]:
        return [text async for text in open_()]

    check(await consume(), chunks)
    gc.collect()
    before = max_rss_kib()
    with Clock() as clock:
        results = await asyncio.gather(*(consume() for _ in range(streams)))
    grown = max_rss_kib() - before
    for parts in results:
        check(parts, chunks)
    return {
        "wall": clock.wall,
        "cpu": clock.cpu,
        "rss_kib": grown,
        "streams": streams,
        "chunks": chunks,
    }


def calls_sync(task: dict[str, Any]) -> dict[str, Any]:
    call = SYNC_CALLS[task["library"]](_setup(task, 0))
    for _ in range(task["warmup"]):
        call()
    with Clock() as clock:
        texts = [call() for _ in range(task["requests"])]
    return _calls_result(clock, texts)


async def calls_async(task: dict[str, Any]) -> dict[str, Any]:
    requests, concurrency = task["requests"], task["concurrency"]
    call = ASYNC_CALLS[task["library"]](_setup(task, 0, pool=concurrency))
    await asyncio.gather(*(call() for _ in range(task["warmup"])))
    texts: list[str] = []

    async def worker(count: int) -> None:
        for _ in range(count):
            texts.append(await call())

    shares = [requests // concurrency + (i < requests % concurrency) for i in range(concurrency)]
    with Clock() as clock:
        await asyncio.gather(*(worker(share) for share in shares))
    return _calls_result(clock, texts)


def _calls_result(clock: Clock, texts: list[str]) -> dict[str, Any]:
    wrong = [text for text in texts if text != payloads.COMPLETION_TEXT]
    if wrong:
        raise IncompleteStreamError(f"{len(wrong)} wrong completions, e.g. {wrong[0]!r}")
    return {"wall": clock.wall, "cpu": clock.cpu, "requests": len(texts)}


KINDS: dict[tuple[str, str], Callable[[dict[str, Any]], Any]] = {
    ("stream", "sync"): stream_sync,
    ("stream", "async"): stream_async,
    ("ttfc", "sync"): ttfc_sync,
    ("ttfc", "async"): ttfc_async,
    ("many", "async"): many_async,
    ("calls", "sync"): calls_sync,
    ("calls", "async"): calls_async,
}


def run(task: dict[str, Any]) -> dict[str, Any]:
    result = KINDS[task["kind"], task["mode"]](task)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    assert isinstance(result, dict)
    return result


def main() -> None:
    result = run(json.loads(sys.argv[1]))
    sys.stdout.write("BENCH-RESULT " + json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
