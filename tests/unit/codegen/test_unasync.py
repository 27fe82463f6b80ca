"""The sync client derived from the async one (`codegen/unasync.py`): each rule, and the
guarantee that a rule which matches nothing fails the generation."""

from __future__ import annotations

import pytest

from codegen import unasync
from codegen.unasync import HEADER, RULES, UnusedRuleError
from tests.unit.support import ROOT

ASYNC_SOURCE = (ROOT / "sdk/modelwire/_client/_async.py").read_text(encoding="utf-8")

# one example per rule: (async text, sync text), the rule applied on its own
EXAMPLES: dict[str, tuple[str, str]] = {
    RULES[0][0]: (
        "x = 1\n# async only: begin (why)\nclass Opening: ...\n# async only: end\n\n\ny = 2\n",
        "x = 1\ny = 2\n",
    ),
    r"^.*# async only\n": (
        "    from a import Callable  # async only\n    import httpx\n",
        "    import httpx\n",
    ),
    r"\bAsyncStreamOpening\(lambda: (.+)\)$": (
        "        return AsyncStreamOpening(lambda: self._open_stream(request, fields))",
        "        return self._open_stream(request, fields)",
    ),
    r"-> AsyncStreamOpening\[": (
        "    ) -> AsyncStreamOpening[Any]:",
        "    ) -> StreamingResponse[Any]:",
    ),
    r"^([ \t]+)import asyncio.*\n": ("    import asyncio  # slow\n", "    import time\n"),
    r"\basyncio\.sleep\b": ("await asyncio.sleep(1)", "await time.sleep(1)"),
    r"\bAsyncGenerator\[(.+?), None\]": (
        "AsyncGenerator[StreamingChunk, None]",
        "Generator[StreamingChunk, None, None]",
    ),
    r"\bAsyncGenerator\b": ("from x import AsyncGenerator", "from x import Generator"),
    r"\bAsyncIterator\b": ("AsyncIterator[bytes]", "Iterator[bytes]"),
    r"\bAsyncStreamingResponse\b": ("-> AsyncStreamingResponse:", "-> StreamingResponse:"),
    r"\bAsyncBaseClient\b": ("AsyncBaseClient = AsyncClient", "BaseClient = AsyncClient"),
    r"\basync_(mend_pool|release|token)\b": (
        "from ._lifecycle import async_mend_pool, async_release; await async_token(c, s)",
        "from ._lifecycle import sync_mend_pool, sync_release; await sync_token(c, s)",
    ),
    r"\bAsyncClient\b": ("httpx.AsyncClient(", "httpx.Client("),
    r"\bAsyncBatches\b": ("-> AsyncBatches:", "-> Batches:"),
    r"\b(acquire|settle)_async\b": (
        "await limiter.acquire_async(key, request); await permit.settle_async(usage)",
        "await limiter.acquire(key, request); await permit.settle(usage)",
    ),
    r"\basync def\b": ("async def complete(", "def complete("),
    r"\basync for\b": ("async for data in body:", "for data in body:"),
    r"\bawait ": ("return await self._send(call)", "return self._send(call)"),
    r"\b__aiter__\b": ("def __aiter__(self):", "def __iter__(self):"),
    r"\b__anext__\b": ("body.__anext__()", "body.__next__()"),
    r"\b__aenter__\b": ("def __aenter__(self):", "def __enter__(self):"),
    r"\b__aexit__\b": ("def __aexit__(self):", "def __exit__(self):"),
    r"\baiter_bytes\b": ("response.aiter_bytes()", "response.iter_bytes()"),
    r"\baclose\b": ("await response.aclose()", "await response.close()"),
    r"\bStopAsyncIteration\b": ("except StopAsyncIteration:", "except StopIteration:"),
    r"\basync\b": ("The async client", "The sync client"),
    RULES[-1][0]: (
        "The sync client is generated from this file by\n`codegen/unasync.py`: edit this one.",
        "It is generated from `_async.py` by\n`codegen/unasync.py`.",
    ),
}


def test_every_rule_has_an_example() -> None:
    assert [pattern for pattern, _ in RULES] == list(EXAMPLES)


@pytest.mark.parametrize("rule", RULES, ids=[pattern for pattern, _ in RULES])
def test_each_rule(monkeypatch: pytest.MonkeyPatch, rule: tuple[str, str]) -> None:
    monkeypatch.setattr(unasync, "RULES", [rule])
    source, expected = EXAMPLES[rule[0]]
    assert unasync.unasync(source) == HEADER + expected


def test_rules_are_word_bounded() -> None:
    names = "MyAsyncClient AsyncClientFactory reawait nonasync asyncio_helpers"
    for pattern, replacement in RULES:
        if pattern.startswith(r"\b") and pattern.endswith(r"\b"):
            assert unasync.re.sub(pattern, replacement, names) == names, pattern


def test_the_async_client_becomes_the_sync_one() -> None:
    text = unasync.unasync(ASYNC_SOURCE)
    assert text.startswith(HEADER)
    for gone in (
        "async ",
        "await ",
        "AsyncClient",
        "aiter_bytes",
        "aclose",
        "asyncio",
        "__aenter__",
    ):
        assert gone not in text, gone
    for made in (
        "class Client:",
        "class StreamingResponse(Generic[ParsedT]):",
        "def __iter__(",
        "import time",
    ):
        assert made in text, made
    assert "BaseClient = Client" in text


def test_a_rule_that_matches_nothing_fails_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(unasync, "RULES", [*RULES, (r"\bno_such_name\b", "x")])
    with pytest.raises(UnusedRuleError, match=r"the rule '\\\\bno_such_name\\\\b' matched nothing"):
        unasync.unasync(ASYNC_SOURCE)


def test_a_source_that_lost_what_a_rule_needs_fails() -> None:
    source = ASYNC_SOURCE.replace("aiter_bytes", "iter_chunks")
    with pytest.raises(UnusedRuleError, match="aiter_bytes") as info:
        unasync.unasync(source)
    assert isinstance(info.value, ValueError)
