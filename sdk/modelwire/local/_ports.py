"""Free TCP ports, never one that a server this process started still holds."""

from __future__ import annotations

import socket
import threading

from ._errors import LocalServerError

__all__ = ["claim", "free_port", "release"]

_lock = threading.Lock()
_in_use: set[int] = set()  # ports of servers this process started and still runs
_TRIES = 20


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that nothing listens on now (the kernel's pick for port 0)."""
    for _ in range(_TRIES):
        with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, 0))
            except OSError as exc:
                raise LocalServerError(
                    f"Cannot listen on host {host!r} ({exc.strerror or exc}). Give LocalServer "
                    f"an address of this machine, such as the default 127.0.0.1."
                ) from exc
            port: int = sock.getsockname()[1]
        with _lock:
            if port not in _in_use:
                return port
    raise LocalServerError(
        f"Could not find a free port on {host} in {_TRIES} tries: the ports the system "
        f"offered are held by this process's own servers. Stop some, or pass port=."
    )


def claim(port: int) -> None:
    """Mark `port` as held by a server of this process: `free_port()` will not offer it."""
    with _lock:
        _in_use.add(port)


def release(port: int) -> None:
    with _lock:
        _in_use.discard(port)
