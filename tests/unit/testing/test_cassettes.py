"""`replay_cassette` (`modelwire.testing._cassettes`): a vcrpy cassette replayed into a
real client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import modelwire
import pytest
from modelwire.testing import replay_cassette

from tests.unit.testing.support import HI


@pytest.fixture
def cassette(converted_cassettes: Path) -> Path:
    """A recorded OpenAI cassette: a streamed tool call, then the streamed answer."""
    return converted_cassettes / "openai/test_openai__test_run_stream_sync_streams_real_model.yaml"


def test_replay_cassette_sync_by_name(cassette: Path) -> None:
    with replay_cassette(cassette, "openai/gpt-4o-mini") as client:
        assert isinstance(client, modelwire.OpenAI)
        with client.stream_completion(messages=HI) as stream:
            first = stream.accumulate()
        with client.stream_completion(messages=HI) as stream:
            chunks = [c.content for c in stream if c.content]
            second = stream.accumulate()
    [call] = first.tool_calls
    assert (call.name, call.arguments) == ("get_capital", {"country": "UK"})
    assert first.finish_reason == "tool_calls"
    assert chunks[:3] == ["The", " capital", " of"]
    assert second.content == "The capital of the UK is London."
    assert second.usage is not None and second.usage.input_tokens == 78


async def test_replay_cassette_async_by_class(cassette: Path) -> None:
    async with replay_cassette(cassette, modelwire.AsyncOpenAI) as client:
        stream = await client.stream_completion(messages=HI)
        assert (await stream.accumulate()).tool_calls[0].name == "get_capital"
        stream = await client.stream_completion(messages=HI)
        assert (await stream.accumulate()).content.endswith("London.")


def test_replay_cassette_by_class_name_and_unmatched_request(cassette: Path) -> None:
    from vcr.errors import CannotOverwriteExistingCassetteException

    with replay_cassette(str(cassette), "AsyncOpenAI") as client:
        assert isinstance(client, modelwire.AsyncOpenAI)
    with replay_cassette(cassette, modelwire.OpenAI) as sync_client:
        sync_client.stream_completion(messages=HI).close()
        sync_client.stream_completion(messages=HI).close()
        with pytest.raises(CannotOverwriteExistingCassetteException):
            sync_client.stream_completion(messages=HI)  # the cassette holds two answers


def test_replay_cassette_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import modelwire.testing._cassettes as cassettes

    def missing(name: str) -> Any:
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(cassettes, "import_module", missing)
    with pytest.raises(ImportError, match="pip install vcrpy"):
        replay_cassette(tmp_path / "any.yaml", "openai")  # before the file is even looked at


def test_replay_cassette_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError), replay_cassette(tmp_path / "none.yaml", "openai"):
        pass
