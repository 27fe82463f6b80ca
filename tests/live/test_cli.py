"""The `modelwire` command, end to end, against the real local server."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from typing import IO

import modelwire
import pytest
from modelwire.local import LocalServer

from tests.live.support import engine_or_skip

pytestmark = pytest.mark.live


def modelwire_cli(
    *args: str, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "modelwire.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
    )


def test_chat_streams_a_reply(local_server: LocalServer) -> None:
    result = modelwire_cli(
        "chat",
        "-p",
        "llamacpp",
        "--base-url",
        local_server.base_url,
        "--max-tokens",
        "12",
        "Say hello.",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    assert "first token" in result.stderr and "finish" in result.stderr


def test_chat_reads_stdin_and_prints_json_chunks(local_server: LocalServer) -> None:
    result = modelwire_cli(
        "chat",
        "-p",
        "llamacpp",
        "--base-url",
        local_server.base_url,
        "--max-tokens",
        "8",
        "--json",
        stdin="Count to three.",
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[-1]["is_final"] is True
    assert lines[-1]["finish_reason"] in ("stop", "length")
    assert "".join(line["content"] for line in lines).strip()


def test_models_lists_the_server_model(local_server: LocalServer) -> None:
    result = modelwire_cli("models", "-p", "llamacpp", "--base-url", local_server.base_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(".gguf")


def test_a_missing_key_says_what_to_set() -> None:
    result = modelwire_cli("chat", "-p", "openai", "hello")
    assert result.returncode == 2
    assert "OPENAI_API_KEY" in result.stderr


def test_a_bad_parameter_exits_2(local_server: LocalServer) -> None:
    result = modelwire_cli(
        "chat", "-p", "llamacpp", "--base-url", local_server.base_url, "--temperature", "9", "hi"
    )
    assert result.returncode == 2  # the request was wrong: nothing was sent
    assert "--temperature 9.0 is out of range" in result.stderr


def test_an_unreachable_server_exits_1() -> None:
    result = modelwire_cli("chat", "-p", "llamacpp", "--base-url", "http://127.0.0.1:9/v1", "hi")
    assert result.returncode == 1
    assert "APIConnectionError" in result.stderr


def test_providers_never_prints_a_key() -> None:
    secret = "sk-ant-very-secret-value-123456"
    result = modelwire_cli("providers", ANTHROPIC_API_KEY=secret)
    assert result.returncode == 0
    assert secret not in result.stdout + result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("anthropic"))
    assert "key set" in line and "ANTHROPIC_API_KEY" in line
    assert "needs OPENAI_API_KEY" in result.stdout


# --------------------------------------------------------------------------- modelwire serve

URL = re.compile(r"(http://127\.0\.0\.1:\d+\S*)")


def _lines(stream: IO[str], into: queue.Queue[str]) -> None:
    for line in stream:
        into.put(line)


@pytest.mark.parametrize("engine", ["llama-server", "llama-cpp-python"])
def test_serve_prints_the_urls_serves_them_and_exits_130_on_ctrl_c(engine: str) -> None:
    engine_or_skip(engine)
    environment = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "modelwire.cli", "serve", "--engine", engine],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
        # Ctrl-C reaches it even when the tests were started with SIGINT ignored (a
        # background job of a shell), which a child would inherit
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    out: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_lines, args=(proc.stdout, out), daemon=True).start()
    try:
        expected = 3 if engine == "llama-server" else 1
        lines = []
        deadline = time.monotonic() + 150
        while len(lines) < expected:
            try:
                lines.append(out.get(timeout=max(0.1, deadline - time.monotonic())))
            except queue.Empty:
                pytest.fail(f"no URLs from modelwire serve: {proc.poll()=}")
        # "<dialect>  <endpoint URL>   (<clients>, base_url=<base URL>)"
        urls = {line.split("http")[0].strip(): URL.findall(line) for line in lines}
        endpoint, base = urls["OpenAI chat completions"]
        assert endpoint.endswith("/v1/chat/completions") and base.endswith("/v1)")
        with modelwire.OpenAI(base_url=base.rstrip(")"), api_key="sk-local") as client:
            response = client.complete(messages=[{"role": "user", "content": "Hi"}], max_tokens=4)
        assert response.content.strip()
        if engine == "llama-server":
            endpoint, base = urls["Anthropic messages"]
            assert endpoint.endswith("/v1/messages")
            with modelwire.Anthropic(base_url=base.rstrip(")"), api_key="sk-local") as claude:
                answer = claude.complete(messages=[{"role": "user", "content": "Hi"}], max_tokens=4)
            assert answer.content.strip()
            endpoint, base = urls["OpenAI responses"]
            assert endpoint.endswith("/v1/responses") and base.endswith("/v1)")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(60)  # SIGTERM, then SIGKILL after 10 s: well inside this
        finally:
            if proc.poll() is None:
                proc.kill()
    stderr = proc.stderr.read() if proc.stderr else ""
    assert code == 130, stderr
    assert "Traceback" not in stderr
    assert "interrupted" in stderr
