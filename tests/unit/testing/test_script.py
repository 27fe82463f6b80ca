"""What a test scripts (`modelwire.testing._script`)."""

from __future__ import annotations

import pytest
from modelwire.testing import MockProvider, MockScriptError

from tests.unit.testing.support import HI


def test_an_empty_script_fails_the_test_loudly() -> None:
    mock = MockProvider()
    with pytest.raises(MockScriptError, match="script is empty"):
        mock.complete(messages=HI)
    assert len(mock.requests) == 1  # recorded all the same
