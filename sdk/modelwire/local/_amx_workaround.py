"""Keeping llama-cpp-python 0.3.36 off its AMX code path, which crashes on AMX CPUs.

On CPUs that report AMX, llama.cpp's extra CPU buffer types (AMX kernels, weight
repacking) have been seen to crash the server (SIGSEGV in llama_decode) on the first
prompt longer than one token. llama-cpp-python 0.3.36 has no option to turn them off, so
the child then runs a small `-c` program that wraps llama_cpp's model-params factory to
set `use_extra_bufts = False`, and runs llama_cpp.server as `__main__` after it.
"""

from __future__ import annotations

import sys

__all__ = ["cpu_has_amx", "server_main_args"]

# Runs llama_cpp.server with llama.cpp's extra CPU buffer types (AMX, weight repacking) off.
NO_EXTRA_BUFTS_MAIN = """\
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


def cpu_has_amx() -> bool:
    """Whether the CPU reports AMX (Linux only; False when unknown)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return "amx_int8" in line.split()
    except OSError:
        pass
    return False


def server_main_args(extra_buffer_types: bool | None) -> list[str]:
    """The interpreter arguments that run llama_cpp.server with or without extra buffer types.

    None: without them on CPUs that report AMX, with them elsewhere.
    """
    if extra_buffer_types is None:
        extra_buffer_types = not cpu_has_amx()
    if extra_buffer_types:
        return ["-m", "llama_cpp.server"]
    return ["-c", NO_EXTRA_BUFTS_MAIN]
