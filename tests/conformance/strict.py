"""The rules no OpenAPI document states, which the APIs enforce on schemas sent in strict
mode (OpenAI's structured outputs guide; Anthropic's structured outputs): checked on the
bodies the conformance tests build, independently of how modelwire makes them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from modelwire.spec import ProviderSpec

# keywords OpenAI's strict mode rejects
OPENAI_UNSUPPORTED = frozenset(
    {
        "not",
        "if",
        "then",
        "else",
        "dependentRequired",
        "dependentSchemas",
        "patternProperties",
        "unevaluatedProperties",
        "unevaluatedItems",
        "propertyNames",
        "minProperties",
        "maxProperties",
        "contains",
        "minContains",
        "maxContains",
        "uniqueItems",
        "minLength",
        "maxLength",
    }
)


def subschemas(schema: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if not isinstance(schema, dict):
        return
    yield where, schema
    for key in ("properties", "$defs", "definitions"):
        for name, sub in (schema.get(key) or {}).items():
            yield from subschemas(sub, f"{where}/{key}/{name}")
    for key in ("anyOf", "allOf", "oneOf", "prefixItems"):
        for i, sub in enumerate(schema.get(key) or ()):
            yield from subschemas(sub, f"{where}/{key}/{i}")
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from subschemas(schema[key], f"{where}/{key}")


def openai_strict(schema: dict[str, Any], where: str) -> list[str]:
    problems: list[str] = []
    if schema.get("type") != "object":
        problems.append(f"{where}: the root of a strict schema must be an object")
    for at, sub in subschemas(schema, where):
        if sub.get("type") == "object" or "properties" in sub:
            if sub.get("additionalProperties") is not False:
                problems.append(f"{at}: a strict object needs additionalProperties: false")
            if set(sub.get("required") or ()) != set(sub.get("properties") or {}):
                problems.append(f"{at}: a strict object must require every property")
        if "$ref" in sub and len(sub) > 1 and set(sub) - {"$ref", "description"}:
            problems.append(f"{at}: $ref with sibling keywords {sorted(set(sub) - {'$ref'})}")
        if len(sub.get("allOf") or ()) > 1:
            problems.append(f"{at}: allOf is not supported in strict mode")
        bad = OPENAI_UNSUPPORTED & set(sub)
        if bad:
            problems.append(f"{at}: keywords strict mode rejects: {sorted(bad)}")
    return problems


def anthropic_format(schema: dict[str, Any], where: str) -> list[str]:
    return [
        f"{at}: an object in output_config.format needs additionalProperties: false"
        for at, sub in subschemas(schema, where)
        if (sub.get("type") == "object" or "properties" in sub)
        and sub.get("additionalProperties") is not False
    ]


def strict_problems(spec: ProviderSpec, body: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if spec.dialect == "openai_chat":
        fmt = body.get("response_format") or {}
        inner = fmt.get("json_schema") or {}
        if inner.get("strict"):
            problems += openai_strict(inner.get("schema") or {}, "response_format.schema")
        for i, tool in enumerate(body.get("tools") or ()):
            function = tool.get("function") or {}
            if function.get("strict"):
                problems += openai_strict(function.get("parameters") or {}, f"tools/{i}")
    if spec.dialect == "anthropic_messages":
        fmt = (body.get("output_config") or {}).get("format")
        if fmt:
            problems += anthropic_format(fmt.get("schema") or {}, "output_config.format.schema")
        thinking = body.get("thinking") or {}
        if thinking.get("type") == "enabled":
            if thinking.get("budget_tokens", 0) >= body.get("max_tokens", 0):
                problems.append("thinking.budget_tokens must be below max_tokens")
            choice = (body.get("tool_choice") or {}).get("type")
            if choice in ("any", "tool"):
                problems.append("thinking may not be enabled when tool_choice forces tool use")
    if body.get("parallel_tool_calls") is not None and not body.get("tools"):
        problems.append("parallel_tool_calls is only allowed when tools are given")
    return problems
