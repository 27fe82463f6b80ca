"""The botocore service-model check itself refuses what Bedrock refuses: a check that
passed every body would prove nothing about the bodies modelwire sends."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conformance import service_models

GOOD: dict[str, Any] = {"messages": [{"role": "user", "content": [{"text": "Hi"}]}]}


def test_a_good_body_passes_for_both_operations() -> None:
    for stream in (False, True):
        assert service_models.errors("bedrock", GOOD, model="m", stream=stream) == []


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"messages": [{"role": "robot", "content": [{"text": "Hi"}]}]}, "role"),
        ({**GOOD, "inferenceConfig": {"maxTokens": "ten"}}, "maxTokens"),
        ({**GOOD, "toolConfig": {"tools": [{"toolSpec": {"name": "f"}}]}}, "inputSchema"),
        ({**GOOD, "model": "m"}, "model"),
        ({"messages": [{"role": "user", "content": [{"image": {"format": "tiff"}}]}]}, "format"),
    ],
)
def test_a_bad_body_is_refused_naming_the_member(body: dict[str, Any], problem: str) -> None:
    found = service_models.errors("bedrock", body, model="m", stream=False)
    assert found and any(problem in line for line in found), found


def test_the_operations_take_the_members_the_dialect_sends() -> None:
    members = service_models.input_members("bedrock")
    assert {"messages", "system", "inferenceConfig", "toolConfig"} <= members
    assert {"additionalModelRequestFields", "guardrailConfig", "modelId"} <= members


def test_the_count_tokens_check_takes_the_converse_input_and_nothing_else() -> None:
    good = {"input": {"converse": GOOD}}
    assert service_models.errors("bedrock", good, model="m", stream=False, counting=True) == []
    inference = {"input": {"converse": {**GOOD, "inferenceConfig": {"maxTokens": 5}}}}
    found = service_models.errors("bedrock", inference, model="m", stream=False, counting=True)
    assert any("inferenceConfig" in line for line in found), found
    found = service_models.errors("bedrock", GOOD, model="m", stream=False, counting=True)
    assert any("messages" in line for line in found), found
