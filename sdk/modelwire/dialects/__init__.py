"""Wire dialects: pure functions between the unified types and one wire format each.

Adding a dialect means its module (parser, request builder and, at its end, its `WRITER`),
its JSON schema under spec/schemas, and one entry in `_MODULES`.
"""

from __future__ import annotations

from importlib import import_module

from .base import Dialect, Writer

_MODULES = {
    "openai_chat": "openai_chat",
    "openai_responses": "openai_responses",
    "anthropic_messages": "anthropic_messages",
    "ollama_chat": "ollama_chat",
    "gemini": "gemini",
    "bedrock_converse": "bedrock_converse",
}


def get_dialect(name: str) -> Dialect:
    """The dialect object for a spec's `dialect:` name (imported on first use)."""
    try:
        module = _MODULES[name]
    except KeyError:
        raise ValueError(f"unknown dialect {name!r}: one of {sorted(_MODULES)}") from None
    dialect: Dialect = import_module(f"{__name__}.{module}").DIALECT
    return dialect


def get_writer(name: str) -> Writer:
    """The writer of a dialect's wire bytes: what its providers send (imported on first use)."""
    try:
        module = _MODULES[name]
    except KeyError:
        raise ValueError(f"unknown dialect {name!r}: one of {sorted(_MODULES)}") from None
    writer: Writer = import_module(f"{__name__}.{module}").WRITER
    return writer
