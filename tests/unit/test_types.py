"""The unified types (`modelwire.types`): requests, messages, parts and stream chunks."""

from __future__ import annotations

import modelwire
import pytest
from modelwire import ImagePart, StreamingChunk


def test_image_part_needs_one_source() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        ImagePart()


def test_the_unified_fields_are_the_request_model_fields() -> None:
    # every signature derives from RequestFields; it names exactly the request's fields
    assert set(modelwire.RequestFields.__annotations__) == set(
        modelwire.CompletionRequest.model_fields
    )


def test_text_chunk_is_the_keyword_chunk() -> None:
    from modelwire.types import text_chunk

    assert text_chunk("hi", "m", "id-1", {"raw": 1}) == StreamingChunk(
        content="hi", model="m", id="id-1", raw={"raw": 1}
    )
