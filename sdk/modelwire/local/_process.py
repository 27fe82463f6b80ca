"""Child processes that never outlive their parent, and stopping them: SIGTERM, then SIGKILL.

- `pdeathsig_preexec()`: on Linux, the kernel sends the child SIGTERM when its parent dies,
  even by SIGKILL (PR_SET_PDEATHSIG).
- `spawn()`: Popen from a thread that lives as long as the process, since PR_SET_PDEATHSIG
  fires when the forking *thread* exits.
- `terminate()`: SIGTERM to the child's process group, SIGKILL after a grace period, and
  SIGKILL at once if the wait is interrupted.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["pdeathsig_preexec", "spawn", "terminate"]

_IS_LINUX = sys.platform.startswith("linux")
_PR_SET_PDEATHSIG = 1


def pdeathsig_preexec() -> Callable[[], None] | None:
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


def spawn(factory: Callable[[], subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    """`factory()` (a Popen call), run on a thread that lives as long as the process."""
    return _Spawner.spawn(factory)


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


_SIGKILL = getattr(signal, "SIGKILL", signal.SIGTERM)


def terminate(proc: subprocess.Popen[bytes], grace: float) -> bool:
    """Stop `proc` and its process group; True if it needed SIGKILL after `grace` seconds."""
    try:
        _signal(proc, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            _signal(proc, _SIGKILL)
            proc.wait()
            return True
        return False
    except BaseException:  # interrupted while waiting: do not leave it running
        _signal(proc, _SIGKILL)
        with contextlib.suppress(Exception):
            proc.wait(5)
        raise
