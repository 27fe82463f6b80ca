"""Helpers shared by the unit tests of several modules: an in-memory transport that records
what a real client put on the wire, canned provider answers, a spec written to a file, and
what a fresh interpreter imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import modelwire
from modelwire import ImagePart, Message, TextPart, ToolCall
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[2]
# the sources of the modelwire under test (a fresh interpreter is given them first)
SDK_ROOT = Path(modelwire.__file__).resolve().parents[1]


# ----------------------------------------------------------------------------- the wire


class Wire:
    """An httpx transport that answers from a function and keeps every request."""

    def __init__(self, answer: Callable[[httpx.Request], httpx.Response]) -> None:
        self.requests: list[httpx.Request] = []
        self._answer = answer

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self._answer(request)

    @property
    def body(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.requests[-1].content)
        return value

    def client(self, name: str, **kwargs: Any) -> Any:
        http = httpx.Client(transport=httpx.MockTransport(self))
        return modelwire.client(name, http_client=http, max_retries=0, **kwargs)


def json_answer(body: dict[str, Any]) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(200, json=body)


def no_io(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"no request may be sent: {request.url}")


OPENAI_TEXT = {
    "id": "c1",
    "model": "gpt-4o-mini",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1},
}

ANTHROPIC_TEXT = {
    "id": "m1",
    "model": "claude-sonnet-4-5",
    "content": [{"type": "text", "text": "hi"}],
    "stop_reason": "end_turn",
    "usage": {"input_tokens": 3, "output_tokens": 1},
}

OLLAMA_TEXT = {
    "model": "llama3.2",
    "message": {"role": "assistant", "content": "hi"},
    "done": True,
    "done_reason": "stop",
    "prompt_eval_count": 3,
    "eval_count": 1,
}

KEYS = {"openai": {"api_key": "sk-x"}, "anthropic": {"api_key": "sk-ant-x"}, "ollama": {}}


class Weather(BaseModel):
    """Current weather for a city."""

    city: str
    unit: str = "celsius"


def tool_history() -> list[Message]:
    call = ToolCall(id="call_1", name="Weather", arguments={"city": "Paris"})
    return [
        Message.system("Be brief."),
        Message.user("Weather in Paris?"),
        Message.assistant("", tool_calls=[call]),
        Message.tool("call_1", '{"temp": 21}', name="Weather"),
    ]


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8


def image_message(part: ImagePart) -> list[Message]:
    return [Message.user([TextPart(text="What is this?"), part])]


# ----------------------------------------------------------------------------- spec files


VALID = """
name: broken
display_name: Broken
class_name: Broken
dialect: openai_chat
base_url: https://example.invalid/v1
auth: {type: bearer, env: BROKEN_KEY}
endpoints: {chat: /chat/completions}
"""


def write_spec(tmp_path: Path, text: str, name: str = "broken") -> Path:
    (tmp_path / "providers").mkdir(exist_ok=True)
    path = tmp_path / "providers" / f"{name}.yaml"
    path.write_text(text)
    return path


# ----------------------------------------------------------------------------- import cost


def imported_after(code: str) -> list[str]:
    """The heavy modules in sys.modules after running `code` in a fresh interpreter."""
    heavy = (
        "httpx", "pydantic", "llama_cpp", "modelwire.types", "modelwire._client",
        "modelwire.local", "modelwire.local._server", "opentelemetry", "genai_prices",
    )  # fmt: skip
    loaded = f"[m for m in {heavy!r} if m in sys.modules]"
    script = f"import json, sys; {code}; print(json.dumps({loaded}))"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SDK_ROOT), *sys.path])}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    names: list[str] = json.loads(out.stdout)
    return names
