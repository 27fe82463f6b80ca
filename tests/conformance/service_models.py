"""Requests checked against botocore's service models, for the AWS APIs that publish no
OpenAPI document (Bedrock): botocore's `ParamValidator` on the operation's input shape,
the same check boto3 makes before it sends.

The wire body is JSON; botocore's input is that body with the URI members (the model id)
beside it. Blobs travel base64-encoded on the wire, which the validator takes as strings.
"""

from __future__ import annotations

import functools
from typing import Any

# which provider's requests each AWS service model judges, and its chat operations
SERVICE_MODELS: dict[str, tuple[str, str, str]] = {
    "bedrock": ("bedrock-runtime", "Converse", "ConverseStream"),
}
# the operation that counts tokens, by provider
COUNTING_OPERATIONS = {"bedrock": "CountTokens"}


@functools.cache
def _service(name: str) -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model(name)


def errors(
    provider: str, body: dict[str, Any], *, model: str, stream: bool, counting: bool = False
) -> list[str]:
    """What botocore's validator finds wrong with `body` for the provider's operation: the
    chat, the streamed chat, or (`counting`) the token count."""
    from botocore.validate import ParamValidator

    service, whole, streamed = SERVICE_MODELS[provider]
    name = COUNTING_OPERATIONS[provider] if counting else streamed if stream else whole
    operation = _service(service).operation_model(name)
    params = {**body, "modelId": model}
    report = ParamValidator().validate(params, operation.input_shape)
    found = report.generate_report().splitlines() if report.has_errors() else []
    return found + _enum_problems(params, operation.input_shape, "")


def _enum_problems(value: Any, shape: Any, where: str) -> list[str]:
    """The enum members botocore's validator does not check (it leaves them to the
    service): a string outside its shape's enum, at any depth."""
    kind = shape.type_name
    if kind == "string" and shape.enum and isinstance(value, str) and value not in shape.enum:
        return [f"{where}: {value!r} is not one of {sorted(shape.enum)}"]
    problems: list[str] = []
    if kind == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                problems += _enum_problems(value[name], member, f"{where}.{name}".lstrip("."))
    elif kind == "list" and isinstance(value, list):
        for i, item in enumerate(value):
            problems += _enum_problems(item, shape.member, f"{where}[{i}]")
    elif kind == "map" and isinstance(value, dict):
        for key, item in value.items():
            problems += _enum_problems(item, shape.value, f"{where}.{key}")
    return problems


def input_members(provider: str, *, stream: bool = False) -> set[str]:
    """The top-level members the operation takes."""
    service, whole, streamed = SERVICE_MODELS[provider]
    operation = _service(service).operation_model(streamed if stream else whole)
    return set(operation.input_shape.members)
