"""A real `redis-server`, started by the tests on a free loopback port and stopped after.

The binary is `MODELWIRE_REDIS_SERVER`, else `redis-server` on PATH (Debian's
`redis-server` package; `nox -s tests` installs it with apt-get when it is missing).
Nothing is persisted: the server runs with no RDB snapshots and no append-only file.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis


def find_redis_server() -> str:
    binary = os.environ.get("MODELWIRE_REDIS_SERVER") or shutil.which("redis-server")
    if not binary:
        raise RuntimeError(
            "the fleet tests need a redis-server binary: apt-get install -y redis-server "
            "(nox -s tests does it when it is missing), or set MODELWIRE_REDIS_SERVER"
        )
    return binary


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RedisServer:
    """One redis-server process on loopback that can be stopped and started again on the
    same port (a restart, as a fleet's Redis has)."""

    def __init__(self, folder: Path) -> None:
        self.binary = find_redis_server()
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [
                self.binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        probe = redis.Redis(port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5)
        try:
            while True:
                try:
                    probe.ping()
                    return
                except redis.ConnectionError:
                    if self._process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"redis-server did not start on {self.port}") from None
                    time.sleep(0.05)
        finally:
            probe.close()

    @property
    def running(self) -> bool:
        return self._process is not None

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(10)
            self._process = None

    def flush(self) -> None:
        client = redis.Redis(port=self.port, socket_timeout=1)
        try:
            client.flushall()
        finally:
            client.close()
