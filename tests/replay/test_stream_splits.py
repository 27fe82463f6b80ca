"""Any split of a real recorded stream into network reads yields exactly the same chunks."""

from __future__ import annotations

import itertools

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from modelwire._framing import make_decoder
from modelwire.dialects import get_dialect
from modelwire.providers import anthropic, ollama, openai
from modelwire.spec import ProviderSpec
from modelwire.types import StreamingChunk

from tests.cassettes.converted import converted_dir

# the shared recordings, converted for this run (read while the module is collected)
CASSETTES = converted_dir()


def recorded_body(relative: str) -> bytes:
    data = yaml.safe_load((CASSETTES / relative).read_text(encoding="utf-8"))
    body = data["interactions"][0]["response"]["body"]["string"]
    return body if isinstance(body, bytes) else body.encode()


STREAMS: list[tuple[ProviderSpec, bytes]] = [
    (
        openai.SPEC,
        recorded_body("openai/test_openai__test_run_stream_sync_streams_real_model.yaml"),
    ),
    (
        anthropic.SPEC,
        recorded_body(
            "anthropic/test_anthropic__test_anthropic_model_thinking_part_redacted_stream.yaml"
        ),
    ),
    (ollama.SPEC, recorded_body("ollama-native/langchaingo/TestClient_GenerateChat.yaml")),
]


def chunks_of(spec: ProviderSpec, reads: list[bytes]) -> list[StreamingChunk]:
    decoder = make_decoder(spec.stream_format)
    parser = get_dialect(spec.dialect).stream_parser(spec)
    out: list[StreamingChunk] = []
    for data in [*reads, None]:
        for event in decoder.feed(data) if data is not None else decoder.flush():
            chunk = parser.parse(event)
            if chunk is not None:
                out.append(chunk)
    assert parser.finished
    return out


@st.composite
def split_stream(draw: st.DrawFn) -> tuple[ProviderSpec, bytes, list[bytes]]:
    spec, body = draw(st.sampled_from(STREAMS))
    cuts = sorted(draw(st.sets(st.integers(1, len(body) - 1), max_size=40)))
    bounds = [0, *cuts, len(body)]
    return spec, body, [body[a:b] for a, b in itertools.pairwise(bounds)]


@settings(max_examples=150, deadline=None)
@given(case=split_stream())
def test_any_split_yields_the_same_chunks(case: tuple[ProviderSpec, bytes, list[bytes]]) -> None:
    spec, body, reads = case
    assert chunks_of(spec, reads) == chunks_of(spec, [body])


def test_byte_by_byte_equals_whole() -> None:
    for spec, body in STREAMS:
        whole = chunks_of(spec, [body])
        assert len(whole) > 3
        assert chunks_of(spec, [body[i : i + 1] for i in range(len(body))]) == whole
