"""Client classes from a spec file at run time (`modelwire._loader.load_spec`)."""

from __future__ import annotations

import json
from pathlib import Path

import modelwire
import pytest
import yaml
from modelwire import SpecError
from modelwire._client import AsyncClient, Client
from modelwire.spec import parse_spec

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


def test_load_spec_from_a_spec_object_binds_it_to_new_classes() -> None:
    spec = parse_spec(yaml.safe_load(VALID))
    loaded = modelwire.load_spec(spec)
    assert loaded.spec is spec
    assert (loaded.sync_class.__name__, loaded.async_class.__name__) == ("Broken", "AsyncBroken")
    assert issubclass(loaded.sync_class, Client) and issubclass(loaded.async_class, AsyncClient)
    assert loaded.sync_class.spec is spec and loaded.async_class.spec is spec
    assert loaded.sync_class.__doc__ == "Client for Broken (from its spec)."
    # a class per call: two loads never share state
    assert modelwire.load_spec(spec).sync_class is not loaded.sync_class


def test_load_spec_from_a_json_file_passes_keywords_to_the_clients(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(yaml.safe_load(VALID)))
    loaded = modelwire.load_spec(str(path))
    made = loaded.client(api_key="k", model="b-1", base_url="https://other.test/v1")
    assert (made.model, made.base_url) == ("b-1", "https://other.test/v1")
    assert loaded.async_client(api_key="k").model is None


def test_load_spec_checks_the_key_when_a_client_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BROKEN_KEY", raising=False)
    loaded = modelwire.load_spec(parse_spec(yaml.safe_load(VALID)))
    with pytest.raises(
        modelwire.ConfigurationError,
        match="Broken needs an API key: pass api_key= or set BROKEN_KEY",
    ):
        loaded.client()
    monkeypatch.setenv("BROKEN_KEY", "from-env")
    assert loaded.client()._config.api_key == "from-env"
