"""What a response cost, estimated from its usage with the price table that the
`genai-prices` package maintains and ships (`pip install "modelwire[cost]"`).

    cost = modelwire.cost.estimate(response)
    print(cost.total, cost.currency)  # e.g. 0.0001725 USD

The table is the one installed with the package: nothing is fetched (genai-prices can
update itself from the network, and modelwire never asks it to). A model or provider the
table does not know, or a response without usage, raises `CostUnknownError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from importlib import import_module
from typing import TYPE_CHECKING

from .dialects import get_dialect
from .errors import ConfigurationError, CostUnknownError
from .providers import PROVIDERS
from .types import CompletionResponse, EmbeddingResponse, Usage

if TYPE_CHECKING:
    from genai_prices.types import PriceCalculation

# modelwire's provider (spec name) -> genai-prices' provider id; a provider missing here
# (the local servers, a spec of your own) has no prices unless `provider=` names one
PRICE_PROVIDERS = {
    "openai": "openai",
    "openai_responses": "openai",
    "anthropic": "anthropic",
    "groq": "groq",
    "mistral": "mistral",
    "deepseek": "deepseek",
    "xai": "x-ai",
    "together": "together",
    "fireworks": "fireworks",
    "cerebras": "cerebras",
    "openrouter": "openrouter",
    "zai": "zai",
}


@dataclass(frozen=True, slots=True)
class Cost:
    """A price estimate: amounts in `currency`, with the input and output split the table
    gives (input includes the cached tokens' own price)."""

    total: Decimal
    input: Decimal
    output: Decimal
    currency: str
    # how the table names what it priced
    model: str
    provider: str

    def __str__(self) -> str:
        return f"{self.total:.6f} {self.currency}"


def estimate(
    response: CompletionResponse | EmbeddingResponse,
    *,
    provider: str | None = None,
) -> Cost:
    """The estimated price of one response (or of an accumulated stream).

    `provider` is a genai-prices provider id, for a response whose provider the table names
    otherwise (a proxy, a spec of your own); by default it follows `response.provider`.
    """
    usage = response.usage
    if usage is None:
        raise CostUnknownError(
            "the response reported no usage, so its cost cannot be known", provider=_name(response)
        )
    if not response.model:
        raise CostUnknownError("the response names no model to price", provider=_name(response))
    price_provider = provider or PRICE_PROVIDERS.get(_name(response) or "")
    if price_provider is None:
        raise CostUnknownError(
            f"the provider {_name(response)!r} is not in the price table: pass "
            "provider= with a genai-prices provider id if it serves a priced API",
            provider=_name(response),
        )
    calculation = _calculate(usage, response, price_provider)
    return Cost(
        total=calculation.total_price,
        input=calculation.input_price,
        output=calculation.output_price,
        currency="USD",  # the table prices everything in US dollars
        model=calculation.model.id,
        provider=calculation.provider.id,
    )


def _calculate(
    usage: Usage, response: CompletionResponse | EmbeddingResponse, price_provider: str
) -> PriceCalculation:
    try:
        import genai_prices
    except ImportError:
        raise ConfigurationError(
            'estimating costs needs the price table: pip install "modelwire[cost]"'
        ) from None
    assert response.model is not None
    prices_usage = genai_prices.Usage(
        input_tokens=_all_input_tokens(usage, _name(response)),
        output_tokens=usage.output_tokens,
        cache_read_tokens=usage.cache_read_tokens,
        cache_write_tokens=usage.cache_write_tokens,
    )
    try:
        return genai_prices.calc_price(prices_usage, response.model, provider_id=price_provider)
    except LookupError:
        error = CostUnknownError(
            f"the model {response.model!r} of {price_provider!r} is not in the price table "
            f"(genai-prices {genai_prices.__version__})",
            provider=_name(response),
        )
    raise error  # outside the handler: no genai-prices exception rides along


def _name(response: CompletionResponse | EmbeddingResponse) -> str | None:
    return response.provider if isinstance(response, CompletionResponse) else None


def _all_input_tokens(usage: Usage, provider: str | None) -> int:
    """Input tokens with the cached ones, as the table counts them: the provider's dialect
    knows whether its count holds them (a provider outside the table: as OpenAI's does)."""
    entry = PROVIDERS.get(provider or "")
    if entry is None:
        return usage.input_tokens
    spec = import_module(f"modelwire.providers.{entry[0]}").SPEC
    return get_dialect(spec.dialect).all_input_tokens(usage)
