"""Every request of the providers' batch APIs, as a client sends it, validated against the
provider's official API description: OpenAI's file upload (its multipart form's fields),
its batch creation, and each line of the input file, whose body must be a request the chat
(or Responses) endpoint takes; Anthropic's batch creation, whose `params` are Messages
requests; and the path and method of every look, cancel and download.

Each provider's job carries every request shape of `test_requests.SHAPES` that it takes
unstreamed, so each shape is checked inside a batch as it is in a single call.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from modelwire import Client

from tests.conformance import documents
from tests.conformance.strict import strict_problems
from tests.conformance.test_requests import REFUSED, SHAPES, SPECS, chat_operation, own_options
from tests.unit.batch_server import BatchServer, parse_form

BATCH_PROVIDERS = sorted(name for name, spec in SPECS.items() if spec.endpoints.batches)


def test_the_providers_with_a_batch_api() -> None:
    assert BATCH_PROVIDERS == ["anthropic", "openai", "openai_responses"]


def job_requests(provider: str) -> dict[str, dict[str, Any]]:
    return {
        shape: fields
        for shape, (fields, stream) in SHAPES.items()
        if not stream and (provider, shape) not in REFUSED
    }


def run_job(provider: str, *, cancel: bool = False) -> BatchServer:
    spec = SPECS[provider]
    server = BatchServer("anthropic" if provider == "anthropic" else provider, ends_after=1)
    client = Client(
        spec=spec,
        api_key="sk-test",
        http_client=httpx.Client(transport=httpx.MockTransport(server)),
        max_retries=0,
    )
    job = client.batches.submit(job_requests(provider))
    if cancel:
        client.batches.cancel(job)
    ended = client.batches.wait(job, interval=0.001, timeout=5)
    client.batches.results(ended)
    return server


def template_of(document: dict[str, Any], request: httpx.Request) -> str:
    """The document's path template that a sent request fits; the document's paths are
    under its server's URL (OpenAI's ends in /v1, Anthropic's is the host alone)."""
    server = httpx.URL(document["servers"][0]["url"]).path.rstrip("/")
    path = request.url.path.removeprefix(server)
    for template, operations in document["paths"].items():
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path) and request.method.lower() in operations:
            return template
    raise AssertionError(f"{request.method} {path} is no operation of the document")


@pytest.mark.parametrize("provider", ["openai", "openai_responses"])
def test_openai_upload_create_and_every_line_conform(provider: str) -> None:
    spec = SPECS[provider]
    name = documents.document_name(provider)
    server = run_job(provider)
    upload, create = server.requests[:2]

    form = parse_form(upload)
    fields = {key: value.decode() for key, value in form.items()}
    upload_op = documents.operation(name, "/files", "post")
    assert upload_op.errors(fields, "multipart/form-data") == []

    body = json.loads(create.content)
    assert documents.operation(name, "/batches", "post").errors(body) == []

    lines = [json.loads(line) for line in form["file"].splitlines()]
    assert len(lines) == len(job_requests(provider)) > 10
    chat = chat_operation(spec)
    for line in lines:
        assert set(line) == {"custom_id", "method", "url", "body"}
        assert (line["method"], line["url"]) == ("POST", body["endpoint"])
        checked = {k: v for k, v in line["body"].items() if k not in own_options(spec)}
        problems = chat.errors(checked) + strict_problems(spec, line["body"])
        assert not problems, f"{line['custom_id']}: {problems}"


def test_anthropic_create_conforms_with_every_request_inside() -> None:
    spec = SPECS["anthropic"]
    server = run_job("anthropic")
    body = json.loads(server.requests[0].content)
    operation = documents.operation("anthropic.openapi.yaml", "/v1/messages/batches", "post")
    assert operation.errors(body) == []
    assert len(body["requests"]) == len(job_requests("anthropic")) > 10
    chat = chat_operation(spec)
    for item in body["requests"]:
        problems = chat.errors(item["params"]) + strict_problems(spec, item["params"])
        assert not problems, f"{item['custom_id']}: {problems}"


@pytest.mark.parametrize("provider", BATCH_PROVIDERS)
def test_every_call_of_a_job_is_an_operation_of_the_document(provider: str) -> None:
    document = documents.load(documents.document_name(provider))
    server = run_job(provider, cancel=True)
    sent = [(r.method, template_of(document, r)) for r in server.requests]
    if provider == "anthropic":
        base = "/v1/messages/batches"
        expected = [
            ("POST", base),
            ("POST", base + "/{message_batch_id}/cancel"),
            ("GET", base + "/{message_batch_id}"),
            ("GET", base + "/{message_batch_id}/results"),
        ]
    else:
        expected = [
            ("POST", "/files"),
            ("POST", "/batches"),
            ("POST", "/batches/{batch_id}/cancel"),
            ("GET", "/batches/{batch_id}"),
            ("GET", "/files/{file_id}/content"),
        ]
    assert sent == expected
    # the looks, cancels and downloads send no body, as their operations take none
    for request in server.requests[len(expected) - 3 :]:
        assert request.content == b""
