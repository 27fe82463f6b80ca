"""A real HTTP/1.1 server on loopback that misbehaves on command.

Raw sockets and one thread per connection, no framework: a test queues behaviours with
`script(...)`, and each incoming request consumes the next one (keep-alive connections
included). Every request is recorded (method, path, headers, body, which server saw it),
so `attempts` is what the server really received. With nothing scripted, a request gets
a 418 that no client retries, so an unexpected extra attempt shows up as a failure.

Behaviours:
  Respond(status, body, headers, delay)   a whole response with Content-Length
  Stream(parts, end=...)                  a chunked body; parts are bytes, Pause(seconds)
                                          or Repeat(piece, count); it ends with the last
                                          chunk ("done"), a FIN without it ("close"), an
                                          RST ("reset", SO_LINGER 0) or silence ("hang")
  Reset()                                 RST after reading the request, before any head
  Silence()                               reads the request and never answers
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

_REASONS = {
    200: "OK",
    301: "Moved Permanently",
    302: "Found",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    413: "Payload Too Large",
    418: "I'm a teapot",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    529: "Overloaded",
}

# the longest any behaviour waits on a silent client, so a forgotten stream cannot hang a run
MAX_HANG = 30.0


@dataclass(frozen=True)
class Pause:
    seconds: float


@dataclass(frozen=True)
class Repeat:
    """`piece` sent `count` times, one chunk each: a huge body without holding it."""

    piece: bytes
    count: int


Part = bytes | Pause | Repeat


@dataclass(frozen=True)
class Respond:
    status: int = 200
    body: bytes | str | Mapping[str, Any] | Sequence[Any] = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class Stream:
    parts: Sequence[Part] = ()
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = "text/event-stream"
    end: Literal["done", "close", "reset", "hang"] = "done"
    delay: float = 0.0


@dataclass(frozen=True)
class Reset:
    pass


@dataclass(frozen=True)
class Silence:
    pass


Behaviour = Respond | Stream | Reset | Silence

UNSCRIPTED = Respond(418, {"error": {"message": "unscripted request", "type": "test_error"}})


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    server: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class _Closed(Exception):
    """The peer went away, or the server is stopping."""


class FaultServer:
    def __init__(self, host: str = "127.0.0.1", name: str | None = None) -> None:
        self.host = host
        self.name = name or host
        self.requests: list[Seen] = []
        self._script: deque[Behaviour] = deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._conns: set[socket.socket] = set()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, 0))
        self._listener.listen(64)
        self._listener.settimeout(0.5)
        self.port: int = self._listener.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept, name=f"fault-{self.name}")
        self._acceptor.start()

    # ----------------------------------------------------------------- test API

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def attempts(self) -> int:
        with self._lock:
            return len(self.requests)

    def script(self, *behaviours: Behaviour) -> None:
        with self._lock:
            self._script.extend(behaviours)

    @property
    def pending(self) -> int:
        """Scripted behaviours no request has consumed yet."""
        with self._lock:
            return len(self._script)

    def close(self) -> None:
        self._stop.set()
        # wake the acceptor at once rather than at its next timeout
        with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), 1):
            pass
        self._acceptor.join(5)
        self._listener.close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in list(self._threads):
            thread.join(5)
        leftover = [t.name for t in self._threads if t.is_alive()]
        assert not leftover, f"fault server threads did not stop: {leftover}"

    def __enter__(self) -> FaultServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- serving

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._stop.is_set():
                conn.close()
                return
            conn.settimeout(0.05)
            with self._lock:
                self._conns.add(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        buffer = bytearray()
        try:
            while not self._stop.is_set():
                seen = self._read_request(conn, buffer)
                with self._lock:
                    self.requests.append(seen)
                    behaviour = self._script.popleft() if self._script else UNSCRIPTED
                if not self._perform(conn, behaviour):
                    return
        except (_Closed, OSError):
            return
        finally:
            with self._lock:
                self._conns.discard(conn)
            with contextlib.suppress(OSError):
                conn.close()

    def _recv(self, conn: socket.socket) -> bytes:
        while True:
            if self._stop.is_set():
                raise _Closed
            try:
                data = conn.recv(65536)
            except TimeoutError:
                continue
            if not data:
                raise _Closed
            return data

    def _read_request(self, conn: socket.socket, buffer: bytearray) -> Seen:
        while b"\r\n\r\n" not in buffer:
            if len(buffer) > 1 << 20:
                raise _Closed
            buffer += self._recv(conn)
        head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _version = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            rest += self._recv(conn)
        buffer[:] = rest[length:]
        return Seen(self.name, method, path, headers, rest[:length])

    def _wait(self, seconds: float) -> None:
        if self._stop.wait(seconds):
            raise _Closed

    def _perform(self, conn: socket.socket, behaviour: Behaviour) -> bool:
        """Serves one behaviour; False when the connection is done with."""
        if isinstance(behaviour, Reset):
            _reset(conn)
            return False
        if isinstance(behaviour, Silence):
            self._hang(conn)
            return False
        self._wait(behaviour.delay)
        if isinstance(behaviour, Respond):
            body = _body_bytes(behaviour.body)
            headers = {"Content-Type": "application/json", **behaviour.headers}
            headers["Content-Length"] = str(len(body))
            conn.sendall(_head(behaviour.status, headers) + body)
            return True
        headers = {
            "Content-Type": behaviour.content_type,
            **behaviour.headers,
            "Transfer-Encoding": "chunked",
        }
        conn.sendall(_head(behaviour.status, headers))
        for part in behaviour.parts:
            if isinstance(part, Pause):
                self._wait(part.seconds)
                continue
            for piece in _pieces(part):
                if piece:
                    conn.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
        if behaviour.end == "done":
            conn.sendall(b"0\r\n\r\n")
            return True
        if behaviour.end == "reset":
            _reset(conn)
        elif behaviour.end == "hang":
            self._hang(conn)
        else:  # "close": a FIN in the middle of the chunked body
            conn.shutdown(socket.SHUT_WR)
        return False

    def _hang(self, conn: socket.socket) -> None:
        """Says nothing until the client hangs up, the server stops, or MAX_HANG passes."""
        waited = 0.0
        while waited < MAX_HANG and not self._stop.is_set():
            try:
                if not conn.recv(65536):
                    return
            except TimeoutError:
                waited += 0.05


def _pieces(part: bytes | Repeat) -> Iterator[bytes]:
    if isinstance(part, Repeat):
        for _ in range(part.count):
            yield part.piece
    else:
        yield part


def _reset(conn: socket.socket) -> None:
    # SO_LINGER with a zero timeout: close() sends an RST instead of a FIN
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def _head(status: int, headers: Mapping[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _body_bytes(body: bytes | str | Mapping[str, Any] | Sequence[Any]) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body).encode()


def refused_url() -> str:
    """A loopback URL where nothing listens: connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def second_host() -> str:
    """Another loopback origin for redirects: 127.0.0.2 where it can be bound."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.2", 0))
    except OSError:
        return "localhost"
    return "127.0.0.2"
