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
