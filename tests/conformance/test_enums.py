"""Each option enum in spec/providers/*.yaml is the official document's enum for that field,
for the providers that have a document: an API that adds a value (OpenAI's
reasoning_effort `xhigh`) fails this test until the spec follows."""

from __future__ import annotations

import pytest
from modelwire.spec import ProviderSpec

from tests.conformance import documents
from tests.conformance.test_requests import SPECS

DOCUMENTED = sorted(name for name in SPECS if name in documents.DOCUMENTS)
OPTIONS = [
    (name, option.name) for name in DOCUMENTED for option in SPECS[name].options if option.enum
]


def documented_enum(spec: ProviderSpec, option: str) -> set[object] | None:
    found = spec.option(option)
    assert found is not None
    operation = documents.operation(documents.DOCUMENTS[spec.name], spec.endpoints.chat, "post")
    fields = documents.field_schemas(operation.document, operation.body_schema, found.wire_path)
    assert fields, f"{spec.name} option {option!r} is not a field of {operation.document}"
    return documents.enum_of(operation.document, fields)


@pytest.mark.parametrize(("provider", "option"), OPTIONS, ids=[f"{p}-{o}" for p, o in OPTIONS])
def test_option_enum_is_the_documents(provider: str, option: str) -> None:
    spec = SPECS[provider]
    found = spec.option(option)
    assert found is not None and found.enum
    documented = documented_enum(spec, option)
    assert documented is not None, f"{provider} {option}: the document has no enum for it"
    assert set(found.enum) == documented, (
        f"spec/providers/{provider}.yaml {option} enum {sorted(found.enum)} differs from "
        f"{documents.DOCUMENTS[provider]}'s {sorted(map(str, documented))}"
    )


@pytest.mark.parametrize("provider", DOCUMENTED)
def test_options_without_an_enum_have_none_in_the_document(provider: str) -> None:
    spec = SPECS[provider]
    for option in spec.options:
        if option.enum or option.type not in ("str",):
            continue
        assert documented_enum(spec, option.name) is None, (
            f"{provider} {option.name}: the document enumerates its values; give the spec "
            "the same enum"
        )


def test_every_documented_option_enum_is_compared() -> None:
    # the OpenAI options that brought this test: values the API added after the spec
    assert ("openai", "reasoning_effort") in OPTIONS and ("openai", "verbosity") in OPTIONS
