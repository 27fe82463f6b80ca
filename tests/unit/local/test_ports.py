"""Free ports (`modelwire.local._ports`)."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from modelwire.local import LocalServerError, _ports, free_port


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


def test_free_port_on_a_host_of_another_machine_says_what_to_pass() -> None:
    with pytest.raises(LocalServerError, match=r"127\.0\.0\.1") as info:
        free_port("192.0.2.1")  # TEST-NET-1: no address of this machine; nothing is sent
    assert isinstance(info.value.__cause__, OSError)
