"""What the bench measures: its sections, their rows and the numbers derived from samples.

A `Row` is one client configuration; its `task` is what `workloads.py` (or, for imports,
`python -c`) is given for one measurement. Rows compare with each other by `shape` and
`mode`: the baseline of a row is the plain-httpx row of the same shape and mode, and the
peers of a modelwire row are the other libraries' rows of the same shape and mode.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from payloads import SHAPES

MODES = ("sync", "async")
BASELINE = "httpx"
SUBJECT = "modelwire"
NOT_PEERS = frozenset({BASELINE, SUBJECT, "raw", "floor", "pydantic"})

LIBRARY_NAMES = {
    "raw": "raw socket recv loop",
    "httpx": "httpx iter_lines+json.loads",
    "modelwire": "modelwire",
    "openai": "openai-python",
    "anthropic": "anthropic messages.create(stream)",
    "anthropic-text": "anthropic messages.stream().text_stream",
    "litellm": "litellm.completion(stream)",
    "ollama": "ollama-python",
}


@dataclass(frozen=True)
class Config:
    rounds: int = 5
    chunks: int = 20_000
    slow_chunks: int = 2_000  # LiteLLM spends ~1 ms a chunk
    streams: int = 1_000
    stream_chunks: int = 200
    many_rounds: int = 3  # 1,000 openai-python streams take ~20 s a round
    calls: int = 500
    concurrency: int = 50
    ttfc_requests: int = 100
    ttfc_chunks: int = 5
    import_runs: int = 10


QUICK = Config(
    rounds=2,
    chunks=5_000,
    slow_chunks=500,
    streams=250,
    many_rounds=2,
    calls=200,
    ttfc_requests=40,
    import_runs=3,
)


@dataclass(frozen=True)
class Row:
    label: str
    library: str
    task: Mapping[str, Any] = field(hash=False)
    shape: str = ""
    mode: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.shape, self.mode)


@dataclass(frozen=True)
class Metric:
    key: str
    title: str
    higher_is_better: bool
    fmt: str = "{:,.1f}"
    compare: bool = True  # ratios against the baseline and peers
    delta: bool = False  # also the difference from the baseline

    def ratio(self, row: float, reference: float) -> float:
        """How many times better `row` is than `reference`: > 1 means better."""
        return row / reference if self.higher_is_better else reference / row


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    rows: tuple[Row, ...]
    derive: Callable[[Mapping[str, float]], dict[str, float]]
    metrics: tuple[Metric, ...]
    rounds: int
    note: str = ""
    floor: str = ""  # the label of a row whose median is subtracted from every row's


def summarize(
    section: Section, samples: Mapping[str, list[Mapping[str, float]]]
) -> dict[str, dict[str, float]]:
    """The median of each derived number over the samples of each row that has some."""
    medians = {}
    for label, rows in samples.items():
        if rows:
            derived = [section.derive(sample) for sample in rows]
            medians[label] = {key: statistics.median(d[key] for d in derived) for key in derived[0]}
    if section.floor in medians:
        floor = dict(medians[section.floor])
        for numbers in medians.values():
            numbers |= {f"net_{key}": numbers[key] - floor[key] for key in floor}
    return medians


def _label(library: str, shape: str = "", mode: str = "") -> str:
    return f"{LIBRARY_NAMES[library]} [{shape} {mode}]".replace(" []", "")


def _row(library: str, shape: str, mode: str, **task: Any) -> Row:
    task |= {"library": library, "shape": shape, "mode": mode}
    return Row(_label(library, shape, mode), library, task, shape, mode)


# --------------------------------------------------------------------------- 1. stream consumption


def stream_rows(config: Config) -> tuple[Row, ...]:
    def row(library: str, shape: str, mode: str) -> Row:
        chunks = config.slow_chunks if library == "litellm" else config.chunks
        return _row(library, shape, mode, kind="stream", chunks=chunks)

    return (
        *(row("raw", shape, "sync") for shape in SHAPES),
        *(
            row(lib, shape, mode)
            for lib in ("httpx", SUBJECT)
            for shape in SHAPES
            for mode in MODES
        ),
        *(row("openai", "openai", mode) for mode in MODES),
        *(row(lib, "anthropic", mode) for lib in ("anthropic", "anthropic-text") for mode in MODES),
        row("litellm", "openai", "sync"),
        *(row("ollama", "ollama", mode) for mode in MODES),
    )


def _stream_derive(sample: Mapping[str, float]) -> dict[str, float]:
    return {
        "chunks_per_s": sample["chunks"] / sample["wall"],
        "cpu_us_per_chunk": sample["cpu"] / sample["chunks"] * 1e6,
    }


# --------------------------------------------------------------------------- 2. many streams


def many_rows(config: Config) -> tuple[Row, ...]:
    task = {"kind": "many", "chunks": config.stream_chunks, "streams": config.streams}
    return tuple(_row(lib, "openai", "async", **task) for lib in (BASELINE, SUBJECT, "openai"))


def _many_derive(sample: Mapping[str, float]) -> dict[str, float]:
    return {
        "wall_s": sample["wall"],
        "cpu_us_per_chunk": sample["cpu"] / sample["streams"] / sample["chunks"] * 1e6,
        "rss_kib_per_stream": sample["rss_kib"] / sample["streams"],
    }


# --------------------------------------------------------------------------- 3. small requests


def call_rows(config: Config) -> tuple[Row, ...]:
    def row(library: str, mode: str) -> Row:
        task: dict[str, Any] = {"kind": "calls", "requests": config.calls, "warmup": 10}
        if mode == "async":
            task["concurrency"] = config.concurrency
        return _row(library, "openai", mode, **task)

    return tuple(row(lib, mode) for mode in MODES for lib in (BASELINE, SUBJECT, "openai"))


def _calls_derive(sample: Mapping[str, float]) -> dict[str, float]:
    return {
        "requests_per_s": sample["requests"] / sample["wall"],
        "cpu_us_per_request": sample["cpu"] / sample["requests"] * 1e6,
    }


# --------------------------------------------------------------------------- 4. cold import

IMPORTS = (
    ("floor", "pass"),
    (SUBJECT, "import modelwire"),
    (SUBJECT, "from modelwire import OpenAI"),
    # a class is not yet a client: httpx loads when the first client is made
    (SUBJECT, "from modelwire import OpenAI; OpenAI(api_key='k')"),
    ("openai", "import openai"),
    ("openai", "import openai; openai.OpenAI(api_key='k')"),
    ("anthropic", "import anthropic"),
    ("anthropic", "import anthropic; anthropic.Anthropic(api_key='k')"),
    ("litellm", "import litellm"),
    (BASELINE, "import httpx"),
    ("pydantic", "import pydantic"),
)


def import_rows() -> tuple[Row, ...]:
    return tuple(
        Row(statement, library, {"kind": "import", "statement": statement})
        for library, statement in IMPORTS
    )


def _import_derive(sample: Mapping[str, float]) -> dict[str, float]:
    return {"wall_ms": sample["wall"] * 1e3}


# --------------------------------------------------------------------------- 5. time to first chunk


def ttfc_rows(config: Config) -> tuple[Row, ...]:
    """The stream rows whose library is cheap enough to start many requests with."""
    task = {
        "kind": "ttfc",
        "chunks": config.ttfc_chunks,
        "requests": config.ttfc_requests,
        "warmup": 5,
    }
    return tuple(
        _row(row.library, row.shape, row.mode, **task)
        for row in stream_rows(config)
        if row.library not in {"raw", "litellm", "anthropic-text"}
    )


def _ttfc_derive(sample: Mapping[str, float]) -> dict[str, float]:
    return {"first_us": sample["first"] * 1e6}


def sections(config: Config) -> tuple[Section, ...]:
    return (
        Section(
            "stream",
            f"1. Stream consumption ({config.chunks:,} chunks; LiteLLM {config.slow_chunks:,})",
            stream_rows(config),
            _stream_derive,
            (
                Metric("chunks_per_s", "chunks/s", True, "{:,.0f}"),
                Metric("cpu_us_per_chunk", "CPU µs/chunk", False, "{:,.2f}"),
            ),
            config.rounds,
            "vs columns: > 1 means faster than plain httpx of the same shape and mode.",
        ),
        Section(
            "many",
            f"2. Many streams ({config.streams:,} concurrent async streams x "
            f"{config.stream_chunks} chunks, one shared client)",
            many_rows(config),
            _many_derive,
            (
                Metric("wall_s", "wall s", False, "{:,.2f}"),
                Metric("cpu_us_per_chunk", "CPU µs/chunk", False, "{:,.2f}"),
                Metric("rss_kib_per_stream", "peak RSS KiB/stream", False, "{:,.1f}"),
            ),
            min(config.many_rounds, config.rounds),
            "vs columns: > 1 means faster or leaner than plain httpx.",
        ),
        Section(
            "calls",
            f"3. Small non-streaming requests ({config.calls} sequential sync; "
            f"{config.calls} async, {config.concurrency} at a time)",
            call_rows(config),
            _calls_derive,
            (
                Metric("requests_per_s", "requests/s", True, "{:,.0f}"),
                Metric("cpu_us_per_request", "CPU µs/request", False, "{:,.0f}"),
            ),
            config.rounds,
        ),
        Section(
            "imports",
            f"4. Cold import (median wall time of `python -c` over {config.import_runs} runs)",
            import_rows(),
            _import_derive,
            (
                Metric("wall_ms", "wall ms", False, "{:,.0f}", compare=False),
                Metric("net_wall_ms", "net ms", False, "{:,.0f}"),
            ),
            config.import_runs,
            "net = minus the `pass` floor (interpreter start-up); vs columns compare net times.",
            floor="pass",
        ),
        Section(
            "ttfc",
            f"5. Time to first chunk (median of {config.ttfc_requests} requests on a warm "
            "connection)",
            ttfc_rows(config),
            _ttfc_derive,
            (Metric("first_us", "first chunk µs", False, "{:,.0f}", delta=True),),
            config.rounds,
            "Added = this row minus plain httpx of the same shape and mode.",
        ),
    )
