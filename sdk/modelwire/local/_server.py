"""`LocalServer`: one llama.cpp server child process on a local port, started and stopped.

The engine is llama-cpp-python's `python -m llama_cpp.server` (the default, what the
`local` extra installs) or llama.cpp's own C++ `llama-server` (`engine="llama-server"`).

Start: check the engine and the model, pick a free port, open the log, spawn the child
(its own process group, PR_SET_PDEATHSIG), and poll `GET /v1/models` until it answers or
the child exits or the startup timeout passes; a port taken meanwhile by another process
is retried on a new one. Stop: SIGTERM to the group, SIGKILL after `stop_timeout`; a server
still running at interpreter exit is stopped then (atexit).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Literal, get_args

import httpx

from . import _ports, _process
from ._command import child_env, server_command
from ._dependencies import INSTALL_HINT, check_local_extra
from ._errors import LocalDependencyError, LocalServerError, LocalServerStartupError
from ._llama_server import (
    LLAMA_SERVER_INSTALL_HINT,
    find_llama_server,
    llama_server_command,
    llama_server_env,
)
from ._model import MODEL_ENV_VAR, find_model_path

__all__ = ["ENGINES", "Engine", "LocalServer", "default_engine", "local_server"]

Engine = Literal["llama-cpp-python", "llama-server"]
"""The two servers `LocalServer` can start."""
ENGINES: tuple[Engine, ...] = get_args(Engine)

logger = logging.getLogger("modelwire.local")

_LOG_TAIL_BYTES = 8192
_LOG_TAIL_LINES = 40
_BIND_RETRIES = 3
# what each engine logs when its port is taken (uvicorn; llama-server)
_PORT_CLASHES = ("address already in use", "couldn't bind http server socket")


def _read_tail(path: Path | None) -> str:
    """The last lines of the log at `path` ("" if there is none)."""
    if path is None:
        return ""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - _LOG_TAIL_BYTES))
            data = fh.read()
    except OSError:
        return ""
    lines = data.decode("utf-8", "replace").splitlines()
    return "\n".join(lines[-_LOG_TAIL_LINES:])


def _port_clash(log_tail: str) -> bool:
    tail = log_tail.lower()
    return any(clash in tail for clash in _PORT_CLASHES)


def default_engine() -> Engine:
    """The engine that is installed: llama-server if it is found, else llama-cpp-python.

    `LocalDependencyError`, naming both installs, when neither is.
    """
    try:
        find_llama_server()
    except LocalDependencyError:
        pass
    else:
        return "llama-server"
    try:
        check_local_extra()
    except LocalDependencyError as exc:
        raise LocalDependencyError(
            f"No local llama.cpp server is installed: neither llama-server nor "
            f"llama-cpp-python. Install one: {INSTALL_HINT} (llama-cpp-python) or "
            f"{LLAMA_SERVER_INSTALL_HINT} (llama-server). ({exc.message})"
        ) from exc
    return "llama-cpp-python"


def _connect_host(host: str) -> str:
    """The host to connect to for a server listening on `host` (a wildcard: loopback)."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


class LocalServer:
    """One llama.cpp server child process serving a GGUF model on a local port.

    `engine` is `"llama-cpp-python"` (`python -m llama_cpp.server`, the default) or
    `"llama-server"` (llama.cpp's C++ server, which also speaks Anthropic's Messages API
    and OpenAI's Responses API; its binary is `server_binary`, else found by
    `find_llama_server()`).

    Several may run at once (each on its own port). Use as a context manager, or call
    `start()` and `stop()`; a server still running at interpreter exit is stopped then.

    `extra_args` are appended to the server's command line (a repeated option overrides the
    earlier one). `interrupt_requests` (llama-cpp-python only) is off by default:
    llama_cpp.server otherwise cuts a running stream short whenever another request arrives,
    which breaks concurrent clients; llama-server serves concurrent requests in its slots.

    `extra_buffer_types` turns llama.cpp's extra CPU buffer types (AMX kernels, weight
    repacking) on or off. The default, None, turns them off on CPUs that report AMX: there
    llama-cpp-python 0.3.36's AMX path has been seen to crash the server (SIGSEGV in
    llama_decode) on the first prompt longer than one token.
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        n_ctx: int = 2048,
        embedding: bool = False,
        startup_timeout: float = 120.0,
        extra_args: Sequence[str] = (),
        log_file: str | os.PathLike[str] | None = None,
        interrupt_requests: bool = False,
        stop_timeout: float = 10.0,
        extra_buffer_types: bool | None = None,
        engine: Engine = "llama-cpp-python",
        server_binary: str | os.PathLike[str] | None = None,
    ) -> None:
        if engine not in ENGINES:
            raise LocalServerError(
                f"Unknown local server engine {engine!r}: use one of {', '.join(ENGINES)}."
            )
        self.engine: Engine = engine
        self.server_binary = Path(server_binary) if server_binary is not None else None
        self._binary: Path | None = None
        self._model_path = Path(model_path) if model_path is not None else None
        self.host = host
        self._requested_port = port
        self._port: int | None = port
        self.n_ctx = n_ctx
        self.embedding = embedding
        self.startup_timeout = startup_timeout
        self.extra_args: tuple[str, ...] = tuple(extra_args)
        self._log_file = Path(log_file) if log_file is not None else None
        self.interrupt_requests = interrupt_requests
        self.stop_timeout = stop_timeout
        self.extra_buffer_types = extra_buffer_types

        self._lock = threading.RLock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_path: Path | None = None
        self._log_is_temp = False
        self._model_id: str | None = None
        self._ready = False
        self.startup_seconds: float | None = None
        """How long the last successful `start()` took, in seconds."""

    # ----------------------------------------------------------------- properties

    @property
    def model_path(self) -> Path:
        """The GGUF file served (resolved with `find_model_path()` when none was given)."""
        if self._model_path is None:
            self._model_path = find_model_path()
        return self._model_path

    @property
    def port(self) -> int:
        if self._port is None:
            raise LocalServerError(
                "LocalServer has no port until start() picks one: call start() first, or "
                "pass port= to choose it."
            )
        return self._port

    @property
    def url(self) -> str:
        """The server's root URL, e.g. `http://127.0.0.1:PORT`."""
        return f"http://{_connect_host(self.host)}:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL, e.g. `http://127.0.0.1:PORT/v1`."""
        return f"{self.url}/v1"

    @property
    def dialect_urls(self) -> dict[str, str]:
        """The URL each wire dialect this engine speaks is served at, by dialect name.

        Both engines: `openai_chat` (`/v1/chat/completions`); llama-server also
        `anthropic_messages` (`/v1/messages`) and `openai_responses` (`/v1/responses`).
        """
        urls = {"openai_chat": f"{self.base_url}/chat/completions"}
        if self.engine == "llama-server":
            urls["anthropic_messages"] = f"{self.url}/v1/messages"
            urls["openai_responses"] = f"{self.base_url}/responses"
        return urls

    @property
    def model_id(self) -> str:
        """The model id the server reports on /v1/models (the GGUF path, unless aliased)."""
        if self._model_id is None:
            raise LocalServerError(
                "LocalServer is not running, so it has no model id: call start() first, or "
                "use it as a context manager (`with LocalServer() as server:`)."
            )
        return self._model_id

    @property
    def pid(self) -> int | None:
        """The server process id while it runs."""
        proc = self._proc
        return proc.pid if proc is not None else None

    @property
    def log_path(self) -> Path | None:
        """Where the server's stdout and stderr go (a temp file unless `log_file` was given)."""
        return self._log_path

    @property
    def is_running(self) -> bool:
        proc = self._proc
        return self._ready and proc is not None and proc.poll() is None

    def log_tail(self) -> str:
        """The last lines of the server's log."""
        return _read_tail(self._log_path)

    def __repr__(self) -> str:
        state = f"running at {self.url}" if self.is_running else "stopped"
        model = str(self._model_path or "<default model>")
        return f"LocalServer({model!r}, engine={self.engine!r}, {state})"

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> LocalServer:
        """Start the server and wait until it answers; a no-op if it already runs."""
        with self._lock:
            if self.is_running:
                return self
            if self._proc is not None:  # died on its own since: clean up first
                self.stop()
            self._check_engine()
            model_path = self.model_path
            if not model_path.is_file():
                raise LocalDependencyError(
                    f"Model file {str(model_path)!r} does not exist. Pass the path of a GGUF "
                    f"file as model_path, or leave it out to use {MODEL_ENV_VAR} or the bundled "
                    f"SmolLM2 model."
                )
            started = time.monotonic()
            try:
                for attempt in range(_BIND_RETRIES):
                    try:
                        self._launch(model_path)
                        self._wait_ready(started)
                        break
                    except LocalServerStartupError as exc:
                        port_clash = _port_clash(exc.log_tail)
                        if not port_clash or self._requested_port is not None:
                            raise
                        if attempt == _BIND_RETRIES - 1:
                            raise
                        logger.debug("port %s was taken meanwhile; retrying on another", self._port)
                        self.stop()  # another process took the port: pick a new one
            except BaseException:  # includes KeyboardInterrupt: leave nothing behind
                self.stop(_keep_log=True)
                raise
            self.startup_seconds = time.monotonic() - started
            logger.info(
                "llama.cpp server ready at %s in %.1fs", self.base_url, self.startup_seconds
            )
            return self

    def _check_engine(self) -> None:
        """Raise `LocalDependencyError` unless this server's engine is installed."""
        if self.engine == "llama-server":
            self._binary = find_llama_server(self.server_binary)
        else:
            check_local_extra()

    def _command(self, model_path: Path, port: int) -> list[str]:
        if self.engine == "llama-server":
            if self._binary is None:
                self._binary = find_llama_server(self.server_binary)
            return llama_server_command(
                self._binary,
                model_path,
                host=self.host,
                port=port,
                n_ctx=self.n_ctx,
                embedding=self.embedding,
                extra_buffer_types=self.extra_buffer_types,
                extra_args=self.extra_args,
            )
        return server_command(
            model_path,
            host=self.host,
            port=port,
            n_ctx=self.n_ctx,
            embedding=self.embedding,
            interrupt_requests=self.interrupt_requests,
            extra_buffer_types=self.extra_buffer_types,
            extra_args=self.extra_args,
        )

    def _launch(self, model_path: Path) -> None:
        port = self._requested_port
        if port is None:
            port = _ports.free_port(self.host)
        if self._log_file is not None:
            log_path, self._log_is_temp = self._log_file, False
            log_path.parent.mkdir(parents=True, exist_ok=True)
            log: IO[bytes] = log_path.open("ab")
        else:
            fd, name = tempfile.mkstemp(prefix=f"modelwire-llama-{port}-", suffix=".log")
            log_path, self._log_is_temp = Path(name), True
            log = os.fdopen(fd, "ab")
        self._log_path = log_path
        command = self._command(model_path, port)
        env = llama_server_env() if self.engine == "llama-server" else child_env(self.host, port)
        preexec = _process.pdeathsig_preexec()
        posix = os.name == "posix"

        def popen() -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=posix,  # its own process group, out of reach of ^C
                preexec_fn=preexec,
                close_fds=True,
            )

        try:
            proc = _process.spawn(popen)
        finally:
            log.close()  # the child holds its own copy
        self._proc = proc
        self._port = port
        _ports.claim(port)
        atexit.register(self.stop)
        logger.info(
            "starting %s for %s on port %d (pid %d, log %s)",
            self.engine,
            model_path,
            port,
            proc.pid,
            log_path,
        )

    def _wait_ready(self, started: float) -> None:
        proc = self._proc
        assert proc is not None
        deadline = started + self.startup_timeout
        url = f"{self.base_url}/models"
        delay = 0.05
        with httpx.Client(timeout=httpx.Timeout(2.0), trust_env=False) as http:
            while True:
                code = proc.poll()
                if code is not None:
                    raise self._startup_error(
                        f"exited with code {code} during startup",
                        "Its log says why (for example, a model file that is not GGUF).",
                    )
                try:
                    response = http.get(url)
                except httpx.TransportError:
                    response = None
                if response is not None and response.status_code == 200:
                    if proc.poll() is None:
                        self._model_id = self._parse_model_id(response)
                        self._ready = True
                        return
                    continue  # something else answered on our port; report our exit
                if time.monotonic() >= deadline:
                    raise self._startup_error(
                        f"did not answer GET /v1/models within {self.startup_timeout:g}s",
                        "If the model is just slow to load, pass a larger startup_timeout.",
                    )
                time.sleep(delay)
                delay = min(delay * 1.5, 0.25)

    def _parse_model_id(self, response: httpx.Response) -> str:
        try:
            data = response.json()["data"]
            return str(data[0]["id"])
        except (ValueError, KeyError, IndexError, TypeError):
            return str(self.model_path)

    def _startup_error(self, what: str, fix: str) -> LocalServerStartupError:
        tail = self.log_tail()
        where = f" (full log: {self._log_path})" if self._log_path is not None else ""
        if self._requested_port is not None and _port_clash(tail):
            fix = f"Port {self._port} is in use: pass another port=, or none to get a free one."
        message = (
            f"The local llama.cpp server ({self.engine}) for {str(self.model_path)!r} "
            f"{what}{where}. {fix}"
        )
        if tail:
            message += "\nLast lines of its log:\n" + tail
        return LocalServerStartupError(message, log_tail=tail)

    def stop(self, *, _keep_log: bool = False) -> None:
        """Stop the server: SIGTERM to its process group, SIGKILL after `stop_timeout`."""
        with self._lock:
            proc, self._proc = self._proc, None
            self._ready = False
            self._model_id = None
            atexit.unregister(self.stop)
            try:
                if proc is not None:
                    killed = _process.terminate(proc, self.stop_timeout)
                    logger.debug(
                        "stopped llama.cpp server on port %s (pid %d)%s",
                        self._port,
                        proc.pid,
                        f", with SIGKILL after {self.stop_timeout:g}s" if killed else "",
                    )
            finally:
                if self._port is not None:
                    _ports.release(self._port)
                if self._requested_port is None:
                    self._port = None
                if self._log_is_temp and self._log_path is not None and not _keep_log:
                    with contextlib.suppress(OSError):
                        self._log_path.unlink()
                    self._log_path = None

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@contextlib.contextmanager
def local_server(
    model_path: str | os.PathLike[str] | None = None,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    n_ctx: int = 2048,
    embedding: bool = False,
    startup_timeout: float = 120.0,
    extra_args: Sequence[str] = (),
    log_file: str | os.PathLike[str] | None = None,
    interrupt_requests: bool = False,
    stop_timeout: float = 10.0,
    extra_buffer_types: bool | None = None,
    engine: Engine = "llama-cpp-python",
    server_binary: str | os.PathLike[str] | None = None,
) -> Iterator[LocalServer]:
    """Run a `LocalServer` for the duration of a `with` block."""
    server = LocalServer(
        model_path,
        host=host,
        port=port,
        n_ctx=n_ctx,
        embedding=embedding,
        startup_timeout=startup_timeout,
        extra_args=extra_args,
        log_file=log_file,
        interrupt_requests=interrupt_requests,
        stop_timeout=stop_timeout,
        extra_buffer_types=extra_buffer_types,
        engine=engine,
        server_binary=server_binary,
    )
    with server:
        yield server
