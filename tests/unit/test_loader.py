"""Client classes from a spec file at run time (`modelwire._loader.load_spec`)."""

from __future__ import annotations

from pathlib import Path

import modelwire
import pytest
from modelwire import SpecError

from tests.unit.support import ROOT, VALID, write_spec


def test_load_spec_builds_working_classes_from_yaml() -> None:
    loaded = modelwire.load_spec(ROOT / "spec/providers/groq.yaml")
    made = loaded.client(api_key="gsk-test")
    assert type(made).__name__ == "Groq"
    assert made.base_url == "https://api.groq.com/openai/v1"
    assert isinstance(made, modelwire.ModelProvider)
    assert isinstance(loaded.async_client(api_key="gsk-test"), modelwire.AsyncModelProvider)


def test_load_spec_reports_errors_with_the_file(tmp_path: Path) -> None:
    path = write_spec(tmp_path, VALID.replace("dialect: openai_chat", "dialect: klingon"))
    with pytest.raises(SpecError, match=r"dialect"):
        modelwire.load_spec(path)
