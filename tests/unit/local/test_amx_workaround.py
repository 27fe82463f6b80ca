"""Extra CPU buffer types off on AMX CPUs (`modelwire.local._amx_workaround`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from modelwire.local import LocalServer, _amx_workaround


@pytest.mark.parametrize("amx", [True, False])
def test_extra_buffer_types_default_off_on_amx(monkeypatch: pytest.MonkeyPatch, amx: bool) -> None:
    monkeypatch.setattr(_amx_workaround, "cpu_has_amx", lambda: amx)
    cmd = LocalServer("/m.gguf")._command(Path("/m.gguf"), 1)
    assert cmd[1:3] != ["-m", "llama_cpp.server"] if amx else cmd[1:3] == ["-m", "llama_cpp.server"]
