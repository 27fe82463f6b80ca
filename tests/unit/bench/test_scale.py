"""bench/scale.py's judgements: the memory slope, how many calls the server fails, and
the verdict that makes a run exit 1 (a failed call, a wrong text, a miscounted
fallback, a held connection, memory growth)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from tests.unit.support import ROOT

BENCH = ROOT / "bench"


@pytest.fixture
def scale(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """bench/scale.py as the script sees itself: its folder first on sys.path."""
    monkeypatch.syspath_prepend(str(BENCH))
    names = ("scale", "payloads")
    saved = {name: sys.modules.pop(name) for name in names if name in sys.modules}
    yield importlib.import_module("scale")
    for name in names:
        sys.modules.pop(name, None)
    sys.modules.update(saved)


def good(**changes: Any) -> dict[str, Any]:
    result: dict[str, Any] = {
        "failed": 0,
        "first_failure": None,
        "wrong_text": 0,
        "by_secondary": 100,
        "expected_by_secondary": 100,
        "pool_problems": {"anthropic": [], "openai": []},
        "growth_bytes_per_request": 12.0,
    }
    return result | changes


def test_growth_is_the_slope_of_rss_over_requests(scale: ModuleType) -> None:
    flat = [(1000 * i, 50_000_000 + (4096 if i % 2 else 0)) for i in range(1, 10)]
    assert abs(scale.growth_per_request(flat)) < 100
    leaking = [(1000 * i, 50_000_000 + 2048 * 1000 * i) for i in range(1, 10)]
    assert scale.growth_per_request(leaking) == pytest.approx(2048)
    assert scale.growth_per_request([(1000, 1)]) == 0.0


def test_the_server_fails_one_in_n_counted_from_its_first_request(scale: ModuleType) -> None:
    assert scale.expected_failures(10_000, 10, before=1) == 1000
    assert scale.expected_failures(9, 10, before=0) == 0
    assert scale.expected_failures(1, 10, before=9) == 1
    assert scale.expected_failures(100, 0) == 0


def test_a_clean_run_passes(scale: ModuleType) -> None:
    assert scale.verdict(good(), max_growth=1024) == []


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"failed": 2, "first_failure": "OverloadedError: busy"}, "2 calls failed"),
        ({"wrong_text": 1}, "differ from the text"),
        ({"by_secondary": 99}, "the secondary answered 99, the server failed 100"),
        ({"pool_problems": {"openai": ["1 connections still checked out"]}}, "openai: 1 conn"),
        ({"growth_bytes_per_request": 4096.0}, "RSS grew 4096.0 bytes per request"),
    ],
)
def test_each_problem_fails_the_run(scale: ModuleType, changes: dict[str, Any], says: str) -> None:
    reasons = scale.verdict(good(**changes), max_growth=1024)
    assert len(reasons) == 1 and says in reasons[0]
