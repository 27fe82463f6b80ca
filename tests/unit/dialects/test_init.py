"""The dialects by name (`modelwire.dialects.get_dialect`), each imported on first use."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from modelwire.dialects import get_dialect
from modelwire.dialects.base import Dialect

from tests.unit.support import SDK_ROOT


@pytest.mark.parametrize("name", ["openai_chat", "anthropic_messages", "ollama_chat"])
def test_get_dialect(name: str) -> None:
    dialect = get_dialect(name)
    assert isinstance(dialect, Dialect) and dialect.name == name
    assert get_dialect(name) is dialect


def test_an_unknown_dialect_lists_the_known_ones() -> None:
    with pytest.raises(
        ValueError,
        match=r"unknown dialect 'klingon': one of "
        r"\['anthropic_messages', 'bedrock_converse', 'gemini', 'ollama_chat', 'openai_chat', "
        r"'openai_responses'\]",
    ):
        get_dialect("klingon")


def test_a_dialect_is_imported_when_first_asked_for() -> None:
    code = (
        "import json, sys; from modelwire.dialects import get_dialect; "
        "loaded = lambda: sorted(m for m in sys.modules if m.startswith('modelwire.dialects.')); "
        "before = loaded(); get_dialect('ollama_chat'); print(json.dumps([before, loaded()]))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SDK_ROOT), *sys.path])}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    before, after = json.loads(out.stdout)
    assert before == ["modelwire.dialects.base"]
    assert after == ["modelwire.dialects.base", "modelwire.dialects.ollama_chat"]
