"""`modelwire generate` runs the generator of a source checkout."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

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
