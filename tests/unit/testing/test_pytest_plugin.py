"""modelwire's pytest plugin (`modelwire.testing.pytest_plugin`): its fixtures, and the
local server's plugin it registers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from modelwire.testing import AsyncMockProvider, MockProvider

from tests.unit.support import SDK_ROOT, imported_after
from tests.unit.testing.support import HI


def test_testing_plugin_imports_nothing_heavy() -> None:
    assert imported_after("import modelwire.testing.pytest_plugin") == []


def test_testing_plugin_registers_the_local_fixture(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SDK_ROOT), *sys.path]),
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "modelwire.testing.pytest_plugin", "--fixtures"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert "modelwire_local_server" in out.stdout, out.stdout + out.stderr
    assert "mock_provider" in out.stdout


def test_testing_plugin_still_exports_the_local_helpers() -> None:
    from modelwire.local import pytest_plugin as local_plugin
    from modelwire.testing import pytest_plugin as testing_plugin

    assert testing_plugin.local_server_or_skip is local_plugin.local_server_or_skip
    assert testing_plugin.modelwire_local_server is local_plugin.modelwire_local_server


def test_mock_provider_fixture(mock_provider: MockProvider) -> None:
    mock_provider.reply("from the fixture")
    assert mock_provider.complete(messages=HI).content == "from the fixture"
    assert mock_provider.pending == 0


async def test_async_mock_provider_fixture(async_mock_provider: AsyncMockProvider) -> None:
    async_mock_provider.fail(500).reply("async fixture")
    assert (await async_mock_provider.complete(messages=HI)).content == "async fixture"
    assert len(async_mock_provider.requests) == 2
