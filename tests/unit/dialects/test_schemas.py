from __future__ import annotations

from typing import Any

import pytest
from modelwire import RequestValidationError
from modelwire.dialects.schemas import strict_schema
from pydantic import BaseModel, Field


class Address(BaseModel):
    city: str
    postcode: str | None = None


class Person(BaseModel):
    name: str = Field(min_length=1, max_length=40)
    age: int = 30
    home: Address
    past: list[Address] = []


def objects(schema: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(schema, dict):
        if schema.get("type") == "object":
            found.append(schema)
        for value in schema.values():
            found += objects(value)
    elif isinstance(schema, list):
        for value in schema:
            found += objects(value)
    return found


def test_a_pydantic_schema_becomes_strict() -> None:
    schema = strict_schema(Person.model_json_schema())
    assert len(objects(schema)) == 2  # Person and $defs/Address
    for obj in objects(schema):
        assert obj["additionalProperties"] is False
        assert obj["required"] == list(obj["properties"])
    # constraints the decoder does not enforce and defaults are left out
    assert schema["properties"]["name"] == {"title": "Name", "type": "string"}
    assert "default" not in schema["properties"]["age"]
    # a field with a default stays non-null (the model gives a value pydantic accepts)
    assert schema["properties"]["age"]["type"] == "integer"
    assert schema["$defs"]["Address"]["required"] == ["city", "postcode"]


def test_optional_properties_without_default_become_nullable() -> None:
    schema = strict_schema(
        {
            "type": "object",
            "properties": {"a": {"type": "string"}, "b": {"type": "integer"}},
            "required": ["a"],
        }
    )
    assert schema["required"] == ["a", "b"]
    assert schema["properties"]["a"] == {"type": "string"}
    assert schema["properties"]["b"] == {"anyOf": [{"type": "integer"}, {"type": "null"}]}


def test_ref_with_siblings_is_inlined_and_single_allof_merged() -> None:
    schema = strict_schema(
        {
            "type": "object",
            "properties": {
                "x": {"$ref": "#/$defs/Point", "description": "where"},
                "y": {"allOf": [{"$ref": "#/$defs/Point"}]},
            },
            "required": ["x", "y"],
            "$defs": {"Point": {"type": "object", "properties": {"lat": {"type": "number"}}}},
        }
    )
    x = schema["properties"]["x"]
    assert x["description"] == "where" and "$ref" not in x
    assert x["additionalProperties"] is False and x["required"] == ["lat"]
    assert schema["properties"]["y"] == {"$ref": "#/$defs/Point"}
    assert schema["$defs"]["Point"]["additionalProperties"] is False


def test_the_input_is_not_changed() -> None:
    original = Person.model_json_schema()
    copy = Person.model_json_schema()
    strict_schema(original)
    assert original == copy


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"type": "array", "items": {"type": "string"}}, "must be an object at its root"),
        (
            {
                "type": "object",
                "properties": {
                    "m": {"type": "object", "additionalProperties": {"type": "integer"}}
                },
            },
            "properties/m is an object with free keys",
        ),
        ({"type": "object", "properties": {"n": {"not": {"type": "null"}}}}, "properties/n/not"),
        (
            {
                "type": "object",
                "properties": {"c": {"allOf": [{"type": "object"}, {"type": "object"}]}},
            },
            "combines several schemas",
        ),
        (
            {"type": "object", "properties": {"r": {"$ref": "#/$defs/Missing", "title": "R"}}},
            "Missing",
        ),
    ],
)
def test_what_cannot_be_strict_is_refused(schema: dict[str, Any], message: str) -> None:
    with pytest.raises(RequestValidationError, match=message) as refused:
        strict_schema(schema, provider="openai")
    assert "strict=False" in str(refused.value) and refused.value.provider == "openai"


def test_a_dict_field_is_refused() -> None:
    class Counts(BaseModel):
        by_word: dict[str, int]

    with pytest.raises(RequestValidationError, match="by_word"):
        strict_schema(Counts.model_json_schema())


def test_anthropic_profile_keeps_optional_properties_and_drops_numeric_bounds() -> None:
    schema = strict_schema(
        {
            "type": "object",
            "properties": {"n": {"type": "integer", "minimum": 1}, "o": {"type": "string"}},
            "required": ["n"],
        },
        profile="anthropic",
    )
    assert schema == {
        "type": "object",
        "properties": {"n": {"type": "integer"}, "o": {"type": "string"}},
        "required": ["n"],
        "additionalProperties": False,
    }
