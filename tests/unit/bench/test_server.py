"""The bench server's routes: the `/fail/<N>` prefix fails exactly one request in N with
the provider's retryable overload, before any content, and serves the rest as usual."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from types import ModuleType

import pytest

from tests.unit.support import ROOT

BENCH = ROOT / "bench"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """bench/server.py as the script sees itself: its folder first on sys.path."""
    monkeypatch.syspath_prepend(str(BENCH))
    names = ("server", "payloads")
    saved = {name: sys.modules.pop(name) for name in names if name in sys.modules}
    yield importlib.import_module("server")
    for name in names:
        sys.modules.pop(name, None)
    sys.modules.update(saved)


def post(server: ModuleType, responses: object, target: str, *, stream: bool = False) -> bytes:
    body = json.dumps({"model": "m", "stream": stream, "messages": []}).encode()
    request = server.Request("POST", target, {"content-length": str(len(body))}, body)
    return b"".join(server.route(request, responses))


def test_one_request_in_n_answers_the_overload(server: ModuleType) -> None:
    responses = server.Responses()
    answers = [post(server, responses, "/fail/4/v1/messages") for _ in range(12)]
    failed = [i for i, answer in enumerate(answers) if answer.startswith(b"HTTP/1.1 529 ")]
    assert failed == [3, 7, 11]
    body = json.loads(answers[3].split(b"\r\n\r\n", 1)[1])
    assert body == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
    }
    assert all(answers[i].startswith(b"HTTP/1.1 200 ") for i in range(12) if i not in failed)


def test_the_overload_comes_before_a_streams_first_event(server: ModuleType) -> None:
    responses = server.Responses()
    first = post(server, responses, "/fail/2/n/5/v1/chat/completions", stream=True)
    second = post(server, responses, "/fail/2/n/5/v1/chat/completions", stream=True)
    assert first.startswith(b"HTTP/1.1 200 ") and b"tok4 " in first
    assert second.startswith(b"HTTP/1.1 503 ") and b"data:" not in second
    assert json.loads(second.split(b"\r\n\r\n", 1)[1])["error"]["type"] == "server_error"


def test_without_the_prefix_nothing_fails(server: ModuleType) -> None:
    responses = server.Responses()
    answers = [post(server, responses, "/v1/messages") for _ in range(5)]
    assert all(answer.startswith(b"HTTP/1.1 200 ") for answer in answers)
    assert responses.fail_counts == {}
