"""Whether the `local` extra is installed (`modelwire.local._dependencies`)."""

from __future__ import annotations

import pytest
from modelwire.errors import ConfigurationError
from modelwire.local import INSTALL_HINT, LocalDependencyError, check_local_extra

from tests.unit.local.support import hide_modules


def test_missing_llama_cpp_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    hide_modules(monkeypatch, "llama_cpp")
    with pytest.raises(LocalDependencyError, match="llama_cpp") as info:
        check_local_extra()
    assert isinstance(info.value, ConfigurationError)
    assert INSTALL_HINT == 'pip install "modelwire[local]"'
    assert INSTALL_HINT in str(info.value)
