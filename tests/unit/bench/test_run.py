"""Where `bench/run.py` writes its results: a full run replaces the committed ones in
`bench/results/`, a quick or partial run writes to the git-ignored `bench/results/scratch/`
and never touches them."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tests.unit.support import ROOT

BENCH = ROOT / "bench"
COMMITTED = (BENCH / "results/latest.json", BENCH / "results/latest.md")
SCRATCH = (BENCH / "results/scratch/latest.json", BENCH / "results/scratch/latest.md")


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """bench/run.py as the script sees itself: its folder first on sys.path."""
    monkeypatch.syspath_prepend(str(BENCH))
    names = ("run", "plan", "report", "payloads")
    saved = {name: sys.modules.pop(name) for name in names if name in sys.modules}
    yield importlib.import_module("run")
    for name in names:
        sys.modules.pop(name, None)
    sys.modules.update(saved)


def paths(run: ModuleType, *argv: str) -> tuple[Path, Path]:
    result: tuple[Path, Path] = run.output_paths(run.parse_args(list(argv)))
    return result


def test_a_full_run_writes_the_committed_results(run: ModuleType) -> None:
    assert paths(run) == COMMITTED


@pytest.mark.parametrize(
    "argv",
    [["--quick"], ["--only", "modelwire"], ["--rounds", "1"], ["--quick", "--only", "httpx"]],
    ids=" ".join,
)
def test_a_quick_or_partial_run_writes_to_scratch(run: ModuleType, argv: list[str]) -> None:
    assert paths(run, *argv) == SCRATCH


def test_paths_asked_for_win(run: ModuleType, tmp_path: Path) -> None:
    chosen = tmp_path / "mine.json"
    assert paths(run, "--quick", "--json", str(chosen)) == (chosen, SCRATCH[1])
    assert paths(run, "--markdown", str(chosen)) == (COMMITTED[0], chosen)


def _ignored(path: Path) -> bool:
    done = subprocess.run(
        ["git", "check-ignore", "-q", str(path)], cwd=ROOT, capture_output=True, check=False
    )
    assert done.returncode in (0, 1), done.stderr  # 128: not a checkout, or git failed
    return done.returncode == 0


def test_scratch_results_are_ignored_by_git_and_committed_ones_are_not() -> None:
    assert all(_ignored(path) for path in SCRATCH)
    assert not any(_ignored(path) for path in COMMITTED)
