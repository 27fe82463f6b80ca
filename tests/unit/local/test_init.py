"""The `modelwire.local` package: loaded only when asked for."""

from __future__ import annotations

from tests.unit.support import imported_after


def test_import_modelwire_does_not_import_local() -> None:
    assert "modelwire.local" not in imported_after("import modelwire")
