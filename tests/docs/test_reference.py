"""The API reference (docs/reference/, rendered by mkdocstrings in `nox -s docs`) covers
every public class and function users touch, and each of them has a docstring to show."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
from pathlib import Path

import pytest
from modelwire.providers import PROVIDERS

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "reference"
PACKAGES = ("modelwire", "modelwire.testing", "modelwire.local")
# the provider classes are `Client`/`AsyncClient` bound to a spec: clients.md says so once,
# and each provider's page lists its settings; the 0.1 names are aliases of the same classes
NOT_IN_REFERENCE = {
    *(name for _, sync, asynchronous in PROVIDERS.values() for name in (sync, asynchronous)),
    "BaseClient",
    "AsyncBaseClient",
    "client_class",
}


def public_objects() -> list[tuple[str, object]]:
    """Every class and function the packages export, as `package.Name`."""
    found = []
    for package in PACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isclass(value) or inspect.isfunction(value):
                found.append((f"{package}.{name}", value))
    return found


def documented_names() -> set[str]:
    """What the reference pages render: `::: path` directives and `members:` lists."""
    names: set[str] = set()
    for page in REFERENCE.glob("*.md"):
        text = page.read_text(encoding="utf-8")
        for path in re.findall(r"^::: ([\w.]+)", text, re.M):
            names.add(path)
            # the directive's indented options, with any `members:` list of a module
            options = re.search(rf"^::: {re.escape(path)}\n((?: {{4}}.*\n)+)", text, re.M)
            if options:
                members = re.findall(r"^ {8}- (\w+)$", options.group(1), re.M)
                names.update(f"modelwire.{member}" for member in members)
    return names


def own_docstring(value: object) -> str | None:
    doc = value.__doc__
    if inspect.isclass(value) and dataclasses.is_dataclass(value) and doc is not None:
        # a dataclass without a docstring gets its signature as one
        return None if doc.startswith(f"{value.__name__}(") else doc
    return doc


PUBLIC = dict(public_objects())


@pytest.mark.parametrize("path", PUBLIC)
def test_every_public_class_and_function_has_a_docstring(path: str) -> None:
    doc = own_docstring(PUBLIC[path])
    assert doc and doc.strip(), f"{path} has no docstring for the API reference"


def test_the_reference_covers_every_public_class_and_function() -> None:
    documented = documented_names()
    missing = [
        path
        for path in PUBLIC
        if path not in documented and path.rpartition(".")[2] not in NOT_IN_REFERENCE
    ]
    assert not missing, f"add to a page of docs/reference/: {missing}"
