"""`modelwire` on the command line: chat, batch, models, providers, serve, generate (and
--version).

Stays within argparse and the runtime dependencies, and imports clients only when a
command needs them, so that it starts fast.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from ._client import Client as BaseClient
    from .types import CompletionResponse

EXIT_OK = 0
EXIT_PROVIDER_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what `yes | head` leaves


def _err(message: str) -> None:
    print(f"modelwire: {message}", file=sys.stderr)


def _failed(exc: Exception) -> int:
    """Reports an error; a request or configuration the user must fix exits 2, else 1."""
    from .errors import ConfigurationError, RequestValidationError

    _err(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, (ConfigurationError, RequestValidationError)):
        return EXIT_USAGE
    return EXIT_PROVIDER_ERROR


@contextlib.contextmanager
def _open_client(args: argparse.Namespace) -> Iterator[BaseClient]:
    """The client the flags ask for; with no provider configured, the local server."""
    from .providers import client

    provider = args.provider or os.environ.get("MODELWIRE_PROVIDER")
    kwargs: dict[str, Any] = {}
    if args.base_url:
        kwargs["base_url"] = args.base_url
    if args.model:
        kwargs["model"] = args.model
    if provider:
        made = client(provider, **kwargs)
        try:
            yield made
        finally:
            made.close()
        return
    from .local import LocalServer

    _err("no provider configured (-p or MODELWIRE_PROVIDER): starting the local llama.cpp server")
    with LocalServer() as server:
        _err(f"local server ready at {server.base_url} (model {os.path.basename(server.model_id)})")
        made = client("llamacpp", base_url=server.base_url, model=args.model or server.model_id)
        try:
            yield made
        finally:
            made.close()


def _prompt(args: argparse.Namespace, stdin: TextIO) -> str:
    if args.prompt:
        return " ".join(args.prompt)
    if stdin.isatty():
        raise SystemExit(_usage("give a prompt as an argument or on standard input"))
    return stdin.read()


def _usage(message: str) -> int:
    _err(message)
    return EXIT_USAGE


def cmd_chat(args: argparse.Namespace) -> int:
    from .errors import ProviderError

    text = _prompt(args, sys.stdin).strip()
    if not text:
        return _usage("the prompt is empty")
    messages: list[dict[str, str]] = []
    if args.system:
        messages.append({"role": "system", "content": args.system})
    messages.append({"role": "user", "content": text})
    out = sys.stdout
    try:
        with _open_client(args) as chat_client:
            started = time.monotonic()
            first: float | None = None
            stream = chat_client.stream_completion(
                messages=messages, max_tokens=args.max_tokens, temperature=args.temperature
            )
            with stream:
                for chunk in stream:
                    if first is None and (chunk.content or chunk.reasoning):
                        first = time.monotonic() - started
                    if args.json:
                        out.write(json.dumps(_chunk_json(chunk)) + "\n")
                    elif chunk.content:
                        out.write(chunk.content)
                    out.flush()
                final = stream.snapshot()
            if not args.json:
                out.write("\n")
            elapsed = time.monotonic() - started
            usage = final.usage
            tokens = (
                f"{usage.input_tokens} in, {usage.output_tokens} out"
                if usage
                else "usage not reported by the server"
            )
            ttft = f"{first * 1000:.0f} ms" if first is not None else "n/a"
            model = os.path.basename(final.model or chat_client.model or "?")
            _err(
                f"[{model}] {tokens}; first token {ttft}; "
                f"total {elapsed:.2f} s; finish {final.finish_reason}{_cost(final)}"
            )
    except ProviderError as exc:
        return _failed(exc)
    except KeyboardInterrupt:
        _err("interrupted")
        return EXIT_INTERRUPTED
    return EXIT_OK


def _cost(response: CompletionResponse) -> str:
    """The summary's cost, where the price table (the `cost` extra) knows the model."""
    from . import cost
    from .errors import ConfigurationError, CostUnknownError

    try:
        return f"; cost {cost.estimate(response)}"
    except (CostUnknownError, ConfigurationError):  # a local model, or no extra: no figure
        return ""


def _chunk_json(chunk: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"content": chunk.content}
    if chunk.reasoning:
        data["reasoning"] = chunk.reasoning
    if chunk.tool_calls:
        data["tool_calls"] = [
            {"index": d.index, "id": d.id, "name": d.name, "arguments": d.arguments}
            for d in chunk.tool_calls
        ]
    if chunk.is_final:
        data["is_final"] = True
        data["finish_reason"] = chunk.finish_reason
        if chunk.usage is not None:
            data["usage"] = chunk.usage.model_dump()
    return data


def _batch_requests(lines: TextIO) -> list[dict[str, Any]]:
    """Every line of a JSONL file as a request: {"prompt": "..."} (a user message), or a
    request's own fields ({"messages": [...], "max_tokens": ...}). Read and checked whole
    before anything is sent, so that a bad line costs no request."""
    requests = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise _BadLine(f"line {number} is not JSON ({exc.args[0]})") from None
        if isinstance(item, dict) and isinstance(item.get("prompt"), str):
            prompt = item.pop("prompt")
            item["messages"] = [{"role": "user", "content": prompt}]
        if not isinstance(item, dict) or not isinstance(item.get("messages"), list):
            raise _BadLine(
                f'line {number}: give {{"prompt": "..."}} or {{"messages": [...]}}, one a line'
            )
        requests.append(item)
    return requests


class _BadLine(ValueError):
    pass


def _result_json(result: Any) -> dict[str, Any]:
    if result.response is not None:
        response = result.response
        return {
            "index": result.index,
            "ok": True,
            "content": response.content,
            "finish_reason": response.finish_reason,
            "model": response.model,
            "usage": response.usage.model_dump() if response.usage else None,
        }
    error = result.error
    return {
        "index": result.index,
        "ok": False,
        "error": {
            "type": type(error).__name__,
            "message": str(error),
            "status_code": error.status_code,
            "retryable": error.retryable,
        },
    }


def cmd_batch(args: argparse.Namespace) -> int:
    """JSONL prompts in, one JSONL result a line out (in input order with --ordered), and
    a progress line on stderr; exit 1 when any request failed (its error is its line)."""
    from . import batch

    try:
        with contextlib.ExitStack() as files:
            source = sys.stdin if args.input == "-" else files.enter_context(open(args.input))
            requests = _batch_requests(source)
        out = sys.stdout if args.output == "-" else open(args.output, "w")  # noqa: SIM115
    except _BadLine as exc:
        return _usage(f"{args.input}: {exc}")
    except OSError as exc:
        return _usage(f"{exc.filename}: {exc.strerror}")
    total, failed = len(requests), 0

    def progress(done: Any) -> None:
        sys.stderr.write(f"\rmodelwire: {done.done}/{total} done, {done.failed} failed")
        sys.stderr.flush()

    try:
        if args.max_tokens:
            for request in requests:
                request.setdefault("max_tokens", args.max_tokens)
        with _open_client(args) as batch_client:
            results = batch(
                batch_client,
                requests,
                concurrency=args.concurrency,
                ordered=args.ordered,
                on_progress=progress,
            )
            with results:
                for result in results:
                    failed += not result.ok
                    out.write(json.dumps(_result_json(result)) + "\n")
                    out.flush()
    finally:
        if total:
            sys.stderr.write("\n")
        if out is not sys.stdout:
            out.close()
    return EXIT_PROVIDER_ERROR if failed else EXIT_OK


def cmd_models(args: argparse.Namespace) -> int:
    from .errors import ProviderError

    try:
        with _open_client(args) as models_client:
            for info in models_client.list_models():
                print(info.id)
    except ProviderError as exc:
        return _failed(exc)
    return EXIT_OK


def cmd_providers(args: argparse.Namespace) -> int:
    from importlib import import_module

    from .providers import PROVIDERS

    rows = []
    for name, (module, _, _) in sorted(PROVIDERS.items()):
        spec = import_module(f"modelwire.providers.{module}").SPEC
        key_env = spec.auth.env or "-"
        if spec.auth.type == "none" or not spec.auth.required:
            # a server of one's own: say whether it is up, not only that it needs no key
            url = (
                os.environ.get(spec.base_url_env) if spec.base_url_env else None
            ) or spec.base_url
            status = f"no key needed; {_listening(url)}"
        elif spec.auth.env and os.environ.get(spec.auth.env):
            status = "key set"
        else:
            status = f"needs {spec.auth.env}"
        url_env = spec.base_url_env or "-"
        rows.append((name, status, key_env, url_env, spec.base_url))
    header = ("provider", "status", "key variable", "URL variable", "default URL")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return EXIT_OK


def _listening(url: str) -> str:
    """Whether something accepts connections at the URL's host and port (a quick look)."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url if "://" in url else f"http://{url}")
    host = parts.hostname or "localhost"
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return f"bad URL {url!r}"
    try:
        with socket.create_connection((host, port), timeout=0.3):
            return f"listening at {host}:{port}"
    except OSError:
        return f"not listening at {host}:{port}"


# the engines `modelwire.local` starts (its ENGINES; spelled out so the parser imports nothing)
SERVE_ENGINES = ("llama-cpp-python", "llama-server")

# dialect name -> what it is called, and the client that speaks it
_DIALECT_LABELS = {
    "openai_chat": ("OpenAI chat completions", "modelwire.LlamaCpp / modelwire.OpenAI"),
    "anthropic_messages": ("Anthropic messages", "modelwire.Anthropic"),
    "openai_responses": ("OpenAI responses", "the openai-responses dialect"),
}


def _serve_lines(server: Any) -> list[str]:
    """One line per dialect the server speaks: its endpoint, and the base URL to give a client."""
    lines = []
    for dialect, endpoint in server.dialect_urls.items():
        label, clients = _DIALECT_LABELS.get(dialect, (dialect, "a client"))
        base = server.url if dialect == "anthropic_messages" else server.base_url
        lines.append(f"{label:<24} {endpoint}   ({clients}, base_url={base})")
    return lines


def cmd_serve(args: argparse.Namespace) -> int:
    """Start the bundled local server and keep it running until interrupted (exit 130)."""
    from .local import LocalServer, default_engine

    try:
        engine = args.engine or default_engine()
        server = LocalServer(
            args.model_path,
            host=args.host,
            port=args.port,
            n_ctx=args.ctx_size,
            embedding=args.embeddings,
            startup_timeout=args.startup_timeout,
            engine=engine,
            server_binary=args.server_binary,
            log_file=args.log_file,
        )
        _err(f"starting the local {engine} server (model {server.model_path.name}) ...")
        with server:
            _err(f"ready in {server.startup_seconds or 0:.1f} s; model id {server.model_id}")
            for line in _serve_lines(server):
                print(line, flush=True)
            _err("serving until interrupted (Ctrl-C)")
            while server.is_running:
                time.sleep(0.2)
            tail = server.log_tail()
            _err(f"the server exited on its own; last lines of its log:\n{tail}")
            return EXIT_PROVIDER_ERROR
    except KeyboardInterrupt:
        _err("interrupted: server stopped")
        return EXIT_INTERRUPTED


def cmd_generate(args: argparse.Namespace) -> int:
    """Runs the generator of a source checkout (it is not part of the installed package)."""
    command = [sys.executable, "-m", "codegen", "--spec-dir", args.spec_dir, "--out", args.out]
    if args.check:
        command.append("--check")
    if args.no_wire:
        command.append("--no-wire")
    try:
        return subprocess.call(command, cwd=args.root)
    except FileNotFoundError as exc:
        return _usage(f"cannot run the generator: {exc}")


def build_parser() -> argparse.ArgumentParser:
    from ._version import __version__

    parser = argparse.ArgumentParser(prog="modelwire", description="Talk to LLM providers.")
    parser.add_argument("--version", action="version", version=f"modelwire {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def add_client_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument("-p", "--provider", help="provider, or provider/model (default: local)")
        p.add_argument("-m", "--model", help="model id")
        p.add_argument("--base-url", help="override the provider's base URL")

    chat = sub.add_parser("chat", help="stream a reply to the terminal")
    chat.add_argument("prompt", nargs="*", help="the prompt (default: standard input)")
    add_client_flags(chat)
    chat.add_argument("-s", "--system", help="a system prompt")
    chat.add_argument("--max-tokens", type=int, default=512)
    chat.add_argument("--temperature", type=float)
    chat.add_argument("--json", action="store_true", help="one JSON object per chunk")
    chat.set_defaults(func=cmd_chat)

    run_batch = sub.add_parser("batch", help="JSONL prompts in, JSONL results out")
    run_batch.add_argument(
        "input", nargs="?", default="-", help='one {"prompt": ...} or request a line (default: -)'
    )
    add_client_flags(run_batch)
    run_batch.add_argument("-o", "--output", default="-", help="where results go (default: -)")
    run_batch.add_argument("-c", "--concurrency", type=int, default=8)
    run_batch.add_argument("--ordered", action="store_true", help="results in input order")
    run_batch.add_argument("--max-tokens", type=int, help="for requests that set none")
    run_batch.set_defaults(func=cmd_batch)

    models = sub.add_parser("models", help="list a provider's models")
    add_client_flags(models)
    models.set_defaults(func=cmd_models)

    providers = sub.add_parser("providers", help="what is configured (never prints keys)")
    providers.set_defaults(func=cmd_providers)

    serve = sub.add_parser("serve", help="run the bundled local llama.cpp server until interrupted")
    serve.add_argument(
        "--engine",
        choices=SERVE_ENGINES,
        help="which server (default: llama-server if installed, else llama-cpp-python)",
    )
    serve.add_argument(
        "--model-path", help="a GGUF file (default: MODELWIRE_LOCAL_MODEL, else SmolLM2)"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, help="default: a free port")
    serve.add_argument("--ctx-size", type=int, default=2048, help="the context window")
    serve.add_argument("--embeddings", action="store_true", help="serve /v1/embeddings")
    serve.add_argument("--server-binary", help="llama-server's path (default: found)")
    serve.add_argument("--startup-timeout", type=float, default=120.0)
    serve.add_argument("--log-file", help="where the server's output goes (default: a temp file)")
    serve.set_defaults(func=cmd_serve)

    generate = sub.add_parser("generate", help="regenerate clients from a spec folder")
    generate.add_argument("--root", default=".", help="the source checkout (default: .)")
    generate.add_argument("--spec-dir", default="spec")
    generate.add_argument("--out", default="sdk/modelwire")
    generate.add_argument("--check", action="store_true", help="fail if the output is stale")
    generate.add_argument("--no-wire", action="store_true", help="skip the wire models")
    generate.set_defaults(func=cmd_generate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .errors import ConfigurationError

    try:
        code: int = args.func(args)
    except ConfigurationError as exc:
        _err(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        # anywhere, e.g. while `models` starts the local server: no traceback
        _err("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `modelwire chat ... | head`: the reader left; stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    return code


if __name__ == "__main__":
    sys.exit(main())
