"""The child's command line (llama_cpp.server), and an environment that cannot override it."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ._amx_workaround import server_main_args

__all__ = ["child_env", "server_command"]

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


def server_command(
    model_path: Path,
    *,
    host: str,
    port: int,
    n_ctx: int,
    embedding: bool,
    interrupt_requests: bool,
    extra_buffer_types: bool | None,
    extra_args: Sequence[str] = (),
) -> list[str]:
    """The child's argv: this interpreter running llama_cpp.server (`extra_args` come last)."""
    return [
        sys.executable, *server_main_args(extra_buffer_types),
        "--model", str(model_path),
        "--host", host,
        "--port", str(port),
        "--n_ctx", str(n_ctx),
        "--n_threads", str(os.cpu_count() or 2),
        "--embedding", "true" if embedding else "false",
        "--interrupt_requests", "true" if interrupt_requests else "false",
        *extra_args,
    ]  # fmt: skip


def child_env(host: str, port: int) -> dict[str, str]:
    """This process's environment without llama_cpp.server's settings, HOST and PORT set."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in _SERVER_ENV_NAMES}
    # uvicorn.run() in llama_cpp.server prefers $HOST/$PORT to the command line.
    env["HOST"] = host
    env["PORT"] = str(port)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env
