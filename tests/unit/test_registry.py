"""Providers by name (`modelwire._registry`): `client("provider/model")` and its errors."""

from __future__ import annotations

import modelwire
import pytest
from modelwire import ConfigurationError


def test_registry_builds_a_client_with_its_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key-0000")
    made = modelwire.client("anthropic/claude-sonnet-4-5")
    assert isinstance(made, modelwire.Anthropic)
    assert made.model == "claude-sonnet-4-5"
    router = modelwire.async_client("openrouter/anthropic/claude-sonnet-4.5", api_key="k")
    assert router.model == "anthropic/claude-sonnet-4.5"
    assert modelwire.client("ollama").base_url == "http://localhost:11434"


def test_unknown_provider_lists_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match="anthropic, groq"):
        modelwire.client("nonesuch")
