"""modelwire.local against the real llama.cpp server: start, answer, stop, never orphan."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest
from modelwire import local
from modelwire.errors import ConfigurationError
from modelwire.local import LocalServer, LocalServerStartupError

pytestmark = pytest.mark.live

SDK_ROOT = Path(local.__file__).resolve().parents[2]  # sdk/modelwire/local/__init__.py


def _alive(pid: int) -> bool:
    """Whether `pid` is a live (not zombie) process."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: fall back to signal 0
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def _wait_dead(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return not _alive(pid)


def test_session_server_answers(local_server: LocalServer) -> None:
    assert local_server.is_running
    assert local_server.base_url == f"http://127.0.0.1:{local_server.port}/v1"
    assert local_server.url + "/v1" == local_server.base_url
    response = httpx.get(f"{local_server.base_url}/models", trust_env=False)
    assert response.status_code == 200
    ids = [m["id"] for m in response.json()["data"]]
    assert ids == [local_server.model_id]
    assert local_server.model_id.endswith(".gguf")
    assert local_server.startup_seconds is not None
    print(f"local server started in {local_server.startup_seconds:.2f}s")


def test_session_server_generates(local_server: LocalServer) -> None:
    """A real multi-token prompt, streamed (the first decode is where a bad build crashes)."""
    body = {
        "model": "any",
        "messages": [{"role": "user", "content": "Say hi"}],
        "max_tokens": 8,
        "stream": True,
    }
    events: list[str] = []
    with (
        httpx.Client(trust_env=False, timeout=60) as http,
        http.stream("POST", f"{local_server.base_url}/chat/completions", json=body) as response,
    ):
        assert response.status_code == 200
        events = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "data: [DONE]"
    assert len(events) >= 2
    assert local_server.is_running, local_server.log_tail()


def test_second_server_alongside_and_stop_leaves_no_process(local_server: LocalServer) -> None:
    server = LocalServer()
    with server:
        assert server.port != local_server.port
        pid = server.pid
        assert pid is not None and _alive(pid)
        response = httpx.get(f"{server.base_url}/models", trust_env=False)
        assert response.status_code == 200
        log = server.log_path
        assert log is not None and log.exists()
        # both answer at once
        assert httpx.get(f"{local_server.base_url}/models", trust_env=False).status_code == 200
    assert not server.is_running
    assert server.pid is None
    assert not _alive(pid)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not log.exists()  # the temp log goes with the server
    server.stop()  # idempotent


def test_server_dies_with_its_sigkilled_parent(tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys, time
            from modelwire.local import LocalServer

            server = LocalServer(startup_timeout=90, log_file=sys.argv[1])
            server.start()
            print(server.pid, flush=True)
            time.sleep(600)
            """
        )
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SDK_ROOT), *sys.path])}
    parent = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "server.log")],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    server_pid = None
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline()
        assert line.strip().isdigit(), f"parent printed {line!r}"
        server_pid = int(line)
        assert _alive(server_pid)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)
        assert _wait_dead(server_pid, 10), "the server outlived its SIGKILLed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if server_pid is not None and _alive(server_pid):
            os.killpg(server_pid, signal.SIGKILL)


def test_bogus_model_fails_with_log_tail(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"this is not a gguf file\n" * 100)
    server = LocalServer(bogus, startup_timeout=90)
    with pytest.raises(LocalServerStartupError) as info:
        server.start()
    err = info.value
    assert isinstance(err, ConfigurationError)
    assert err.provider is None
    assert "exited with code" in str(err)
    assert err.log_tail
    assert err.log_tail in str(err)
    assert "bogus.gguf" in err.log_tail  # llama.cpp names the file it could not load
    assert server.pid is None and not server.is_running
    if server.log_path is not None:
        server.log_path.unlink()
