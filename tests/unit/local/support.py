"""Helpers for the tests of `modelwire.local`: processes, hidden modules, a fake server."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from typing import Any

import pytest
from modelwire.local import LocalServer, _server


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def hide_modules(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> Any:
        if name in names:
            return None
        return real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


def fake_server(monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    """Make LocalServer run `python -c code` instead of llama_cpp.server."""
    monkeypatch.setattr(_server, "check_local_extra", lambda: None)
    monkeypatch.setattr(
        LocalServer,
        "_command",
        lambda self, model_path, port: [sys.executable, "-c", textwrap.dedent(code)],
    )
