"""Fixtures for every test folder: the provider recordings other projects made.

They live outside the repository (see ``tests/cassettes/README.md``); a test that needs them
asks for one of these fixtures, which fail it loudly when the shared folder is missing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

# tests.cassettes.converted is imported by the fixtures: its importer needs pyyaml, which
# the tests that use no recordings do not


@pytest.fixture(scope="session")
def shared_cassettes() -> Path:
    """The shared recordings folder, each file as the recording project wrote it."""
    from tests.cassettes.converted import shared_source_dir

    return shared_source_dir()


@pytest.fixture(scope="session")
def converted_cassettes() -> Path:
    """The shared recordings as vcrpy cassettes, converted once per session into a
    temporary folder (the one test modules parametrise from at collection time)."""
    from tests.cassettes.converted import converted_dir

    return converted_dir()
