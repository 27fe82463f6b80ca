"""Providers by name (`modelwire._registry`): `client("provider/model")` and its errors."""

from __future__ import annotations

import modelwire
import pytest
from modelwire import ConfigurationError
from modelwire._registry import Registry
from modelwire.providers import anthropic, groq, ollama, openai, registry


def test_registry_builds_a_client_with_its_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key-0000")
    made = modelwire.client("anthropic/claude-sonnet-4-5")
    assert isinstance(made, modelwire.Anthropic)
    assert made.model == "claude-sonnet-4-5"
    router = modelwire.async_client("openrouter/anthropic/claude-sonnet-4.5", api_key="k")
    assert router.model == "anthropic/claude-sonnet-4.5"
    assert modelwire.client("ollama").base_url == "http://localhost:11434"


def test_unknown_provider_lists_the_known_ones() -> None:
    with pytest.raises(
        ConfigurationError,
        match="anthropic, azure_openai, azure_openai_responses, azure_openai_v1, bedrock, cerebras",
    ):
        modelwire.client("nonesuch")


@pytest.mark.parametrize(
    ("target", "split"),
    [
        ("openai", ("openai", None)),
        ("openai/", ("openai", None)),
        ("ollama/llama3.2:latest", ("ollama", "llama3.2:latest")),
        ("openrouter/anthropic/claude-sonnet-4.5", ("openrouter", "anthropic/claude-sonnet-4.5")),
    ],
)
def test_split_provider_and_model(target: str, split: tuple[str, str | None]) -> None:
    assert registry.split(target) == split


def test_an_unknown_provider_says_what_to_write() -> None:
    with pytest.raises(
        ConfigurationError,
        match=r"unknown provider 'OpenAI': use one of anthropic, azure_openai, "
        r"azure_openai_responses, azure_openai_v1, bedrock, cerebras, deepseek, fireworks, "
        r"gemini, groq, huggingface, llamacpp, lmstudio, mistral, ollama, openai, "
        r"openai_responses, openrouter, together, vllm, xai, zai, optionally followed by /model",
    ):
        registry.split("OpenAI/gpt-4o")


def test_a_hyphen_names_the_spec_with_an_underscore() -> None:
    assert registry.split("openai-responses/gpt-5") == ("openai_responses", "gpt-5")
    assert registry.split("openai_responses") == ("openai_responses", None)
    with pytest.raises(ConfigurationError, match="unknown provider 'open-ai'"):
        registry.split("open-ai/gpt-5")


def test_classes_by_provider_name_and_by_class_name() -> None:
    assert registry.client_class("openai/gpt-4o") is openai.OpenAI
    assert registry.client_class("openai", asynchronous=True) is openai.AsyncOpenAI
    assert registry.module_attribute("AsyncAnthropic") is anthropic.AsyncAnthropic
    with pytest.raises(
        AttributeError, match=r"module 'modelwire\.providers' has no attribute 'Bard'"
    ):
        registry.module_attribute("Bard")


def test_a_model_keyword_wins_over_the_targets() -> None:
    assert modelwire.client("ollama/llama3.2", model="qwen3").model == "qwen3"
    assert modelwire.client("ollama").model == ollama.SPEC.default_model


def test_any_table_of_providers() -> None:
    mine = Registry("modelwire.providers", {"house": ("groq", "Groq", "AsyncGroq")})
    made = mine.client("house/my-model", api_key="k")
    assert type(made) is groq.Groq and made.model == "my-model"
    assert type(mine.async_client("house", api_key="k")) is groq.AsyncGroq
    with pytest.raises(ConfigurationError, match="use one of house,"):
        mine.client("groq")
