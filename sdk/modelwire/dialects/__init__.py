"""Wire dialects: pure functions between the unified types and one wire format each."""

from __future__ import annotations

from importlib import import_module

from .base import Dialect

_MODULES = {
    "openai_chat": "openai_chat",
    "anthropic_messages": "anthropic_messages",
    "ollama_chat": "ollama_chat",
}


def get_dialect(name: str) -> Dialect:
    """The dialect object for a spec's `dialect:` name (imported on first use)."""
    try:
        module = _MODULES[name]
    except KeyError:
        raise ValueError(f"unknown dialect {name!r}: one of {sorted(_MODULES)}") from None
    dialect: Dialect = import_module(f"{__name__}.{module}").DIALECT
    return dialect
