"""The testing kit's namespace (`modelwire.testing`): cheap to import."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.unit.support import ROOT


def test_importing_the_kit_loads_nothing_heavy() -> None:
    code = (
        "import sys, modelwire.testing; "
        "print([m for m in ('httpx', 'pydantic', 'vcr', 'modelwire._client', "
        "'modelwire.types', 'modelwire.providers.openai') if m in sys.modules])"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "sdk"), *sys.path])}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
