"""JSON Schemas in the form a provider's constrained decoding accepts.

OpenAI's strict mode (`strict: true` on a response format or a tool) accepts only a
subset of JSON Schema: every object closed (`additionalProperties: false`), every
property required, no `allOf` of several schemas, no `$ref` beside other keywords, and
none of the keywords in `REFUSED`. Anthropic's `output_config.format` wants every object
closed too, and takes fewer constraint keywords. `strict_schema` rewrites a schema (a
pydantic model's or a hand-written one) into that form:

- every object gets `additionalProperties: false`; an object whose extra keys are a
  schema (a pydantic `dict[str, X]` field) has no fixed keys and is refused;
- (OpenAI) every property becomes required; one that was optional and has no default
  becomes nullable, so the model answers `null` where it would have left it out;
- `$defs` are rewritten in place; a `$ref` with sibling keywords is replaced by its
  definition merged with them; an `allOf` of one schema is merged into its parent;
  `oneOf` becomes `anyOf`;
- `default`, and the constraints a provider does not enforce (`DROPPED`), are left
  out: a pydantic model still checks them when the answer is parsed;
- a keyword that would change what the schema means (`REFUSED`) raises a
  `RequestValidationError` that names where it is, before anything is sent.

Pure and deterministic: validation calls it to refuse a schema before sending, the
dialect calls it again to build the body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from ..errors import RequestValidationError

Profile = Literal["openai", "anthropic"]

# keywords no strict schema may use: leaving them out would change what is accepted
REFUSED: dict[str, str] = {
    "not": "a negated schema",
    "if": "a conditional schema",
    "then": "a conditional schema",
    "else": "a conditional schema",
    "dependentRequired": "dependent requirements",
    "dependentSchemas": "dependent schemas",
    "patternProperties": "properties matched by pattern",
    "unevaluatedProperties": "unevaluated properties",
    "propertyNames": "a schema for property names",
    "unevaluatedItems": "unevaluated items",
}

# constraints a provider's decoder does not enforce: left out of what is sent
_DROPPED_OPENAI = frozenset(
    {
        "default",
        "minLength",
        "maxLength",
        "uniqueItems",
        "minProperties",
        "maxProperties",
        "contains",
        "minContains",
        "maxContains",
        "discriminator",
    }
)
_DROPPED_ANTHROPIC = _DROPPED_OPENAI | {
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "maxItems",
}
DROPPED: dict[Profile, frozenset[str]] = {
    "openai": _DROPPED_OPENAI,
    "anthropic": _DROPPED_ANTHROPIC,
}
# the string formats each provider documents; any other `format` is left out
_FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
)
FORMATS: dict[Profile, frozenset[str]] = {"openai": _FORMATS, "anthropic": _FORMATS | {"uri"}}

_COMPOSITE = ("anyOf", "oneOf", "prefixItems")


def strict_schema(
    schema: Mapping[str, Any],
    *,
    profile: Profile = "openai",
    where: str = "schema",
    provider: str | None = None,
) -> dict[str, Any]:
    """`schema` in the strict form of `profile`; raises RequestValidationError, naming the
    place in the schema, for what cannot be made strict."""
    rewriter = _Rewriter(dict(schema), profile, provider)
    out: dict[str, Any] = rewriter.node(dict(schema), where)
    if out.get("type") != "object":
        raise rewriter.refuse(
            where,
            f"is {out.get('type') or 'not an object'}; a strict schema must be an object at "
            "its root: wrap the value in a model with one field",
        )
    return out


class _Rewriter:
    __slots__ = ("defs", "dropped", "profile", "provider")

    def __init__(self, root: dict[str, Any], profile: Profile, provider: str | None) -> None:
        self.defs: dict[str, Any] = dict(root.get("$defs") or {})
        self.defs.update(
            {f"definitions/{k}": v for k, v in (root.get("definitions") or {}).items()}
        )
        self.profile = profile
        self.dropped = DROPPED[profile]
        self.provider = provider

    def refuse(self, at: str, problem: str) -> RequestValidationError:
        return RequestValidationError(
            f"{at} {problem} (strict structured output cannot express it); change the "
            "schema, or pass strict=False to send it as it is",
            provider=self.provider,
        )

    def resolve(self, ref: str, at: str) -> dict[str, Any]:
        for prefix in ("#/$defs/", "#/"):
            if ref.startswith(prefix):
                key = ref[len(prefix) :]
                if key in self.defs:
                    value: dict[str, Any] = dict(self.defs[key])
                    return value
        raise self.refuse(at, f"refers to {ref!r}, which is not among the schema's $defs")

    def node(self, schema: Any, at: str) -> Any:
        if schema is True:
            raise self.refuse(at, "accepts any value")
        if not isinstance(schema, dict):
            return schema
        node = dict(schema)
        for keyword in REFUSED:
            if keyword in node:
                raise self.refuse(f"{at}/{keyword}", f"is {REFUSED[keyword]}")
        for keyword in self.dropped:
            node.pop(keyword, None)
        if node.get("format") is not None and node["format"] not in FORMATS[self.profile]:
            node.pop("format")
        if self.profile == "anthropic" and node.get("minItems", 0) > 1:
            node.pop("minItems")

        every = node.pop("allOf", None)
        if every is not None:
            if len(every) != 1:
                raise self.refuse(f"{at}/allOf", "combines several schemas with allOf")
            node = {**self.node(every[0], f"{at}/allOf/0"), **node}
        ref = node.get("$ref")
        if isinstance(ref, str) and set(node) - {"$ref"}:
            # a $ref beside other keywords: the definition itself, with them merged in
            del node["$ref"]
            node = {**self.resolve(ref, at), **node}
            return self.node(node, at)

        if "oneOf" in node:
            node["anyOf"] = node.pop("oneOf")
        for key in ("$defs", "definitions"):
            if isinstance(node.get(key), dict):
                node[key] = {
                    name: self.node(sub, f"{at}/{key}/{name}") for name, sub in node[key].items()
                }
        for key in _COMPOSITE:
            if isinstance(node.get(key), list):
                node[key] = [self.node(sub, f"{at}/{key}/{i}") for i, sub in enumerate(node[key])]
        if isinstance(node.get("items"), dict):
            node["items"] = self.node(node["items"], f"{at}/items")
        if node.get("type") == "object" or "properties" in node:
            self.close(node, at)
        return node

    def close(self, node: dict[str, Any], at: str) -> None:
        extra = node.get("additionalProperties")
        if extra not in (None, False):
            raise self.refuse(
                at,
                "is an object with free keys (additionalProperties, e.g. a dict field); "
                "strict output needs fixed properties: use a list of key/value models",
            )
        node["additionalProperties"] = False
        properties: dict[str, Any] = node.get("properties") or {}
        required = set(node.get("required") or ())
        out: dict[str, Any] = {}
        for name, sub in properties.items():
            strict = self.node(sub, f"{at}/properties/{name}")
            if self.profile == "openai" and name not in required:
                has_default = isinstance(sub, dict) and "default" in sub
                if not has_default:
                    strict = _nullable(strict)
            out[name] = strict
        node["properties"] = out
        if self.profile == "openai":
            node["required"] = list(out)
        elif required:
            node["required"] = [name for name in out if name in required]


def _nullable(schema: Any) -> Any:
    """The schema, or null."""
    if not isinstance(schema, dict):
        return schema
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return schema
    if any(isinstance(s, dict) and s.get("type") == "null" for s in schema.get("anyOf") or ()):
        return schema
    return {"anyOf": [schema, {"type": "null"}]}
