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
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from ._client import Client as BaseClient
    from .types import CompletionResponse, ContentPart, DocumentPart, ImagePart, Message

EXIT_OK = 0
EXIT_PROVIDER_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what `yes | head` leaves


def _err(message: str) -> None:
    print(f"modelwire: {message}", file=sys.stderr)


# The keyword an error's hint names in Python, and the flag that sets it here: the one
# place where a hint such as "pass model=" becomes "pass -m MODEL" on the command line.
# None: no flag; the hint's other way (an environment variable) stands alone.
FLAGS: dict[str, str | None] = {
    "model": "-m MODEL",
    "max_tokens": "--max-tokens N",
    "temperature": "--temperature T",
    "base_url": "--base-url URL",
    "api_key": None,
}
# what a hint says that only a Python caller can do
_PYTHON_ONLY = (" to the call or to the client",)


def cli_hint(message: str) -> str:
    """An error's message as the command line's user must read it: flags, not keywords."""
    for keyword, flag in FLAGS.items():
        if flag is None:
            message = message.replace(f"pass {keyword}= or ", "")
            continue
        # "pass model=" names the flag and what it takes; "temperature=9.0" has its value
        message = re.sub(rf"\b{keyword}=(?=[\s,;:)]|$)", flag, message)
        message = re.sub(rf"\b{keyword}=(?=\S)", f"{flag.split()[0]} ", message)
    for phrase in _PYTHON_ONLY:
        message = message.replace(phrase, "")
    return message


def _failed(exc: Exception) -> int:
    """Reports an error; a request or configuration the user must fix exits 2, else 1."""
    from .errors import ConfigurationError, RequestValidationError

    _err(f"{type(exc).__name__}: {cli_hint(str(exc))}")
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
    """The prompt of a one-off reply: the arguments, else all of standard input."""
    if args.prompt:
        return " ".join(args.prompt)
    return stdin.read()


def _usage(message: str) -> int:
    _err(message)
    return EXIT_USAGE


def cmd_chat(args: argparse.Namespace) -> int:
    from .errors import ProviderError

    attached: list[ContentPart] = [_attachment(name) for name in args.attach]
    if not args.prompt and sys.stdin.isatty():
        if args.json:
            return _usage("--json needs a prompt (as an argument or on standard input)")
        return _interactive_chat(args, attached, sys.stdin, sys.stdout)
    text = _prompt(args, sys.stdin).strip()
    if not text:
        return _usage("the prompt is empty")
    messages = [*_system_messages(args.system), _user_message(text, attached)]
    out = sys.stdout
    try:
        with _open_client(args) as chat_client:
            _stream_reply(chat_client, messages, args, out)
    except ProviderError as exc:
        return _failed_with(exc, args.attach)
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


class ReplyInterrupted(KeyboardInterrupt):
    """Ctrl-C while a reply streamed: `partial` is what had arrived."""

    def __init__(self, partial: CompletionResponse) -> None:
        super().__init__()
        self.partial = partial


def _stream_reply(
    chat_client: BaseClient,
    messages: list[Message],
    args: argparse.Namespace,
    out: TextIO,
    chosen_model: str | None = None,
) -> CompletionResponse:
    """Streams one reply to `out` and its summary line to stderr, and returns the reply.
    `chosen_model`: the chat's /model, else the client's."""
    started = time.monotonic()
    first: float | None = None
    stream = chat_client.stream_completion(
        messages=messages,
        model=chosen_model,
        max_tokens=args.max_tokens,
        temperature=args.temperature,
    )
    with stream:
        try:
            for chunk in stream:
                if first is None and (chunk.content or chunk.reasoning):
                    first = time.monotonic() - started
                if args.json:
                    out.write(json.dumps(_chunk_json(chunk)) + "\n")
                elif chunk.content:
                    out.write(chunk.content)
                out.flush()
        except KeyboardInterrupt:
            raise ReplyInterrupted(stream.snapshot()) from None
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
    return final


def _failed_with(exc: Exception, attachments: Sequence[str]) -> int:
    """`_failed`, and when the provider refused what was attached, which flags to drop."""
    from .errors import CapabilityError

    code = _failed(exc)
    if attachments and isinstance(exc, CapabilityError):
        files = " ".join(f"-a {name}" for name in attachments)
        _err(f"leave out {files}, or choose a provider that takes them with -p")
    return code


# --------------------------------------------------------------------------- interactive

CHAT_HELP = """\
/reset         forget the conversation (the system prompt stays)
/model NAME    talk to another model from the next message on
/system TEXT   set the system prompt (/system alone removes it)
/help          this list
Ctrl-C stops a reply; Ctrl-C at the prompt, or Ctrl-D, leaves."""


def _interactive_chat(
    args: argparse.Namespace, attached: list[ContentPart], stdin: TextIO, out: TextIO
) -> int:
    """A multi-turn chat on a terminal: each reply streams, the history is kept and sent
    with every message, and `/` commands change the conversation."""
    from .errors import CapabilityError, ProviderError
    from .types import Message

    system: str | None = args.system
    history: list[Message] = []
    model: str | None = None
    pending = list(attached)  # attachments go with the first message that is answered
    with _open_client(args) as chat_client:
        _err(f"chatting with {chat_client.model}: /help for commands, Ctrl-D to leave")
        while True:
            try:
                line = _read_line("> ", stdin, out).strip()
            except EOFError:
                out.write("\n")
                return EXIT_OK
            except KeyboardInterrupt:
                out.write("\n")
                return EXIT_INTERRUPTED
            if line.startswith("/"):
                command, _, rest = line.partition(" ")
                rest = rest.strip()
                if command == "/reset":
                    history.clear()
                    _err("the conversation is forgotten")
                elif command == "/model":
                    if rest:
                        model = rest
                    _err(f"model: {model or chat_client.model}")
                elif command == "/system":
                    system = rest or None
                    _err(f"system prompt: {system!r}" if system else "no system prompt")
                elif command == "/help":
                    out.write(CHAT_HELP + "\n")
                else:
                    _err(f"unknown command {command}: /help lists them")
                continue
            if not line:
                continue
            turn = _user_message(line, pending)
            messages = [*_system_messages(system), *history, turn]
            try:
                reply = _stream_reply(chat_client, messages, args, out, chosen_model=model)
            except ReplyInterrupted as stopped:
                out.write("\n")
                _err("reply stopped")
                if stopped.partial.content:  # kept: the next message follows what was seen
                    history += [turn, Message.assistant(stopped.partial.content)]
                    pending = []
                continue
            except KeyboardInterrupt:  # before the reply began: nothing to keep
                out.write("\n")
                _err("reply stopped")
                continue
            except ProviderError as exc:
                _failed_with(exc, args.attach if pending else ())
                if pending and isinstance(exc, CapabilityError):
                    pending = []
                    _err("the attachments are left out of the next messages")
                continue
            history += [turn, reply.to_message()]
            pending = []


def _read_line(prompt: str, stdin: TextIO, out: TextIO) -> str:
    """One line typed at the prompt; EOFError at Ctrl-D (the end of the input)."""
    if stdin is sys.__stdin__ and out is sys.__stdout__:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401  (line editing and history for input())
        return input(prompt)
    out.write(prompt)
    out.flush()
    line = stdin.readline()
    if not line:
        raise EOFError
    return line.rstrip("\n")


def _system_messages(system: str | None) -> list[Message]:
    from .types import Message

    return [Message.system(system)] if system else []


def _user_message(text: str, attached: Sequence[ContentPart]) -> Message:
    from .types import Message, TextPart

    return Message.user([TextPart(text=text), *attached] if attached else text)


# --------------------------------------------------------------------------- attachments

# what a file is, told by its first bytes; a file they do not tell, by its extension
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)
_EXTENSIONS = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".md": "text/plain",
}


def media_type_of(path: Path, data: bytes) -> str | None:
    """The media type of an attachment: an image, a PDF or plain text (None: none of those)."""
    for magic, media_type in _MAGIC:
        if data.startswith(magic):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return _EXTENSIONS.get(path.suffix.lower())


def _attachment(name: str) -> ImagePart | DocumentPart:
    from .errors import RequestValidationError
    from .types import DocumentPart, ImagePart

    path = Path(name)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SystemExit(_usage(f"cannot attach {name}: {exc.strerror or exc}")) from None
    media_type = media_type_of(path, data)
    if media_type is None:
        raise SystemExit(
            _usage(
                f"cannot attach {name}: attachments are images (PNG, JPEG, GIF, WebP), PDFs "
                "and text files (.txt, .md)"
            )
        )
    if media_type.startswith("image/"):
        return ImagePart.from_bytes(data, media_type)
    try:
        return DocumentPart.from_bytes(data, media_type, filename=path.name)
    except RequestValidationError as exc:
        raise SystemExit(_usage(f"cannot attach {name}: {exc.message}")) from None


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
        elif spec.auth.key_from_env():
            status = "key set"
        else:
            status = f"needs {spec.auth.env_names}"
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


# What the installed generator (the `modelwire_codegen` the wheel ships) imports, by
# distribution: `pip install "modelwire[generate]"` brings them all. It runs in a child
# process, so that modelwire itself never imports it.
GENERATOR_NEEDS = {"jinja2": "jinja2", "yaml": "pyyaml", "ruff": "ruff"}
GENERATE_EXTRA = 'pip install "modelwire[generate]"'


def cmd_generate(args: argparse.Namespace) -> int:
    """In a source checkout (`--root`), its own generator regenerates the package; else the
    installed one writes the clients of a user's specs as a package of their own."""
    from importlib.util import find_spec

    root = Path(args.root)
    if (root / "codegen" / "__main__.py").is_file():
        command = [sys.executable, "-m", "codegen"]
        command += ["--spec-dir", args.spec_dir or "spec", "--out", args.out or "sdk/modelwire"]
        if args.no_wire:
            command.append("--no-wire")
    else:
        if find_spec("modelwire_codegen") is None:  # e.g. an editable install of a checkout
            return _usage(
                f"no source checkout at {root.resolve()} (--root), and this modelwire was "
                "installed without its generator: run it in the checkout, or install "
                "modelwire from its wheel"
            )
        missing = [dist for module, dist in GENERATOR_NEEDS.items() if find_spec(module) is None]
        if missing:
            return _usage(
                f"modelwire generate needs its extra ({', '.join(missing)} missing): "
                f"{GENERATE_EXTRA}"
            )
        if not (args.spec_dir and args.out):
            return _usage(
                f"no source checkout at {root.resolve()}: give --spec-dir (a folder of provider "
                "YAML files) and --out (the package folder to write their clients to)"
            )
        command = [sys.executable, "-m", "modelwire_codegen", "--standalone"]
        command += ["--spec-dir", args.spec_dir, "--out", args.out]
    if args.check:
        command.append("--check")
    try:
        return subprocess.call(command, cwd=root if command[2] == "codegen" else None)
    except OSError as exc:
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

    chat = sub.add_parser(
        "chat",
        help="stream a reply to the terminal; with no prompt on a terminal, chat in turns",
    )
    chat.add_argument(
        "prompt", nargs="*", help="the prompt (default: standard input; none on a terminal: chat)"
    )
    add_client_flags(chat)
    chat.add_argument("-s", "--system", help="a system prompt")
    chat.add_argument(
        "-a",
        "--attach",
        action="append",
        default=[],
        metavar="FILE",
        help="attach an image, a PDF or a text file (repeatable)",
    )
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

    generate = sub.add_parser(
        "generate",
        help="generate typed clients from provider specs (needs modelwire[generate])",
    )
    generate.add_argument(
        "--root", default=".", help="a source checkout to regenerate (default: ., if it is one)"
    )
    generate.add_argument(
        "--spec-dir", help="the provider YAML files (default in a checkout: spec)"
    )
    generate.add_argument(
        "--out", help="the package folder to write (default in a checkout: sdk/modelwire)"
    )
    generate.add_argument("--check", action="store_true", help="fail if the output is stale")
    generate.add_argument(
        "--no-wire", action="store_true", help="in a checkout: skip the wire models"
    )
    generate.set_defaults(func=cmd_generate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .errors import ConfigurationError

    try:
        code: int = args.func(args)
    except ConfigurationError as exc:
        _err(cli_hint(str(exc)))
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
