"""The local server's own errors (`modelwire.local._errors`): no provider's."""

from __future__ import annotations

from pathlib import Path

import pytest
from modelwire.errors import ConfigurationError, ProviderError
from modelwire.local import (
    LocalServer,
    LocalServerError,
    _server,
    check_local_extra,
    find_model_path,
)

from tests.unit.local.support import hide_modules


def test_errors_are_the_local_servers_not_a_providers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    errors: list[LocalServerError] = []
    for fails in (
        lambda: LocalServer().port,
        lambda: LocalServer("/m.gguf", port=1).model_id,
        lambda: LocalServer(tmp_path / "nope.gguf").start(),
        find_model_path,
        check_local_extra,
    ):
        monkeypatch.setenv("MODELWIRE_LOCAL_MODEL", str(tmp_path / "missing.gguf"))
        with pytest.MonkeyPatch.context() as mp:
            hide_modules(mp, "llama_cpp")
            if fails is not check_local_extra:
                mp.setattr(_server, "check_local_extra", lambda: None)
            with pytest.raises(LocalServerError) as info:
                fails()
        errors.append(info.value)
    for err in errors:
        assert isinstance(err, ConfigurationError) and isinstance(err, ProviderError)
        assert err.provider is None
        assert str(err) == err.message  # no "[provider]" prefix
    port, model_id, model_file, env_var, extra = (str(e) for e in errors)
    assert "call start() first" in port and "port=" in port
    assert "call start() first" in model_id
    assert "does not exist" in model_file and "model_path" in model_file
    assert "Point it at a GGUF model" in env_var
    assert 'pip install "modelwire[local]"' in extra
