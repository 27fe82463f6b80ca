"""The README's stream figures are what the committed benchmark run measured
(`bench/results/latest.json`), stated as the bench measures them: CPU time per chunk of
one library as a multiple of another's."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# its words, whatever the line breaks
README = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
RESULTS = json.loads((ROOT / "bench" / "results" / "latest.json").read_text(encoding="utf-8"))
CPU = "cpu_us_per_chunk"


def cpu_per_chunk(label: str) -> float:
    rows = {row["label"]: row for row in RESULTS["sections"]["stream"]["rows"]}
    value: float = rows[label]["median"][CPU]
    return value


def cpu_ratios(library: str, reference: str, shapes: tuple[str, ...]) -> list[float]:
    """`library`'s CPU per chunk over `reference`'s, for each shape, sync and async."""
    return [
        cpu_per_chunk(f"{library} [{shape} {mode}]")
        / cpu_per_chunk(f"{reference} [{shape} {mode}]")
        for shape in shapes
        for mode in ("sync", "async")
    ]


def spread(ratios: list[float], digits: int) -> str:
    return f"{min(ratios):.{digits}f}\N{EN DASH}{max(ratios):.{digits}f}x"


def test_modelwire_against_plain_httpx() -> None:
    ratios = cpu_ratios(
        "modelwire", "httpx iter_lines+json.loads", ("openai", "anthropic", "ollama")
    )
    figure = spread(ratios, 2)
    assert f"modelwire's is {figure} that of plain httpx" in README, figure


def test_peers_against_modelwire() -> None:
    openai = spread(cpu_ratios("openai-python", "modelwire", ("openai",)), 0)
    raw = spread(cpu_ratios("anthropic messages.create(stream)", "modelwire", ("anthropic",)), 1)
    text = spread(
        cpu_ratios("anthropic messages.stream().text_stream", "modelwire", ("anthropic",)), 0
    )
    assert f"openai-python spends {openai} modelwire's CPU per" in README, openai
    assert f"anthropic-sdk-python {raw} for its raw events ({text} for its" in README, (raw, text)
