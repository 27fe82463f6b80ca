"""The child's command line and environment (`modelwire.local._command`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from modelwire.local import LocalServer, _command


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
