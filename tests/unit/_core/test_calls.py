"""A client's configuration and each call planned from it (`modelwire._core.calls`)."""

from __future__ import annotations

import modelwire
import pytest


def test_base_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "gpu-box:11434")
    assert modelwire.Ollama().base_url == "http://gpu-box:11434"
