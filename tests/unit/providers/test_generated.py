"""The generated provider modules (`modelwire/providers/`): their typed surfaces."""

from __future__ import annotations

import modelwire


def test_provider_options_are_typed_keywords() -> None:
    # the keywords of complete()/stream_completion() (tests/typing checks them with mypy)
    from modelwire.providers import anthropic, ollama, openrouter

    fields = anthropic.AnthropicFields.__annotations__
    assert fields["top_k"].__forward_arg__ == "int | None"
    assert fields["thinking"].__forward_arg__ == "dict[str, Any] | None"
    assert set(modelwire.RequestFields.__annotations__) <= set(fields)
    assert {"num_ctx", "keep_alive"} <= set(ollama.OllamaFields.__annotations__)
    assert {"app_url", "app_title"} <= set(openrouter.OpenRouterSettings.__annotations__)
