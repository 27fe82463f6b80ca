"""What the tests of the testing kit share: a prompt, the dialects, a model."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

HI = [{"role": "user", "content": "Say hi to me"}]
DIALECTS = ["mock", "anthropic", "ollama", "bedrock"]


class City(BaseModel):
    name: str
    country: str


def ask(mock: Any, **kwargs: Any) -> dict[str, Any]:
    """Keyword arguments for one call: Anthropic needs max_tokens, the others take it."""
    return {"messages": HI, "max_tokens": 32, **kwargs}
