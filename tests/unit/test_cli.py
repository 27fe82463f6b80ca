"""The command line (`modelwire.cli`): chat, models and providers run in process against a
scripted mock; `modelwire generate` runs the generator of a source checkout."""

from __future__ import annotations

import io
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import modelwire
import modelwire.cost
import pytest
from modelwire import providers
from modelwire.cli import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PROVIDER_ERROR,
    EXIT_USAGE,
    _chunk_json,
    cli_hint,
    main,
    media_type_of,
)
from modelwire.providers import PROVIDERS
from modelwire.testing import MockProvider
from modelwire.types import StreamingChunk, ToolCallDelta

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelwire.cli", "generate", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_generate_check_passes_on_the_committed_tree() -> None:
    result = run("--check", "--root", str(ROOT))
    assert result.returncode == 0, result.stderr


def test_generate_writes_a_new_provider_from_yaml_alone(tmp_path: Path) -> None:
    # a copy of the checkout's generator inputs, plus one new OpenAI-compatible provider
    shutil.copytree(ROOT / "spec", tmp_path / "spec")
    shutil.copytree(ROOT / "codegen", tmp_path / "codegen")
    shutil.copytree(ROOT / "sdk", tmp_path / "sdk")
    (tmp_path / "spec/providers/together.yaml").write_text(
        "name: together\n"
        "display_name: Together AI\n"
        "class_name: Together\n"
        "dialect: openai_chat\n"
        "base_url: https://api.together.xyz/v1\n"
        "base_url_env: TOGETHER_BASE_URL\n"
        "auth: {type: bearer, env: TOGETHER_API_KEY}\n"
        "endpoints: {chat: /chat/completions, models: /models}\n"
    )
    result = run("--root", str(tmp_path), "--no-wire")
    assert result.returncode == 0, result.stderr
    generated = tmp_path / "sdk/modelwire/providers/together.py"
    assert "class Together(Client)" in generated.read_text()
    assert "class AsyncTogether(AsyncClient)" in generated.read_text()
    code = (
        "import modelwire; c = modelwire.Together(api_key='k'); "
        "print(type(c).__name__, c.base_url, 'together' in modelwire.providers.PROVIDERS)"
    )
    check = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(tmp_path / "sdk"), "PATH": "/usr/bin:/bin"},
    )
    assert check.returncode == 0, check.stderr
    assert check.stdout.split() == ["Together", "https://api.together.xyz/v1", "True"]


def test_a_broken_spec_exits_2_naming_the_file(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "spec", tmp_path / "spec")
    shutil.copytree(ROOT / "codegen", tmp_path / "codegen")
    (tmp_path / "spec/providers/broken.yaml").write_text("name: broken\ndialect: nope\n")
    result = run("--root", str(tmp_path), "--check", "--no-wire")
    assert result.returncode == 2
    assert "broken.yaml" in result.stderr and "dialect" in result.stderr


# --------------------------------------------------------------------------- in process


@pytest.fixture
def mock(monkeypatch: pytest.MonkeyPatch) -> MockProvider:
    """The client `-p ...` asks for: a scripted mock, and what it was asked with."""
    made = MockProvider()
    made.asked = []  # type: ignore[attr-defined]

    def client(target: str, **kwargs: Any) -> MockProvider:
        made.asked.append((target, kwargs))  # type: ignore[attr-defined]
        return made

    monkeypatch.setattr(providers, "client", client)
    monkeypatch.delenv("MODELWIRE_PROVIDER", raising=False)
    return made


def test_chat_streams_the_reply_and_a_summary(
    mock: MockProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    mock.reply("Hello big world", usage=(3, 3))
    code = main(
        ["chat", "-p", "openai", "-m", "gpt-4o", "--base-url", "http://x.test/v1", "Say", "hi"]
    )
    out, err = capsys.readouterr()
    assert code == EXIT_OK
    assert out == "Hello big world\n"
    assert re.fullmatch(
        r"modelwire: \[mock-model\] 3 in, 3 out; first token \d+ ms; total \d+\.\d\d s; "
        r"finish stop\n",
        err,
    )
    assert mock.asked == [("openai", {"base_url": "http://x.test/v1", "model": "gpt-4o"})]  # type: ignore[attr-defined]
    assert mock.last_request["messages"] == [{"role": "user", "content": "Say hi"}]
    assert mock.last_request["max_tokens"] == 512 and "temperature" not in mock.last_request


def test_the_summary_ends_with_the_cost_when_the_price_table_knows_the_model(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    priced = MockProvider("openai", model="gpt-4o-mini").reply("Hello", usage=(1000, 100))
    monkeypatch.setattr(providers, "client", lambda target, **kwargs: priced)
    assert main(["chat", "-p", "openai/gpt-4o-mini", "hi"]) == EXIT_OK
    err = capsys.readouterr().err
    expected = modelwire.cost.estimate(
        modelwire.CompletionResponse(
            model="gpt-4o-mini",
            provider="openai",
            usage=modelwire.Usage(input_tokens=1000, output_tokens=100),
        )
    )
    assert err.rstrip().endswith(f"finish stop; cost {expected}")


def test_chat_with_a_system_prompt_and_sampling(
    mock: MockProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    mock.reply("ok", usage=None)
    assert (
        main(
            [
                "chat",
                "-p",
                "openai",
                "-s",
                "Be brief.",
                "--max-tokens",
                "9",
                "--temperature",
                "0.5",
                "q",
            ]
        )
        == 0
    )
    sent = mock.last_request
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."}
    assert (sent["max_tokens"], sent["temperature"]) == (9, 0.5)
    assert "usage not reported by the server" in capsys.readouterr().err


def test_chat_as_json_lines(mock: MockProvider, capsys: pytest.CaptureFixture[str]) -> None:
    mock.reply("a b", usage=(1, 2))
    assert main(["chat", "-p", "openai", "--json", "q"]) == EXIT_OK
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    # one object per chunk: the role, each text delta, the finish, the usage, the end
    assert [line["content"] for line in lines if line["content"]] == ["a", " b"]
    assert [line.get("is_final", False) for line in lines].count(True) == 1
    assert lines[-1] == {
        "content": "",
        "is_final": True,
        "finish_reason": "stop",
        "usage": {
            "input_tokens": 1,
            "output_tokens": 2,
            "reasoning_tokens": None,
            "cache_read_tokens": None,
            "cache_write_tokens": None,
        },
    }


def test_the_provider_from_the_environment(
    mock: MockProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELWIRE_PROVIDER", "anthropic/claude-haiku-4-5")
    mock.reply("x")
    assert main(["chat", "q"]) == EXIT_OK
    assert mock.asked == [("anthropic/claude-haiku-4-5", {})]  # type: ignore[attr-defined]


def test_the_prompt_from_standard_input(
    mock: MockProvider, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("  from a pipe\n"))
    mock.reply("x")
    assert main(["chat", "-p", "openai"]) == EXIT_OK
    assert mock.last_request["messages"][-1]["content"] == "from a pipe"
    monkeypatch.setattr(sys, "stdin", io.StringIO("   \n"))
    assert main(["chat", "-p", "openai"]) == EXIT_USAGE
    assert "modelwire: the prompt is empty" in capsys.readouterr().err


class Terminal(io.StringIO):
    """Standard input as a terminal: what the user types, line by line."""

    def isatty(self) -> bool:
        return True


def test_no_prompt_on_a_terminal_chats_until_end_of_input(
    mock: MockProvider, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", Terminal(""))  # Ctrl-D at once
    assert main(["chat", "-p", "openai"]) == EXIT_OK
    assert mock.requests == []
    assert "chatting with mock-model: /help for commands, Ctrl-D to leave" in (
        capsys.readouterr().err
    )


def test_a_provider_error_exits_1_and_a_bad_request_2(
    mock: MockProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    mock.fail(400, message="no such model")
    assert main(["chat", "-p", "openai", "q"]) == EXIT_PROVIDER_ERROR
    assert (
        "modelwire: BadRequestError: [mock, 400, request id req_mock_1] no such model"
        in capsys.readouterr().err
    )
    assert main(["chat", "-p", "openai", "--temperature", "9", "q"]) == EXIT_USAGE
    # the hint names the flag, not the Python keyword
    assert (
        "RequestValidationError: [mock] --temperature 9.0 is out of range for Mock provider"
        in capsys.readouterr().err
    )


def test_models_lists_the_ids(mock: MockProvider, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "-p", "openai"]) == EXIT_OK
    assert capsys.readouterr().out == "mock-model\n"


def test_a_configuration_error_exits_2_naming_the_fix(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert main(["models", "-p", "openai"]) == EXIT_USAGE
    # no flag sets a key: the variable is the way (Python's hint also names api_key=)
    assert "OpenAI needs an API key: set OPENAI_API_KEY\n" in capsys.readouterr().err
    assert main(["models", "-p", "nonesuch"]) == EXIT_USAGE
    assert "unknown provider 'nonesuch'" in capsys.readouterr().err


def test_providers_says_what_is_configured_and_never_a_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "sk-cli-secret-value-123456"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    # a server listening where OLLAMA_HOST says; nothing where LLAMACPP_BASE_URL says
    listener = socket.create_server(("127.0.0.1", 0))
    listening_port = listener.getsockname()[1]
    closed = socket.create_server(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{listening_port}")
    monkeypatch.setenv("LLAMACPP_BASE_URL", f"http://127.0.0.1:{closed_port}/v1")
    with listener:
        assert main(["providers"]) == EXIT_OK
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines()}
    assert rows["provider"].split() == [
        "provider",
        "status",
        "key",
        "variable",
        "URL",
        "variable",
        "default",
        "URL",
    ]
    assert set(rows) == {"provider", *PROVIDERS}
    assert "key set" in rows["openai"] and "OPENAI_API_KEY" in rows["openai"]
    assert "needs ANTHROPIC_API_KEY" in rows["anthropic"]
    assert f"no key needed; listening at 127.0.0.1:{listening_port}" in rows["ollama"]
    assert f"no key needed; not listening at 127.0.0.1:{closed_port}" in rows["llamacpp"]
    assert "https://api.openai.com/v1" in rows["openai"]
    assert secret not in out and secret[-6:] not in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"modelwire {modelwire.__version__}"


def test_a_closed_pipe_and_ctrl_c_end_quietly() -> None:
    # `modelwire ... | head` and Ctrl-C: an exit code, no traceback
    code = (
        "import sys, modelwire.cli as cli\n"
        "def boom(args):\n"
        "    raise {exc}\n"
        "cli.cmd_providers = boom\n"
        "sys.exit(cli.main(['providers']))\n"
    )
    for exc, expected in (("BrokenPipeError()", 141), ("KeyboardInterrupt()", 130)):
        done = subprocess.run(
            [sys.executable, "-c", code.format(exc=exc)], capture_output=True, text=True
        )
        assert done.returncode == expected, done.stderr
        assert "Traceback" not in done.stderr


def test_a_real_closed_pipe_gives_no_traceback() -> None:
    reader = subprocess.Popen(
        [sys.executable, "-m", "modelwire.cli", "providers"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert reader.stdout is not None
    reader.stdout.close()  # the reader leaves before the first line is written
    _, err = reader.communicate(timeout=60)
    assert b"Traceback" not in err and reader.returncode in (0, 141)


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == EXIT_USAGE
    assert "the following arguments are required: command" in capsys.readouterr().err


def test_generate_without_a_checkout_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # an install without the generator (some editable installs of a checkout): it says
    # where to run
    import importlib.util

    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "modelwire_codegen" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    assert main(["generate", "--root", str(tmp_path / "nowhere")]) == EXIT_USAGE
    assert "installed without its generator: run it in the checkout" in capsys.readouterr().err


def test_generate_without_its_extra_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    found = importlib.util.find_spec
    absent = {"jinja2", "ruff"}

    def find_spec(name: str, package: str | None = None) -> Any:
        if name == "modelwire_codegen":  # as the wheel ships it
            return found("codegen")
        return None if name in absent else found(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    monkeypatch.chdir(tmp_path)  # no checkout here
    args = ["generate", "--spec-dir", "specs", "--out", "clients"]
    assert main(args) == EXIT_USAGE
    assert capsys.readouterr().err == (
        "modelwire: modelwire generate needs its extra (jinja2, ruff missing): "
        'pip install "modelwire[generate]"\n'
    )
    absent.clear()
    assert main(["generate"]) == EXIT_USAGE
    assert "give --spec-dir (a folder of provider YAML files) and --out" in (
        capsys.readouterr().err
    )


def test_chunk_json_of_tool_calls_and_reasoning() -> None:
    chunk = StreamingChunk(
        reasoning="hm", tool_calls=(ToolCallDelta(index=0, id="c", name="f", arguments="{"),)
    )
    assert _chunk_json(chunk) == {
        "content": "",
        "reasoning": "hm",
        "tool_calls": [{"index": 0, "id": "c", "name": "f", "arguments": "{"}],
    }
    assert _chunk_json(StreamingChunk(is_final=True, finish_reason="length")) == {
        "content": "",
        "is_final": True,
        "finish_reason": "length",
    }


def test_serve_offers_the_engines_modelwire_local_starts() -> None:
    from modelwire.cli import SERVE_ENGINES
    from modelwire.local import ENGINES

    assert SERVE_ENGINES == ENGINES


def test_serve_prints_each_dialects_url_and_client_base_url() -> None:
    from modelwire.cli import _serve_lines
    from modelwire.local import LocalServer

    lines = _serve_lines(LocalServer("/m.gguf", port=8123, engine="llama-server"))
    assert len(lines) == 3
    chat, anthropic, responses = lines
    assert chat.startswith("OpenAI chat completions")
    assert "http://127.0.0.1:8123/v1/chat/completions" in chat
    assert "base_url=http://127.0.0.1:8123/v1)" in chat
    assert "http://127.0.0.1:8123/v1/messages" in anthropic
    assert "modelwire.Anthropic, base_url=http://127.0.0.1:8123)" in anthropic
    assert "http://127.0.0.1:8123/v1/responses" in responses
    assert len(_serve_lines(LocalServer("/m.gguf", port=8123))) == 1


def test_serve_with_an_unknown_model_file_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(["serve", "--engine", "llama-cpp-python", "--model-path", str(tmp_path / "x.gguf")])
    assert code == EXIT_USAGE
    assert "does not exist" in capsys.readouterr().err


# ----------------------------------------------------------------------------- batch


def test_batch_writes_one_result_a_line_in_order_with_progress_on_stderr(
    mock: MockProvider,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = tmp_path / "prompts.jsonl"
    source.write_text(
        '{"prompt": "one"}\n'
        "\n"
        '{"messages": [{"role": "user", "content": "two"}], "max_tokens": 3}\n'
        '{"prompt": "three"}\n'
    )
    mock.reply("first", usage=(1, 1)).fail(400, message="no such thing").reply("third")
    code = main(["batch", "-p", "openai", "-c", "1", "--ordered", "--max-tokens", "9", str(source)])
    out, err = capsys.readouterr()
    assert code == EXIT_PROVIDER_ERROR  # one failed: its error is its line
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(line["index"], line["ok"]) for line in lines] == [(0, True), (1, False), (2, True)]
    assert lines[0]["content"] == "first" and lines[0]["usage"]["input_tokens"] == 1
    assert lines[1]["error"]["type"] == "BadRequestError"
    assert "no such thing" in lines[1]["error"]["message"]
    assert [r["max_tokens"] for r in mock.requests] == [9, 3, 9]  # a line's own wins
    assert mock.requests[0]["messages"] == [{"role": "user", "content": "one"}]
    assert err.endswith("\rmodelwire: 3/3 done, 1 failed\n")
    assert "1/3 done, 0 failed" in err


def test_batch_reads_standard_input_and_writes_a_file(
    mock: MockProvider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"prompt": "hi"}\n'))
    mock.reply("hello")
    target = tmp_path / "out.jsonl"
    assert main(["batch", "-p", "openai", "-o", str(target)]) == EXIT_OK
    assert json.loads(target.read_text())["content"] == "hello"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"prompt": "ok"}\nnot json\n', "line 2 is not JSON"),
        ('["a list"]\n', 'line 1: give {"prompt": "..."}'),
        ('{"prompt": 5}\n', 'line 1: give {"prompt": "..."}'),
    ],
)
def test_a_bad_line_is_refused_before_anything_is_sent(
    mock: MockProvider,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    says: str,
) -> None:
    source = tmp_path / "bad.jsonl"
    source.write_text(text)
    assert main(["batch", "-p", "openai", str(source)]) == EXIT_USAGE
    assert says in capsys.readouterr().err
    assert mock.requests == []


def test_batch_of_a_missing_file_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["batch", "-p", "openai", "/nonexistent/prompts.jsonl"]) == EXIT_USAGE
    assert "/nonexistent/prompts.jsonl" in capsys.readouterr().err


def test_batch_to_an_unwritable_file_says_so_and_sends_nothing(
    mock: MockProvider, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "prompts.jsonl"
    source.write_text('{"prompt": "hi"}\n')
    target = tmp_path / "missing" / "out.jsonl"
    assert main(["batch", "-p", "openai", str(source), "-o", str(target)]) == EXIT_USAGE
    assert f"{target}: No such file or directory" in capsys.readouterr().err


# --------------------------------------------------------------------------- error hints


@pytest.mark.parametrize(
    ("python", "cli"),
    [
        (
            "no model given: pass model= (for example 'gpt-4o-mini') to the call or to the client",
            "no model given: pass -m MODEL (for example 'gpt-4o-mini')",
        ),
        ("Acme needs max_tokens: pass max_tokens=", "Acme needs max_tokens: pass --max-tokens N"),
        ("max_tokens=0 must be at least 1", "--max-tokens 0 must be at least 1"),
        ("temperature=2.5 is out of range", "--temperature 2.5 is out of range"),
        (
            "OpenAI needs an API key: pass api_key= or set OPENAI_API_KEY",
            "OpenAI needs an API key: set OPENAI_API_KEY",
        ),
        # keywords the command line has no flag for, and longer names, stay as they are
        (
            "thinking budget_tokens=900 must be at least 1024",
            "thinking budget_tokens=900 must be at least 1024",
        ),
        ("leave seed= unset", "leave seed= unset"),
    ],
)
def test_hints_name_the_flag_on_the_command_line(python: str, cli: str) -> None:
    assert cli_hint(python) == cli


def test_a_missing_model_names_the_flag(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # vLLM serves whatever it was started with: its client has no model of its own, and
    # the request is refused before it is sent
    monkeypatch.delenv("VLLM_BASE_URL", raising=False)
    assert main(["chat", "-p", "vllm", "q"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err == "modelwire: RequestValidationError: [vllm] no model given: pass -m MODEL\n"
    # the library's own words, to a Python caller, name the keyword
    with pytest.raises(modelwire.RequestValidationError, match="pass model= to the call"):
        modelwire.client("vllm").complete(messages=[{"role": "user", "content": "q"}])


# --------------------------------------------------------------------------- interactive


def test_a_multi_turn_chat_keeps_the_history(
    mock: MockProvider, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    mock.reply("Lisbon.").reply("About 550,000.").reply("Hi again.").reply("Fine.")
    typed = [
        "What is the capital of Portugal?",
        "",  # an empty line sends nothing
        "How many live there?",
        "/help",
        "/system Be brief.",
        "/model mock-large",
        "/reset",
        "Hello",
        "/system",
        "/nonesuch",
        "And you?",
    ]
    monkeypatch.setattr(sys, "stdin", Terminal("\n".join(typed) + "\n"))
    assert main(["chat", "-p", "openai", "--system", "Be kind."]) == EXIT_OK
    out, err = capsys.readouterr()
    first, second, third, fourth = mock.requests
    assert first["messages"] == [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "What is the capital of Portugal?"},
    ]
    assert second["messages"] == [
        *first["messages"],
        {"role": "assistant", "content": "Lisbon."},
        {"role": "user", "content": "How many live there?"},
    ]
    # /system replaced the prompt, /model the model, /reset the history
    assert third["model"] == "mock-large" and first["model"] == "mock-model"
    assert third["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hello"},
    ]
    # /system alone removes it; the history since /reset stays
    assert fourth["messages"] == [
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Hi again."},
        {"role": "user", "content": "And you?"},
    ]
    assert out.count("> ") == len(typed) + 1  # a prompt per line, and the last before Ctrl-D
    for reply in ("Lisbon.\n", "About 550,000.\n", "Hi again.\n", "Fine.\n"):
        assert reply in out
    assert "/reset         forget the conversation" in out
    assert "model: mock-large" in err and "the conversation is forgotten" in err
    assert "no system prompt" in err and "unknown command /nonesuch: /help lists them" in err
    assert err.count("finish stop") == 4  # a summary line per reply


class StopAt(io.StringIO):
    """Standard output where Ctrl-C is pressed as `word` is printed."""

    def __init__(self, word: str) -> None:
        super().__init__()
        self.word = word

    def write(self, text: str) -> int:
        if text == self.word:
            self.word = ""  # once
            raise KeyboardInterrupt
        return super().write(text)


def test_ctrl_c_stops_the_reply_and_the_chat_goes_on(
    mock: MockProvider, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    mock.reply("One two three four").reply("Sure.")
    monkeypatch.setattr(sys, "stdin", Terminal("Count\nGo on\n"))
    out = StopAt(" three")
    monkeypatch.setattr(sys, "stdout", out)
    assert main(["chat", "-p", "openai"]) == EXIT_OK
    assert "reply stopped" in capsys.readouterr().err
    # what had arrived of the stopped reply (up to the chunk being shown) is the history
    # the next message follows
    assert mock.requests[1]["messages"] == [
        {"role": "user", "content": "Count"},
        {"role": "assistant", "content": "One two three"},
        {"role": "user", "content": "Go on"},
    ]
    assert "Sure.\n" in out.getvalue()


def test_ctrl_c_at_the_prompt_leaves_with_130(
    mock: MockProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Interrupted(Terminal):
        def readline(self, size: int | None = -1) -> str:
            raise KeyboardInterrupt

    monkeypatch.setattr(sys, "stdin", Interrupted())
    assert main(["chat", "-p", "openai"]) == EXIT_INTERRUPTED
    assert mock.requests == []


def test_a_failed_reply_is_reported_and_the_chat_goes_on(
    mock: MockProvider, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    mock.fail(400, message="no such model").reply("ok")
    monkeypatch.setattr(sys, "stdin", Terminal("first\nsecond\n"))
    assert main(["chat", "-p", "openai"]) == EXIT_OK
    assert "BadRequestError: [mock, 400, request id req_mock_1] no such model" in (
        capsys.readouterr().err
    )
    # the failed message is not in the history
    assert mock.requests[1]["messages"] == [{"role": "user", "content": "second"}]


def test_json_lines_need_a_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", Terminal(""))
    assert main(["chat", "-p", "openai", "--json"]) == EXIT_USAGE


# a chat on a real terminal (a pseudo-terminal), answered by a mock whose replies are slow
# enough to be interrupted
_ON_A_TERMINAL = """
import signal
import sys

# Ctrl-C must raise here even when the test runner was started with SIGINT ignored (a
# background job of a shell), which a child inherits
signal.signal(signal.SIGINT, signal.default_int_handler)
import modelwire.cli as cli
from modelwire import providers
from modelwire.testing import MockProvider

mock = MockProvider().reply("Hello there.")
mock.reply(" ".join(["word"] * 400), delay=0.02).reply("Still here.")
providers.client = lambda target, **kwargs: mock
code = cli.main(["chat", "-p", "openai"])
sys.stderr.write(f"sent {len(mock.requests)}: {mock.requests[-1]['messages']}\\n")
sys.exit(code)
"""


def _read_until(fd: int, wanted: bytes, seen: bytearray, after: bytes = b"") -> None:
    """Reads the terminal into `seen` until `wanted` shows (after the text `after`)."""
    end = time.monotonic() + 60.0  # generous: a busy machine starts Python slowly
    while wanted not in seen[seen.find(after) + len(after) if after else 0 :]:
        left = end - time.monotonic()
        assert left > 0, f"no {wanted!r} in {bytes(seen)[-400:]!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                data = os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                data = b""
            assert data, f"the terminal closed before {wanted!r}: {bytes(seen)[-400:]!r}"
            seen += data


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_the_chat_on_a_real_terminal(tmp_path: Path) -> None:
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child: the chat, its standard streams the terminal
        os.execv(sys.executable, [sys.executable, "-c", _ON_A_TERMINAL])
    seen = bytearray()
    finished = False
    try:
        _read_until(fd, b"> ", seen)
        os.write(fd, b"Hi\n")
        _read_until(fd, b"Hello there.", seen)
        _read_until(fd, b"> ", seen, after=b"Hello there.")
        os.write(fd, b"Talk a lot\n")
        _read_until(fd, b"word word", seen)
        os.write(fd, b"\x03")  # Ctrl-C while the reply streams
        _read_until(fd, b"reply stopped", seen)
        _read_until(fd, b"> ", seen, after=b"reply stopped")  # as a user waits for it
        os.write(fd, b"Are you there?\n")
        _read_until(fd, b"> ", seen, after=b"Still here.")
        os.write(fd, b"\x04")  # Ctrl-D at the prompt (once it waits: line editing is on)
        _read_until(fd, b"sent 3", seen)
        finished = True
    finally:
        if not finished:  # the chat waits at its prompt: end it, or the wait never returns
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == EXIT_OK, bytes(seen)[-600:]
    text = bytes(seen).decode()
    assert "Traceback" not in text
    # the stopped reply is in the history, cut where it was stopped
    assert "'role': 'assistant', 'content': 'word word" in text
    assert text.count("word") < 400


# --------------------------------------------------------------------------- attachments

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 8
PDF = b"%PDF-1.4 tiny"


def test_attachments_go_with_the_prompt(
    mock: MockProvider, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "photo.png").write_bytes(PNG)
    (tmp_path / "scan.bin").write_bytes(PDF)  # told by its first bytes, not its name
    (tmp_path / "notes.md").write_text("seven hills", encoding="utf-8")
    mock.reply("Seen.")
    names = [str(tmp_path / n) for n in ("photo.png", "scan.bin", "notes.md")]
    args = ["chat", "-p", "openai", "Compare"]
    assert main(args + [flag for name in names for flag in ("-a", name)]) == EXIT_OK
    (message,) = mock.last_request["messages"]
    assert message["content"][0] == {"type": "text", "text": "Compare"}
    assert message["content"][1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert message["content"][2]["type"] == "file"
    assert message["content"][2]["file"]["filename"] == "scan.bin"
    assert message["content"][3] == {
        "type": "text",
        "text": '<document name="notes.md">\nseven hills\n</document>',
    }


@pytest.mark.parametrize(
    ("magic", "expected"),
    [
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0rest", "image/jpeg"),
        (b"GIF89a...", "image/gif"),
        (b"RIFF\0\0\0\0WEBPVP8 ", "image/webp"),
        (PDF, "application/pdf"),
    ],
)
def test_the_media_type_of_an_attachment(magic: bytes, expected: str) -> None:
    assert media_type_of(Path("any.dat"), magic) == expected
    assert media_type_of(Path("a.JPG"), b"?") == "image/jpeg"
    assert media_type_of(Path("a.txt"), b"x") == "text/plain"
    assert media_type_of(Path("a.docx"), b"PK\x03\x04") is None


def test_an_attachment_the_provider_does_not_take_is_refused_before_sending(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ollama = MockProvider(dialect_of="ollama")
    monkeypatch.setattr(providers, "client", lambda target, **kwargs: ollama)
    (tmp_path / "paper.pdf").write_bytes(PDF)
    paper = str(tmp_path / "paper.pdf")
    assert main(["chat", "-p", "ollama", "-a", paper, "Sum up"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert (
        "CapabilityError: [ollama] messages[0] has a document, and Ollama takes no documents" in err
    )
    assert f"leave out -a {paper}, or choose a provider that takes them with -p" in err
    assert ollama.requests == []
    # in a chat, the message is refused, the attachment dropped, and the chat goes on
    ollama = MockProvider(dialect_of="ollama").reply("Without it.")
    monkeypatch.setattr(sys, "stdin", Terminal("Sum up\nThen just hi\n"))
    assert main(["chat", "-p", "ollama", "-a", paper]) == EXIT_OK
    assert "the attachments are left out of the next messages" in capsys.readouterr().err
    assert ollama.last_request["messages"] == [{"role": "user", "content": "Then just hi"}]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot attach {path}: No such file or directory"),
        (b"PK\x03\x04", "cannot attach {path}: attachments are images (PNG, JPEG, GIF, WebP)"),
        (b"\xff\xfe bad", "cannot attach {path}: invalid DocumentPart: a text/plain"),
    ],
)
def test_a_file_that_cannot_be_attached_is_a_usage_error(
    mock: MockProvider,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes | None,
    message: str,
) -> None:
    path = tmp_path / ("notes.txt" if content and content.startswith(b"\xff") else "a.docx")
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SystemExit) as info:
        main(["chat", "-p", "openai", "-a", str(path), "q"])
    assert info.value.code == EXIT_USAGE
    assert message.format(path=path) in capsys.readouterr().err
    assert mock.requests == []
