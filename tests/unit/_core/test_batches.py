"""The providers' batch APIs (`_core/batches.py`), through real clients whose transport is
the in-memory batch API of `tests/unit/batch_server.py`, sync and async: what is sent to
submit, look at, cancel and read a job, and what comes back."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from typing import Any

import httpx
import modelwire
import pytest
from modelwire import (
    BatchItemError,
    BatchJob,
    CapabilityError,
    CompletionRequest,
    RequestValidationError,
    UnexpectedResponseError,
)

from tests.unit.batch_server import BatchServer, parse_form

CLASSES = {
    "openai": (modelwire.OpenAI, modelwire.AsyncOpenAI),
    "openai_responses": (modelwire.OpenAIResponses, modelwire.AsyncOpenAIResponses),
    "anthropic": (modelwire.Anthropic, modelwire.AsyncAnthropic),
}


def ask(text: str, **fields: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}], "max_tokens": 16, **fields}


class Driver:
    """One client, sync or async, with the same calls: `run("submit", ...)`."""

    def __init__(self, server: BatchServer, mode: str) -> None:
        sync_class, async_class = CLASSES[server.style]
        self.mode = mode
        self.client = server.client(sync_class if mode == "sync" else async_class)

    def run(self, method: str, *args: Any, **kwargs: Any) -> Any:
        call = getattr(self.client.batches, method)
        if self.mode == "sync":
            return call(*args, **kwargs)
        return asyncio.run(call(*args, **kwargs))


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


REQUESTS = {
    "first": ask("Name a river."),
    "second": CompletionRequest(**ask("Name a sea.", model="gpt-4o", max_tokens=32)),
    "broken": ask("please fail"),
}


def run_to_end(driver: Driver, **submit: Any) -> tuple[BatchJob, BatchJob, dict[str, Any]]:
    job = driver.run("submit", REQUESTS, **submit)
    ended = driver.run("wait", job, interval=0.001, timeout=5)
    return job, ended, driver.run("results", ended)


# ----------------------------------------------------------------------------- OpenAI


@pytest.mark.parametrize("style", ["openai", "openai_responses"])
def test_openai_submit_uploads_one_jsonl_line_per_request(style: str, mode: str) -> None:
    server = BatchServer(style)
    job = Driver(server, mode).run("submit", REQUESTS, metadata={"run": "nightly"})

    upload, create = server.requests
    assert (upload.method, upload.url.path) == ("POST", "/v1/files")
    assert upload.headers["content-type"].startswith("multipart/form-data; boundary=")
    form = parse_form(upload)
    assert form["purpose"] == b"batch"
    lines = [json.loads(line) for line in form["file"].splitlines()]
    endpoint = "/v1/chat/completions" if style == "openai" else "/v1/responses"
    assert [line["custom_id"] for line in lines] == ["first", "second", "broken"]
    assert {(line["method"], line["url"]) for line in lines} == {("POST", endpoint)}
    # each body is the one complete() would send for that request
    single = modelwire.client(style, api_key="sk-x")
    for line, request in zip(lines, REQUESTS.values(), strict=True):
        prepared = single._config.request(request, {})
        assert line["body"] == json.loads(single._config.chat_call(prepared, stream=False).content)
    assert lines[1]["body"]["model"] == "gpt-4o"

    assert (create.method, create.url.path) == ("POST", "/v1/batches")
    assert json.loads(create.content) == {
        "input_file_id": "file-1",
        "endpoint": endpoint,
        "completion_window": "24h",
        "metadata": {"run": "nightly"},
    }
    assert create.headers["authorization"] == "Bearer sk-secret"
    assert (job.id, job.provider, job.status, job.raw_status) == (
        "batch_1",
        style,
        "in_progress",
        "validating",
    )
    assert job.metadata == {"run": "nightly"}
    assert job.created_at == datetime.fromtimestamp(1711471533, timezone.utc)
    assert not job.ended and job.ended_at is None


def test_openai_job_goes_through_its_states_and_results_mix_success_and_error(mode: str) -> None:
    server = BatchServer("openai")
    driver = Driver(server, mode)
    job = driver.run("submit", REQUESTS)
    seen = [driver.run("get", job) for _ in range(3)]
    assert [j.raw_status for j in seen] == ["in_progress", "finalizing", "completed"]
    assert [j.status for j in seen] == ["in_progress", "in_progress", "completed"]
    ended = seen[-1]
    assert ended.ended and ended.ended_at == datetime.fromtimestamp(1711471593, timezone.utc)
    assert (ended.counts.total, ended.counts.succeeded, ended.counts.errored) == (3, 2, 1)
    assert ended.counts.processing == 0

    results = driver.run("results", ended)
    fetched = [r.url.path for r in server.requests[-2:]]
    assert fetched == ["/v1/files/file-1-output/content", "/v1/files/file-1-errors/content"]
    assert set(results) == {"first", "second", "broken"}
    first = results["first"]
    assert first.ok and first.response is not None
    assert first.response.content == "answer to Name a river."
    assert first.response.provider == "openai" and first.response.request_id == "req_0"
    assert first.response.usage is not None and first.response.usage.input_tokens == 5
    broken = results["broken"]
    assert not broken.ok and broken.response is None
    assert isinstance(broken.error, BatchItemError)
    assert broken.error.status_code == 400 and broken.error.request_id == "req_2"
    assert broken.error.error_type == "invalid_request_error"
    assert broken.error.error_code == "invalid_value"
    assert "'broken'" in str(broken.error) and "max_tokens" in str(broken.error)


def test_openai_responses_results_are_read_by_the_responses_dialect(mode: str) -> None:
    _, ended, results = run_to_end(Driver(BatchServer("openai_responses"), mode))
    assert ended.status == "completed"
    response = results["second"].response
    assert response is not None and response.content == "answer to Name a sea."
    assert response.finish_reason == "stop"


def test_openai_cancel(mode: str) -> None:
    server = BatchServer("openai")
    driver = Driver(server, mode)
    job = driver.run("submit", REQUESTS)
    canceling = driver.run("cancel", job.id)
    assert server.requests[-1].method == "POST"
    assert server.requests[-1].url.path == "/v1/batches/batch_1/cancel"
    assert (canceling.status, canceling.raw_status) == ("canceling", "cancelling")
    ended = driver.run("wait", canceling, interval=0.001, timeout=5)
    assert (ended.status, ended.raw_status, ended.ended) == ("canceled", "cancelled", True)


# ----------------------------------------------------------------------------- Anthropic


def test_anthropic_submit_sends_the_requests_inline(mode: str) -> None:
    server = BatchServer("anthropic")
    job = Driver(server, mode).run("submit", [ask("one"), ask("two")])
    (create,) = server.requests
    assert (create.method, create.url.path) == ("POST", "/v1/messages/batches")
    assert create.headers["x-api-key"] == "sk-ant-secret"
    body = json.loads(create.content)
    assert [item["custom_id"] for item in body["requests"]] == ["request-0", "request-1"]
    single = modelwire.Anthropic(api_key="sk-x")
    expected = single._config.chat_call(single._config.request(ask("one"), {}), stream=False)
    assert body["requests"][0]["params"] == json.loads(expected.content)
    assert (job.id, job.status, job.raw_status) == ("msgbatch_1", "in_progress", "in_progress")
    assert job.counts.total == job.counts.processing == 2
    assert job.expires_at == datetime(2024, 8, 21, 18, 37, 24, 100435, timezone.utc)


def test_anthropic_results_succeeded_errored_and_expired(mode: str) -> None:
    server = BatchServer("anthropic")
    driver = Driver(server, mode)
    requests = {**REQUESTS, "late": ask("expire please")}
    job = driver.run("submit", requests)
    ended = driver.run("wait", job, interval=0.001, timeout=5)
    assert server.polls["msgbatch_1"] == 3
    assert (ended.status, ended.raw_status) == ("completed", "ended")
    counts = ended.counts
    assert (counts.succeeded, counts.errored, counts.expired, counts.processing) == (2, 1, 1, 0)
    results = driver.run("results", ended)
    assert server.requests[-1].url.path == "/v1/messages/batches/msgbatch_1/results"
    second = results["second"].response
    assert second is not None and second.content == "answer to Name a sea."
    assert second.finish_reason == "stop" and second.provider == "anthropic"
    broken = results["broken"].error
    assert isinstance(broken, BatchItemError)
    assert broken.error_type == "invalid_request_error" and "too big" in str(broken)
    late = results["late"].error
    assert isinstance(late, BatchItemError) and late.error_type == "expired"


def test_anthropic_cancel_ends_canceled(mode: str) -> None:
    server = BatchServer("anthropic")
    driver = Driver(server, mode)
    job = driver.run("submit", REQUESTS)
    canceling = driver.run("cancel", job)
    assert server.requests[-1].url.path == "/v1/messages/batches/msgbatch_1/cancel"
    assert canceling.status == "canceling"
    ended = driver.run("get", job)
    assert (ended.status, ended.raw_status) == ("canceled", "ended")
    results = driver.run("results", ended)
    assert {r.error.error_type for r in results.values() if r.error} == {"canceled"}


# ----------------------------------------------------------------------------- refused before I/O


def refusing(style: str, mode: str) -> Driver:
    driver = Driver(BatchServer(style), mode)
    driver.client._http._transport = httpx.MockTransport(_no_io)
    return driver


def _no_io(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"nothing may be sent: {request.url}")


@pytest.mark.parametrize(
    ("style", "requests", "submit", "says"),
    [
        ("openai", {}, {}, "at least one request"),
        ("openai", {"a": ask("x", timeout=5)}, {}, "timeout"),
        ("openai", {"a": ask("x", extra_headers={"X-A": "1"})}, {}, "extra_headers"),
        ("openai", {"a": {"messages": []}}, {}, "message"),
        ("openai", "not requests", {}, "a dict"),
        ("openai", {"": ask("x")}, {}, "non-empty string"),
        ("openai", [ask("x")], {"metadata": {f"k{i}": "v" for i in range(17)}}, "16 keys"),
        ("openai", [ask("x")], {"metadata": {"k": "v" * 513}}, "512"),
        ("anthropic", {"has space": ask("x")}, {}, "must match"),
        ("anthropic", [ask("x")], {"metadata": {"k": "v"}}, "no metadata"),
    ],
)
def test_bad_submissions_raise_before_any_request(
    style: str, requests: Any, submit: dict[str, Any], says: str, mode: str
) -> None:
    with pytest.raises(RequestValidationError, match=says):
        refusing(style, mode).run("submit", requests, **submit)


def test_too_many_requests_for_one_job(mode: str) -> None:
    driver = refusing("anthropic", mode)
    many = {f"r{i}": ask("x") for i in range(100_001)}
    with pytest.raises(RequestValidationError, match="more than the 100000"):
        driver.run("submit", many)


@pytest.mark.parametrize("provider", ["ollama", "openrouter", "groq", "llamacpp"])
def test_a_provider_without_a_batch_api_raises_before_any_request(provider: str) -> None:
    http = httpx.Client(transport=httpx.MockTransport(_no_io))
    client = modelwire.client(provider, api_key="k", http_client=http)
    with pytest.raises(CapabilityError, match="has no batch API") as raised:
        client.batches.submit([ask("x")])
    assert "modelwire.batch()" in str(raised.value)


def test_results_of_a_job_not_ended_raise_before_any_request(mode: str) -> None:
    driver = Driver(BatchServer("openai"), mode)
    job = driver.run("submit", REQUESTS)
    driver.client._http._transport = httpx.MockTransport(_no_io)
    with pytest.raises(RequestValidationError, match="has not ended"):
        driver.run("results", job)
    with pytest.raises(RequestValidationError, match="batch job or its id"):
        driver.run("get", "")


# ----------------------------------------------------------------------------- odd answers


def answering(style: str, mode: str, content: bytes) -> Driver:
    driver = Driver(BatchServer(style), mode)
    reply = httpx.Response(200, content=content, headers={"content-type": "application/json"})
    driver.client._http._transport = httpx.MockTransport(lambda request: reply)
    return driver


@pytest.mark.parametrize(
    ("style", "content", "says"),
    [
        ("openai", b"not json", "not JSON"),
        ("openai", b'{"id": "b", "status": "dreaming"}', "not as documented"),
        ("openai", b'{"status": "completed"}', "not as documented"),
        ("anthropic", b'{"id": "b", "processing_status": "later"}', "not as documented"),
        ("anthropic", b'{"id": "b", "processing_status": "ended", "created_at": 5}', "RFC 3339"),
    ],
)
def test_a_job_not_as_documented_is_a_typed_error(
    style: str, content: bytes, says: str, mode: str
) -> None:
    with pytest.raises(UnexpectedResponseError, match=says) as raised:
        answering(style, mode, content).run("get", "b")
    assert raised.value.__cause__ is None and raised.value.__context__ is None


def test_results_not_as_documented_name_their_line(mode: str) -> None:
    job = BatchJob(id="b", provider="anthropic", status="completed", raw_status="ended")
    line = b'{"custom_id": "a", "result": {"type": "succeeded", "message": {"id": 1}}}'
    driver = answering("anthropic", mode, b"\n" + line)
    with pytest.raises(UnexpectedResponseError):
        driver.run("results", job)
    driver = answering("anthropic", mode, b'{"custom_id": "a"}\n{')
    with pytest.raises(UnexpectedResponseError, match="line 1"):
        driver.run("results", job)
    driver = answering("anthropic", mode, b'{"custom_id": "a", "result": {"type": "canceled"}}\n{')
    with pytest.raises(UnexpectedResponseError, match="line 2 is not JSON"):
        driver.run("results", job)


def test_the_key_is_in_no_error_the_provider_echoes(mode: str) -> None:
    job = BatchJob(id="b", provider="openai", status="completed", raw_status="completed")
    job.output_file_id = "file-out"
    echo = {
        "custom_id": "a",
        "response": {"status_code": 401, "body": {"error": {"message": "bad key sk-secret"}}},
    }
    driver = answering("openai", mode, json.dumps(echo).encode())
    error = driver.run("results", job)["a"].error
    assert isinstance(error, BatchItemError) and error.status_code == 401
    assert "sk-secret" not in str(error) and "sk-secret" not in json.dumps(error.body)
    assert "sk-secret" not in repr(driver.client.batches._api._config)


def test_an_openai_line_with_an_error_and_no_response(mode: str) -> None:
    job = BatchJob(id="b", provider="openai", status="expired", raw_status="expired")
    job.error_file_id = "file-errors"
    line = {
        "id": "batch_req_1",
        "custom_id": "late",
        "response": None,
        "error": {"code": "batch_expired", "message": "This request could not be executed."},
    }
    error = answering("openai", mode, json.dumps(line).encode()).run("results", job)["late"].error
    assert isinstance(error, BatchItemError)
    assert error.error_code == "batch_expired" and error.status_code is None
    assert "could not be executed" in str(error)


def test_a_job_that_failed_whole_has_no_results_to_fetch(mode: str) -> None:
    job = BatchJob(id="b", provider="openai", status="failed", raw_status="failed")
    assert refusing("openai", mode).run("results", job) == {}
