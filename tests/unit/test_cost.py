"""modelwire.cost: estimates from genai-prices' shipped table, compared with what
genai-prices itself computes, with no network."""

from __future__ import annotations

import socket
import subprocess
import sys
from typing import Any

import genai_prices
import modelwire
import modelwire.cost
import pytest
from modelwire import CompletionResponse, CostUnknownError, Usage
from modelwire.testing import MockProvider

from tests.unit.support import ANTHROPIC_TEXT, SDK_ROOT, Wire, json_answer

HI = [{"role": "user", "content": "hi"}]


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pricing must never reach for the network (genai-prices can update itself from it)."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("modelwire.cost opened a socket")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_a_known_model_is_priced_as_genai_prices_prices_it() -> None:
    client = MockProvider("openai", model="gpt-4o-mini")
    response = client.reply("hello", usage=(1000, 200)).complete(messages=HI)
    cost = modelwire.cost.estimate(response)
    expected = genai_prices.calc_price(
        genai_prices.Usage(input_tokens=1000, output_tokens=200),
        "gpt-4o-mini",
        provider_id="openai",
    )
    assert (cost.input, cost.output, cost.total) == (
        expected.input_price,
        expected.output_price,
        expected.total_price,
    )
    assert cost.total == cost.input + cost.output > 0
    assert (cost.currency, cost.model, cost.provider) == ("USD", "gpt-4o-mini", "openai")
    assert str(cost) == f"{expected.total_price:.6f} USD"


def test_a_stream_is_priced_from_what_it_accumulated() -> None:
    client = MockProvider("openai", model="gpt-4o-mini").reply("a b c", usage=(10, 3))
    with client.stream_completion(messages=HI) as stream:
        response = stream.accumulate()
    assert response.provider == "openai"
    expected = genai_prices.calc_price(
        genai_prices.Usage(input_tokens=10, output_tokens=3), "gpt-4o-mini", provider_id="openai"
    )
    assert modelwire.cost.estimate(response).total == expected.total_price


def test_cached_tokens_are_priced_at_the_tables_cache_rate() -> None:
    # OpenAI counts cached tokens inside input_tokens, as the table does
    cached = CompletionResponse(
        model="gpt-4o-mini",
        provider="openai",
        usage=Usage(input_tokens=1000, output_tokens=0, cache_read_tokens=800),
    )
    uncached = cached.model_copy(update={"usage": Usage(input_tokens=1000, output_tokens=0)})
    assert modelwire.cost.estimate(cached).input < modelwire.cost.estimate(uncached).input
    expected = genai_prices.calc_price(
        genai_prices.Usage(input_tokens=1000, cache_read_tokens=800),
        "gpt-4o-mini",
        provider_id="openai",
    )
    assert modelwire.cost.estimate(cached).input == expected.input_price


def test_anthropics_cache_tokens_are_added_to_its_input_count() -> None:
    usage = {
        "input_tokens": 100,
        "output_tokens": 20,
        "cache_read_input_tokens": 1000,
        "cache_creation_input_tokens": 500,
    }
    wire = Wire(json_answer({**ANTHROPIC_TEXT, "model": "claude-sonnet-4-5", "usage": usage}))
    response = wire.client("anthropic", api_key="sk-ant-x").complete(messages=HI)
    expected = genai_prices.calc_price(
        genai_prices.Usage(
            input_tokens=1600, output_tokens=20, cache_read_tokens=1000, cache_write_tokens=500
        ),
        "claude-sonnet-4-5",
        provider_id="anthropic",
    )
    cost = modelwire.cost.estimate(response)
    assert (cost.input, cost.output) == (expected.input_price, expected.output_price)


def test_an_unknown_model_says_it_is_not_in_the_table() -> None:
    response = CompletionResponse(
        model="no-such-model-9", provider="openai", usage=Usage(input_tokens=1)
    )
    with pytest.raises(
        CostUnknownError, match="'no-such-model-9' of 'openai' is not in the price table"
    ):
        modelwire.cost.estimate(response)


def test_a_local_provider_is_not_priced() -> None:
    response = MockProvider("ollama", model="llama3.2").reply("hi").complete(messages=HI)
    with pytest.raises(
        CostUnknownError, match="'ollama' is not in the price table: pass provider="
    ):
        modelwire.cost.estimate(response)


def test_provider_names_the_table_for_a_proxy() -> None:
    response = CompletionResponse(
        model="gpt-4o-mini", provider="mine", usage=Usage(input_tokens=1000)
    )
    assert modelwire.cost.estimate(response, provider="openai").provider == "openai"


def test_no_usage_cannot_be_priced() -> None:
    response = CompletionResponse(model="gpt-4o-mini", provider="openai")
    with pytest.raises(CostUnknownError, match="no usage"):
        modelwire.cost.estimate(response)


def test_without_the_extra_a_clear_error_names_it() -> None:
    script = (
        "import sys; sys.modules['genai_prices'] = None\n"
        "import modelwire.cost\n"
        "from modelwire import CompletionResponse, Usage\n"
        "r = CompletionResponse(model='gpt-4o-mini', provider='openai', usage=Usage())\n"
        "try:\n    modelwire.cost.estimate(r)\n"
        "except Exception as exc:\n    print(type(exc).__name__, exc)\n"
    )
    env = {"PYTHONPATH": str(SDK_ROOT)}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == (
        'ConfigurationError estimating costs needs the price table: pip install "modelwire[cost]"'
    )
