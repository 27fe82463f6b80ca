"""A module imported on first attribute access (`modelwire._lazy.LazyModule`)."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from modelwire._lazy import LazyModule


def test_the_module_is_imported_on_first_use_and_replaces_the_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    namespace: dict[str, Any] = {}
    proxy = namespace["colorsys"] = LazyModule("colorsys", namespace)
    assert repr(proxy) == "<lazy module 'colorsys'>"
    assert "colorsys" not in sys.modules
    assert proxy.rgb_to_hsv(1.0, 0.0, 0.0) == (0.0, 1.0, 1.0)
    assert namespace["colorsys"] is sys.modules["colorsys"]


def test_a_missing_module_fails_when_used_not_when_named() -> None:
    proxy = LazyModule("modelwire_no_such_module", {})
    with pytest.raises(ModuleNotFoundError, match="modelwire_no_such_module"):
        _ = proxy.anything
