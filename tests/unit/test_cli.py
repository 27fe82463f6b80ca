"""The command line (`modelwire.cli`): chat, models and providers run in process against a
scripted mock; `modelwire generate` runs the generator of a source checkout."""

from __future__ import annotations

import io
import json
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import modelwire
import modelwire.cost
import pytest
from modelwire import providers
from modelwire.cli import EXIT_OK, EXIT_PROVIDER_ERROR, EXIT_USAGE, _chunk_json, main
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


def test_no_prompt_on_a_terminal_is_a_usage_error(
    mock: MockProvider, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal())
    with pytest.raises(SystemExit) as info:
        main(["chat", "-p", "openai"])
    assert info.value.code == EXIT_USAGE
    assert "give a prompt as an argument or on standard input" in capsys.readouterr().err
    assert mock.requests == []


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
    assert (
        "RequestValidationError: [mock] temperature=9.0 is out of range" in capsys.readouterr().err
    )


def test_models_lists_the_ids(mock: MockProvider, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "-p", "openai"]) == EXIT_OK
    assert capsys.readouterr().out == "mock-model\n"


def test_a_configuration_error_exits_2_naming_the_fix(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert main(["models", "-p", "openai"]) == EXIT_USAGE
    assert "OpenAI needs an API key: pass api_key= or set OPENAI_API_KEY" in capsys.readouterr().err
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
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", "--root", str(tmp_path / "nowhere")]) == EXIT_USAGE
    assert "modelwire: cannot run the generator:" in capsys.readouterr().err


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
    assert mock.requests == []
