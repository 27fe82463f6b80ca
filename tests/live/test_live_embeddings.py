"""Embeddings from a real llama.cpp server started with `--embedding true`.

For this model the server returns one vector per token of each input (a list of lists),
and modelwire hands that over as it is rather than inventing a pooled vector.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import modelwire
import pytest
from modelwire.local import LocalServer

from tests.live.support import live_server

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def embedding_server() -> Iterator[LocalServer]:
    yield from live_server(embedding=True)


def test_embed_one_input_per_token_vectors(embedding_server: LocalServer) -> None:
    with modelwire.LlamaCpp(base_url=embedding_server.base_url) as client:
        result = client.embed("The sea is calm.", model="smollm2")
    (per_token,) = result.embeddings
    assert isinstance(per_token, list) and len(per_token) > 1
    width = len(per_token[0])
    assert width > 100
    assert all(isinstance(vector, list) and len(vector) == width for vector in per_token)


def test_embed_a_batch_keeps_the_order(embedding_server: LocalServer) -> None:
    async def run() -> modelwire.EmbeddingResponse:
        async with modelwire.AsyncLMStudio(base_url=embedding_server.base_url) as client:
            return await client.embed(["one", "two words here"], model="smollm2")

    result = asyncio.run(run())
    assert len(result.embeddings) == 2
    # more tokens, more vectors: the second input is the longer one
    assert len(result.embeddings[1]) > len(result.embeddings[0])
