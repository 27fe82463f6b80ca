"""The providers' official API descriptions, read at test time from the shared folder, and
the validation of a request against one of their operations.

The documents are not part of this repository: they are found at
`MODELWIRE_OFFICIAL_SPECS`, else next to the shared recordings (`../shared/official-specs`).
A test that needs them and does not find them fails, saying where it looked.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema._keywords
import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ENV_VAR = "MODELWIRE_OFFICIAL_SPECS"
ROOT = Path(__file__).resolve().parents[2]

# which official document describes each provider's API; providers without one of their
# own are checked against OpenAI's, whose API they reimplement
DOCUMENTS = {
    "openai": "openai.openapi.yaml",
    "openai_responses": "openai.openapi.yaml",
    "openrouter": "openrouter.openapi.yaml",
    "anthropic": "anthropic.openapi.yaml",
    "ollama": "ollama.openapi.yaml",
}
WITHOUT_DOCUMENT = {
    "groq",
    "lmstudio",
    "llamacpp",
    # OpenAI-compatible clouds and servers without an official document here
    "cerebras",
    "deepseek",
    "fireworks",
    "huggingface",
    "mistral",
    "together",
    "vllm",
    "xai",
    "zai",
    # Azure OpenAI reimplements OpenAI's API under its own paths (see `document_path`)
    "azure_openai",
    "azure_openai_v1",
    "azure_openai_responses",
}
# no API description of Google's is among the official documents: Gemini's requests are
# compared with the ones google-genai builds for the same request (test_gemini.py)
COMPARED_WITH_SDK = {"gemini": "google-genai"}


def document_path(path: str) -> str:
    """The document's path for a provider's: Azure's deployment paths
    (`/openai/deployments/{model}/chat/completions`) are OpenAI's (`/chat/completions`)."""
    head, found, tail = path.partition("/{model}")
    return tail if found and head.endswith("/deployments") else path


def documents_dir() -> Path:
    explicit = os.environ.get(ENV_VAR)
    if explicit:
        return Path(explicit)
    cassettes = os.environ.get("MODELWIRE_SHARED_CASSETTES")
    if cassettes:
        return Path(cassettes).parent / "official-specs"
    return ROOT.parent / "shared" / "official-specs"


def document_name(provider: str) -> str:
    """The document a provider's requests are validated against."""
    if provider in DOCUMENTS:
        return DOCUMENTS[provider]
    assert provider in WITHOUT_DOCUMENT, (
        f"provider {provider!r} has no entry here: name its official document in DOCUMENTS, "
        "or add it to WITHOUT_DOCUMENT to be checked against OpenAI's"
    )
    return DOCUMENTS["openai"]


@functools.cache
def load(name: str) -> dict[str, Any]:
    path = documents_dir() / name
    if not path.is_file():
        pytest.fail(
            f"The official API document {name} was not found in {path.parent} "
            f"({'from ' + ENV_VAR if os.environ.get(ENV_VAR) else ENV_VAR + ' unset'}). It is "
            "not part of this repository: put the documents at ../shared/official-specs, or "
            f"point {ENV_VAR} at their folder.",
            pytrace=False,
        )
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("{"):
        document: dict[str, Any] = json.loads(text)
    else:
        document = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return document


@dataclass(frozen=True)
class Operation:
    """One operation of an official document, with a validator of its request body."""

    document: str
    path: str
    method: str
    spec: dict[str, Any]

    @property
    def body_schema(self) -> dict[str, Any]:
        return self.schema_of("application/json")

    def schema_of(self, media: str) -> dict[str, Any]:
        """The request body's schema for one media type (a form's fields for
        `multipart/form-data`)."""
        body = self.spec.get("requestBody")
        assert body, f"{self.method.upper()} {self.path} in {self.document} takes no body"
        assert media in body["content"], f"{self.path} takes no {media} body"
        schema: dict[str, Any] = body["content"][media]["schema"]
        return schema

    def errors(self, body: Any, media: str = "application/json") -> list[str]:
        """Every way `body` breaks the operation's request schema, and every top-level key
        the schema does not name (most request schemas allow any, the APIs do not)."""
        schema = self.schema_of(media)
        validator = _validator(self.document, json.dumps(schema, sort_keys=True))
        problems = [
            f"{'/'.join(map(str, error.absolute_path)) or '(body)'}: {error.message[:300]}"
            for error in sorted(validator.iter_errors(body), key=lambda e: list(e.path))
        ]
        known = property_names(self.document, schema)
        problems += [f"{key}: not a field of the request" for key in body if key not in known]
        return problems


def operation(name: str, path: str, method: str) -> Operation:
    document = load(name)
    paths = document.get("paths") or {}
    assert path in paths, f"{name} has no path {path} (it has {sorted(paths)[:40]} ...)"
    assert method in paths[path], f"{name} has no {method.upper()} {path}"
    return Operation(name, path, method, paths[path][method])


@functools.cache
def _registry(name: str) -> Registry[Any]:
    resource = Resource.from_contents(load(name), default_specification=DRAFT202012)
    return Registry().with_resource(_uri(name), resource)


def _uri(name: str) -> str:
    return f"urn:modelwire-official:{name}"


def _declares(validator: Any, branch: dict[str, Any], name: str, value: Any) -> bool:
    """Whether a union branch takes `value` for its discriminator `name` (a branch that
    does not say takes any)."""
    if "$ref" in branch:
        branch = validator._resolver.lookup(branch["$ref"]).contents
    parts = [branch, *branch.get("allOf", [])]
    for part in parts:
        if "$ref" in part:
            part = validator._resolver.lookup(part["$ref"]).contents
        declared = (part.get("properties") or {}).get(name)
        if isinstance(declared, dict):
            if "const" in declared:
                return bool(declared["const"] == value)
            if "enum" in declared:
                return value in declared["enum"]
    return True


def discriminated_one_of(
    validator: Any, branches: list[dict[str, Any]], instance: Any, schema: dict[str, Any]
) -> Any:
    """OpenAPI's `oneOf` with a `discriminator`: the server picks the branch by the
    discriminating property, so a body fits when it fits one of the branches that take its
    value. Plain JSON Schema `oneOf` also fails a body that fits two branches (OpenAI's user
    message is both an EasyInputMessage and an InputMessage); read as `anyOf` over those."""
    name = (schema.get("discriminator") or {}).get("propertyName")
    if name and isinstance(instance, dict) and name in instance:
        branches = [b for b in branches if _declares(validator, b, name, instance[name])]
    return jsonschema._keywords.anyOf(validator, branches, instance, schema)


_OpenAPIValidator = jsonschema.validators.extend(
    Draft202012Validator, {"oneOf": discriminated_one_of}
)


@functools.cache
def _validator(name: str, schema_json: str) -> Any:
    # the operation's schema, each "#/components/..." in it read from its document
    schema = _rebased(name, json.loads(schema_json))
    return _OpenAPIValidator(schema, registry=_registry(name))


def _rebased(name: str, schema: Any) -> Any:
    """`schema` with each local `$ref` pointed at its document."""
    if isinstance(schema, dict):
        out = {k: _rebased(name, v) for k, v in schema.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith("#"):
            out["$ref"] = _uri(name) + ref
        return out
    if isinstance(schema, list):
        return [_rebased(name, item) for item in schema]
    return schema


def resolve(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A schema with its `$ref` (a local one) followed."""
    seen = 0
    while "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/"), f"only local refs are followed, not {ref}"
        target: Any = load(name)
        for key in ref[2:].split("/"):
            target = target[key.replace("~1", "/").replace("~0", "~")]
        schema = target
        seen += 1
        assert seen < 50, f"a $ref loop at {ref}"
    return schema


def alternatives(name: str, schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The schema and every schema it is made of (allOf, anyOf, oneOf), refs followed."""
    schema = resolve(name, schema)
    yield schema
    for key in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(key) or ():
            yield from alternatives(name, part)


def property_names(name: str, schema: dict[str, Any]) -> set[str]:
    return {key for part in alternatives(name, schema) for key in part.get("properties") or {}}


def field_schemas(name: str, schema: dict[str, Any], path: list[str]) -> list[dict[str, Any]]:
    """The schemas of the field at `path` (e.g. ["options", "num_ctx"]) in a request schema."""
    found = [schema]
    for key in path:
        found = [
            part["properties"][key]
            for candidate in found
            for part in alternatives(name, candidate)
            if key in (part.get("properties") or {})
        ]
    return found


def enum_of(name: str, schemas: list[dict[str, Any]]) -> set[Any] | None:
    """Every value the field's schemas enumerate (None when none of them is an enum)."""
    values: set[Any] = set()
    enumerated = False
    for schema in schemas:
        for part in alternatives(name, schema):
            if "enum" in part:
                enumerated = True
                values.update(v for v in part["enum"] if v is not None)
            if "const" in part and part.get("type") != "null" and part["const"] is not None:
                enumerated = True
                values.add(part["const"])
    return values if enumerated else None
