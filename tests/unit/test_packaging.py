"""The built wheel: what it ships, what it depends on, and that it imports on its own."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("modelwire-*.whl")
    return built


def test_wheel_ships_the_package_and_its_types(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "modelwire/py.typed" in names
    assert "modelwire/providers/openai.py" in names
    assert "modelwire/providers/openai.json" in names  # the spec, read at run time
    assert "modelwire/wire/openai_chat.py" in names
    assert "modelwire/_client/_sync.py" in names
    # build-time only: the generator and the tests stay out of the wheel
    assert not [n for n in names if n.startswith(("codegen/", "tests/", "spec/"))]


def test_runtime_dependencies_are_httpx_and_pydantic_only(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
    message = Parser().parsestr(archive.read(metadata).decode())
    required = [r for r in message.get_all("Requires-Dist") or [] if "extra ==" not in r]
    assert sorted(r.split(">")[0].split("<")[0].split("=")[0].strip() for r in required) == [
        "httpx",
        "pydantic",
    ]
    entry_points = [n for n in archive.namelist() if n.endswith("entry_points.txt")]
    assert "modelwire = modelwire.cli:main" in archive.read(entry_points[0]).decode()


def test_the_unpacked_wheel_imports_without_the_source_tree(wheel: Path, tmp_path: Path) -> None:
    zipfile.ZipFile(wheel).extractall(tmp_path)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import modelwire; "
        "assert modelwire.__file__.startswith(sys.argv[1]), modelwire.__file__; "
        "c = modelwire.client('ollama'); print(type(c).__name__, 'jinja2' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Ollama", "False"]


def test_the_generator_ships_and_its_dependencies_are_an_extra(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    names = archive.namelist()
    assert "modelwire_codegen/__main__.py" in names
    assert "modelwire_codegen/templates/provider.py.jinja" in names
    (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
    message = Parser().parsestr(archive.read(metadata).decode())
    generate = [r for r in message.get_all("Requires-Dist") or [] if "extra == 'generate'" in r]
    assert sorted(r.split(">")[0] for r in generate) == ["jinja2", "pyyaml", "ruff"]


ACME = """\
name: acme
display_name: Acme AI
class_name: Acme
dialect: openai_chat
base_url: https://api.acme.test/v1
auth: {type: bearer, env: ACME_API_KEY}
endpoints: {chat: /chat/completions, models: /models}
options:
  - {name: creativity, type: float, min: 0, max: 1}
"""


def test_generate_from_the_installed_wheel_on_a_users_specs(wheel: Path, tmp_path: Path) -> None:
    installed = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", installed, wheel],
        check=True,
        capture_output=True,
    )
    project = tmp_path / "project"  # a user's folder: specs, no checkout
    (project / "specs").mkdir(parents=True)
    (project / "specs" / "acme.yaml").write_text(ACME, encoding="utf-8")
    env = {"PYTHONPATH": str(installed), "PATH": "/usr/bin:/bin"}

    def generate(*extra: str) -> subprocess.CompletedProcess[str]:
        command = ["-m", "modelwire.cli", "generate", "--spec-dir", "specs", "--out", "acme"]
        return subprocess.run(
            [sys.executable, *command, *extra], capture_output=True, text=True, cwd=project, env=env
        )

    done = generate()
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (project / "acme").iterdir()) == [
        "__init__.py",
        "acme.json",
        "acme.py",
    ]
    assert generate("--check").returncode == 0
    code = (
        "import modelwire, acme; client = acme.Acme(api_key='k'); "
        "print(modelwire.__file__.startswith(sys.argv[1]), client.base_url, "
        "type(acme.AsyncAcme(api_key='k')).__mro__[1].__name__, acme.Acme.spec.options[0].name)"
    )
    run = subprocess.run(
        [sys.executable, "-c", "import sys; " + code, str(installed)],
        capture_output=True,
        text=True,
        cwd=project,
        env={**env, "PYTHONPATH": f"{installed}:{project}"},
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["True", "https://api.acme.test/v1", "AsyncClient", "creativity"]
    # a broken spec: the file and the key, and no traceback
    (project / "specs" / "acme.yaml").write_text(ACME.replace("openai_chat", "nope"))
    broken = generate()
    assert broken.returncode == 2 and "acme.yaml" in broken.stderr and "dialect" in broken.stderr
    assert "Traceback" not in broken.stderr
