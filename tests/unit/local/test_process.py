"""Child processes that never outlive their parent (`modelwire.local._process`)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from modelwire.local import LocalServer

from tests.unit.local.support import alive, fake_server


def test_sigterm_ignored_escalates_to_sigkill(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    fake_server(
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
    assert pid is not None and alive(pid)
    server.stop()
    assert not alive(pid)


def test_server_started_from_a_thread_outlives_that_thread(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # PR_SET_PDEATHSIG fires when the thread that forked the child exits: the child must be
    # forked by a thread that lives as long as the process
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    fake_server(monkeypatch, "import time; time.sleep(60)")
    monkeypatch.setattr(LocalServer, "_wait_ready", lambda self, started: None)
    server = LocalServer(model)
    worker = threading.Thread(target=server.start)
    worker.start()
    worker.join()
    try:
        pid = server.pid
        assert pid is not None
        time.sleep(0.5)
        assert alive(pid)
    finally:
        server.stop()
    assert not alive(pid)
