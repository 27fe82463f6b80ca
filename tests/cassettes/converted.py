"""The shared recordings, found and converted once per test run.

The recordings other projects made stay in the shared folder (``<repo>/../shared/cassettes``,
or wherever ``MODELWIRE_SHARED_CASSETTES`` points); they are never committed here, not even
converted. :func:`converted_dir` converts them with :mod:`tests.cassettes.importer` into a
temporary folder, once per process, the first time anything asks: a test module that
parametrises over the cassettes while it is collected, or the ``converted_cassettes``
fixture of ``tests/conftest.py``. Both see the same folder, removed when the process ends.

A missing shared folder fails whoever asked (a collection error, or an error in the test
that needs it) with where it was looked for and how to point at it; it never skips.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from pathlib import Path
from typing import Final

import pytest

from tests.cassettes import importer

__all__ = ["ENV_VAR", "converted_dir", "converted_part_2", "shared_source_dir"]

ENV_VAR: Final = "MODELWIRE_SHARED_CASSETTES"
MANIFESTS: Final = ("MANIFEST.md", "NATIVE-MANIFEST.md")


def shared_source_dir() -> Path:
    """The shared recordings folder, as their projects wrote them; fails loudly if absent."""
    source = importer.default_source_dir()
    missing = [name for name in MANIFESTS if not (source / name).is_file()]
    if missing:
        origin = f"from {ENV_VAR}" if os.environ.get(ENV_VAR) else f"default, {ENV_VAR} unset"
        pytest.fail(
            f"The shared provider recordings were not found: looked for {' and '.join(missing)}"
            f" in {source} ({origin}).\n"
            "They are not part of this repository. Put them at ../shared/cassettes next to"
            f" the repository, or point {ENV_VAR} at the folder that holds"
            f" {' and '.join(MANIFESTS)}:\n"
            f"    {ENV_VAR}=/path/to/shared/cassettes python -m pytest",
            pytrace=False,
        )
    return source


@functools.cache
def converted_dir() -> Path:
    """The shared recordings converted into vcrpy cassettes, in a temporary folder.

    Converted on the first call only; the folder is removed when the process exits.
    """
    source = shared_source_dir()
    folder = Path(tempfile.mkdtemp(prefix="modelwire-cassettes-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    report = importer.convert_all(source, folder)
    problems = [f"missing: {relpath}" for relpath in report.missing] + [
        f"failed: {relpath}: {reason}" for relpath, reason in report.failed
    ]
    if problems:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.fail(
            f"Converting the shared recordings of {source} failed:\n  " + "\n  ".join(problems),
            pytrace=False,
        )
    return folder


@functools.cache
def converted_part_2(folder: str) -> Path:
    """One folder of the recordings that ``MANIFEST-2.md`` lists (e.g. ``openai-responses``),
    converted into vcrpy cassettes in a temporary folder, once per process."""
    source = shared_source_dir()
    if not (source / "MANIFEST-2.md").is_file():
        pytest.fail(f"MANIFEST-2.md was not found in {source} ({ENV_VAR})", pytrace=False)
    entries = importer.read_manifest_2(source, folder)
    if not entries:
        pytest.fail(f"MANIFEST-2.md of {source} lists no file in {folder}/", pytrace=False)
    target = Path(tempfile.mkdtemp(prefix=f"modelwire-{folder}-"))
    atexit.register(shutil.rmtree, target, ignore_errors=True)
    projects = {"pydantic-ai": importer.SourceProject(*importer.PYDANTIC_AI_SOURCE)}
    for entry in entries:
        importer.convert_file(source, entry, target, projects)
    return target / folder
