"""Tests for tests/cassettes/importer.py and the cassettes it produces.

Tests that read the original recordings need the shared source folder (env var
MODELWIRE_SHARED_CASSETTES, default ``<repo>/../shared/cassettes``) and fail, naming it,
when it does not exist. Tests of converted cassettes read the session's own conversion
(the ``converted_cassettes`` fixture); nothing converted is part of the repository. The
rest use synthetic data.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import vcr
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vcr.errors import CannotOverwriteExistingCassetteException

from tests.cassettes import importer
from tests.cassettes.importer import Interaction

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCE = importer.default_source_dir()

# the fixture fails the test, naming SOURCE, when the shared folder is missing
requires_source = pytest.mark.usefixtures("shared_cassettes")

CREDENTIAL_HEADERS = {"authorization", "proxy-authorization", "x-api-key", "api-key"}


def _yaml(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)


def _ndjson(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in body.split(b"\n") if line]


CONVERTED_MARKER = b"# Converted by tests/cassettes/importer.py"


def _converted_cassettes(root: Path) -> list[Path]:
    """The cassettes the importer wrote under ``root`` (other cassettes may live beside them)."""
    found = []
    for path in root.rglob("*.yaml"):
        with path.open("rb") as fh:
            if fh.read(len(CONVERTED_MARKER)) == CONVERTED_MARKER:
                found.append(path)
    return sorted(found)


# --------------------------------------------------------------------------------------
# One real source file per format
# --------------------------------------------------------------------------------------


@requires_source
def test_pydantic_ai_parsed_body_is_reserialized_as_compact_json() -> None:
    path = SOURCE / "openai" / "test_openai__test_openai_instructions.yaml"
    raw = _yaml(path)["interactions"][0]
    (ia,) = importer.load_vcrpy_yaml(path)

    assert ia.method == "POST"
    assert ia.uri == "https://api.openai.com/v1/chat/completions"
    assert json.loads(ia.request_body) == raw["request"]["parsed_body"]
    assert json.loads(ia.response_body) == raw["response"]["parsed_body"]
    # Compact: what json.dumps gives with no spaces, and for this request exactly the
    # length the SDK sent.
    assert (
        ia.request_body
        == json.dumps(
            raw["request"]["parsed_body"], separators=(",", ":"), ensure_ascii=False
        ).encode()
    )
    assert len(ia.request_body) == 170 == int(ia.request_header("content-length") or 0)
    assert ia.status_code == 200 and ia.reason == "OK"
    message = json.loads(ia.response_body)["choices"][0]["message"]
    assert message["content"] == "The capital of France is Paris."
    assert ia.response_header("openai-organization") == "pydantic-28gund"  # raw, pre-redaction


@requires_source
def test_pydantic_ai_streamed_body_is_taken_verbatim() -> None:
    path = SOURCE / "openai" / "test_dbos__test_dbos_agent_run_stream.yaml"
    raw = _yaml(path)["interactions"][0]["response"]["body"]["string"]
    (ia,) = importer.load_vcrpy_yaml(path)

    assert ia.response_body == raw.encode("utf-8")
    assert ia.response_body.startswith(b'data: {"id":"chatcmpl-')
    assert ia.response_body.endswith(b"data: [DONE]\n\n")
    assert json.loads(ia.request_body)["stream_options"] == {"include_usage": True}


@requires_source
def test_pydantic_ai_binary_download_stays_bytes() -> None:
    path = SOURCE / "openai" / "test_openai__test_document_url_input.yaml"
    pdf, chat = importer.load_vcrpy_yaml(path)
    assert pdf.method == "GET" and pdf.response_body.startswith(b"%PDF-1.4\n")
    assert chat.uri == "https://api.openai.com/v1/chat/completions"


@requires_source
def test_openllmetry_streaming_chat_defolds_into_50_ndjson_records() -> None:
    path = SOURCE / "ollama-native" / "openllmetry" / "test_ollama_streaming_chat_legacy.yaml"
    (ia,) = importer.load_vcrpy_yaml(path)

    assert ia.uri == "http://127.0.0.1:11434/api/chat"
    assert ia.response_header("content-type") == "application/x-ndjson"
    records = _ndjson(ia.response_body)
    assert len(records) == 50
    assert [r["done"] for r in records] == [False] * 49 + [True]
    assert records[-1]["done_reason"] == "stop"
    assert records[-1]["eval_count"] == 50
    text = "".join(r["message"]["content"] for r in records)
    assert text.startswith("Why did the OpenTelemetry agent go to therapy?\n\nBecause")
    assert "I know it's a bit of a stretch" in text  # YAML '' escape decoded
    assert ia.response_body.endswith(b"}\n")


@requires_source
def test_crewai_variant_uses_content_and_status_code() -> None:
    path = SOURCE / "ollama-native" / "crewai" / "test_agent_with_ollama_llama3.yaml"
    generate, show1, show2 = importer.load_vcrpy_yaml(path)

    assert [generate.uri, show1.uri, show2.uri] == [
        "http://localhost:11434/api/generate",
        "http://localhost:11434/api/show",
        "http://localhost:11434/api/show",
    ]
    assert generate.status_code == 200 and generate.reason == "OK"
    assert generate.request_header("content-type") is None
    assert (
        len(generate.response_body) == 683 == int(generate.response_header("Content-Length") or 0)
    )
    assert json.loads(generate.response_body)["response"].startswith("I'm an AI designed by Meta")
    assert json.loads(show1.response_body)["license"].startswith(
        "LLAMA 3.2 COMMUNITY LICENSE AGREEMENT"
    )


@requires_source
def test_ruby_vcr_binary_body_decodes_to_json_with_emoji() -> None:
    path = SOURCE / "lmstudio" / "ace" / "uses_system_instruction.yml"
    models, chat = importer.load_ruby_vcr_yaml(path)

    assert (models.method, models.uri) == ("GET", "http://localhost:1234/v1/models")
    assert (chat.method, chat.uri) == ("POST", "http://localhost:1234/v1/chat/completions")
    assert len(chat.response_body) == 601 == int(chat.response_header("content-length") or 0)
    content = json.loads(chat.response_body)["choices"][0]["message"]["content"]
    assert "\U0001f60a" in content
    assert b"\xf0\x9f\x98\x8a" in chat.response_body  # raw UTF-8 bytes, not an escape
    assert json.loads(chat.request_body)["max_tokens"] == -1
    assert {m["id"] for m in json.loads(models.response_body)["data"]} >= {
        "mistralai/devstral-small-2505"
    }


@requires_source
def test_ruby_vcr_literal_block_ndjson() -> None:
    path = (
        SOURCE
        / "ollama-native"
        / "langchainrb"
        / "Langchain_LLM_Ollama_chat_when_passing_a_block_returns_a_chat_completion.yml"
    )
    (ia,) = importer.load_ruby_vcr_yaml(path)
    assert ia.method == "POST"
    records = _ndjson(ia.response_body)
    assert len(records) == 51 and records[-1]["done"] is True
    assert ia.response_body.endswith(b"\n")  # `string: |` keeps the final newline


@requires_source
def test_httprr_chunked_stream_is_dechunked_into_json_lines() -> None:
    path = SOURCE / "ollama-native" / "langchaingo" / "TestClient_GenerateChat.httprr"
    (ia,) = importer.load_httprr(path)

    assert (ia.method, ia.uri) == ("POST", "http://localhost:11434/api/chat")
    assert ia.request_header("user-agent") == "langchaingo-httprr"  # the bare-LF header line
    assert "stream" not in json.loads(ia.request_body)
    lines = ia.response_body.split(b"\n")
    assert lines[-1] == b""  # NDJSON lines end in \n
    records = [json.loads(line) for line in lines[:-1]]  # every line parses: no chunk sizes
    assert len(records) == 51
    assert records[-1]["done"] is True and records[-1]["done_reason"] == "length"
    assert b"19b2" not in ia.response_body and b"\r\n" not in ia.response_body
    assert "\u2019" in ia.response_body.decode() and "\U0001f60a" in ia.response_body.decode()
    assert importer.sanitize(ia).response_header("transfer-encoding") is None


@requires_source
def test_httprr_multiple_exchanges_and_chunked_json() -> None:
    embeds = importer.load_httprr(
        SOURCE / "ollama-native" / "langchaingo" / "TestCreateEmbedding.httprr"
    )
    assert [ia.uri for ia in embeds] == ["http://localhost:11434/api/embed"] * 4
    assert [len(json.loads(ia.response_body)["embeddings"][0]) for ia in embeds] == [768] * 4

    pull, chat = importer.load_httprr(
        SOURCE / "ollama-native" / "langchaingo" / "TestWithPullModel.httprr"
    )
    assert pull.uri.endswith("/api/pull") and chat.uri.endswith("/api/chat")
    statuses = [r["status"] for r in _ndjson(pull.response_body)]
    assert statuses[0] == "pulling manifest" and statuses[-1] == "success"


@requires_source
def test_prism_bodies_get_a_reconstructed_request() -> None:
    folder = SOURCE / "ollama-native" / "prism"
    (stream,) = importer.load_prism_body(folder / "stream-with-tools-1.sse")
    assert (stream.method, stream.uri) == ("POST", "http://localhost:11434/api/chat")
    assert json.loads(stream.request_body)["stream"] is True
    assert json.loads(stream.request_body)["model"] == "qwen3:14b"
    assert stream.response_body == (folder / "stream-with-tools-1.sse").read_bytes()
    assert stream.response_header("content-type") == "application/x-ndjson"
    records = _ndjson(stream.response_body)
    assert len(records) == 3
    assert records[1]["message"]["tool_calls"][0]["function"]["index"] == 1

    (text,) = importer.load_prism_body(folder / "text-with-thinking-enabled-1.json")
    assert json.loads(text.request_body)["stream"] is False
    assert json.loads(text.response_body)["message"]["thinking"].startswith("User just says")

    (embed,) = importer.load_prism_body(folder / "embeddings-input-1.json")
    assert embed.uri == "http://localhost:11434/api/embed"
    assert len(json.loads(embed.response_body)["embeddings"][0]) == 1024


@requires_source
def test_req_llm_stream_concatenates_base64_chunks() -> None:
    path = SOURCE / "lmstudio" / "req_llm" / "qwen3_8_27b_mlx" / "streaming_tool.json"
    raw = json.loads(path.read_text())
    (ia,) = importer.load_req_llm_json(path)

    assert (ia.method, ia.uri) == ("POST", "http://127.0.0.1:1234/v1/chat/completions")
    assert json.loads(ia.request_body) == raw["request"]["canonical_json"]
    assert ia.response_body == b"".join(base64.b64decode(c["b64"]) for c in raw["chunks"])
    text = ia.response_body.decode()
    assert '"finish_reason":"tool_calls"' in text
    assert '"arguments":"{\\"city\\":\\"Paris\\"}"' in text
    assert "[DONE]" not in text  # never captured
    events = [e for e in text.split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events)
    assert json.loads(events[-1][6:])["choices"] == []  # usage-only chunk


@requires_source
def test_req_llm_non_streamed_body_matches_recorded_length() -> None:
    path = SOURCE / "lmstudio" / "req_llm" / "qwen3_8_27b_mlx" / "tool_call.json"
    raw = json.loads(path.read_text())
    (ia,) = importer.load_req_llm_json(path)
    assert json.loads(ia.response_body) == raw["response"]["body"]
    assert len(ia.response_body) == 918 == int(ia.response_header("content-length") or 0)
    assert ia.request_body == base64.b64decode(raw["request"]["body"]["b64"])


@requires_source
def test_httptest2_r_mock_gives_status_400_and_exact_body() -> None:
    path = (
        SOURCE
        / "lmstudio"
        / "rlmstudio"
        / "mismatch_live"
        / "not_found"
        / "localhost-1234"
        / "v1"
        / "chat"
        / "completions-a2774c-POST.R"
    )
    (ia,) = importer.load_httptest2_r(path)
    assert (ia.method, ia.uri) == ("POST", "http://localhost:1234/v1/chat/completions")
    assert ia.status_code == 400 and ia.reason == "Bad Request"
    assert len(ia.response_body) == 302 == int(ia.response_header("Content-Length") or 0)
    error = json.loads(ia.response_body)["error"]
    assert error["code"] == "model_not_found"
    assert 'Invalid model identifier "not-a-model"' in error["message"]
    assert ia.response_body.startswith(b'{\n    "error": {\n')


@requires_source
def test_httptest2_json_mock_url_from_path() -> None:
    path = (
        SOURCE / "lmstudio" / "rlmstudio" / "list_models" / "localhost-1234" / "api" / "v1"
    ) / "models.json"
    (ia,) = importer.load_httptest2_json(path)
    assert (ia.method, ia.uri, ia.status_code) == (
        "GET",
        "http://localhost:1234/api/v1/models",
        200,
    )
    assert ia.response_body == path.read_bytes()
    assert json.loads(ia.response_body)["models"][0]["key"] == "qwen/qwen3-4b-2507"


@requires_source
def test_detect_format_covers_every_manifest_entry() -> None:
    entries, projects = importer.read_manifests(SOURCE)
    assert len(entries) == 156
    formats = {importer.detect_format(SOURCE / e.relpath) for e in entries}
    assert formats == set(importer.FORMATS)
    assert {e.provider for e in entries} == {
        "openai",
        "anthropic",
        "openrouter",
        "groq",
        "ollama",
        "ollama-native",
        "lmstudio",
        *importer.PART_2_FOLDERS,
    }
    assert {e.source for e in entries} <= set(projects)


# --------------------------------------------------------------------------------------
# Replaying the converted cassettes with vcrpy + httpx
# --------------------------------------------------------------------------------------


def test_replay_openai_stream_is_byte_identical_to_source(converted_cassettes: Path) -> None:
    name = "test_dbos__test_dbos_agent_run_stream.yaml"
    (source,) = importer.load_vcrpy_yaml(SOURCE / "openai" / name)
    with (
        vcr.VCR(record_mode="none").use_cassette(str(converted_cassettes / "openai" / name)),
        httpx.Client() as client,
        client.stream(
            "POST",
            "https://api.openai.com/v1/chat/completions",
            json={"model": "gpt-4o", "stream": True, "messages": []},
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        body = b"".join(response.iter_bytes())
    assert body == source.response_body
    data = [line[6:] for line in body.decode().split("\n") if line.startswith("data: ")]
    assert data[-1] == "[DONE]"
    assert json.loads(data[-2])["usage"]["total_tokens"] == 22


def test_replay_ollama_ndjson_is_byte_identical_to_source(converted_cassettes: Path) -> None:
    rel = Path("ollama-native") / "openllmetry" / "test_ollama_streaming_chat_legacy.yaml"
    (source,) = importer.load_vcrpy_yaml(SOURCE / rel)
    with vcr.VCR(record_mode="none").use_cassette(str(converted_cassettes / rel)):
        response = httpx.post(
            "http://127.0.0.1:11434/api/chat",
            json={"model": "llama3", "messages": [], "stream": True},
        )
    assert response.content == source.response_body
    assert response.headers["content-length"] == str(len(source.response_body))
    assert "transfer-encoding" not in response.headers
    records = [json.loads(line) for line in response.iter_lines() if line]
    assert len(records) == 50 and records[-1]["done"] is True


def test_replay_anthropic_needs_the_beta_query(converted_cassettes: Path) -> None:
    name = "test_anthropic__test_anthropic_opus_47_features.yaml"
    path = str(converted_cassettes / "anthropic" / name)
    with (
        vcr.VCR(record_mode="none").use_cassette(path),
        pytest.raises(CannotOverwriteExistingCassetteException),
    ):
        httpx.post("https://api.anthropic.com/v1/messages", json={})
    with vcr.VCR(record_mode="none").use_cassette(path):
        ok = httpx.post("https://api.anthropic.com/v1/messages?beta=true", json={})
    assert ok.status_code == 200 and json.loads(ok.content)["type"] == "message"
    loose = vcr.VCR(record_mode="none", match_on=("method", "scheme", "host", "port", "path"))
    with loose.use_cassette(path):
        assert httpx.post("https://api.anthropic.com/v1/messages", json={}).status_code == 200


def test_every_converted_cassette_replays_its_source(converted_cassettes: Path) -> None:
    entries, _ = importer.read_manifests(SOURCE)
    replayed = 0
    for entry in entries:
        source = importer.load_source(SOURCE / entry.relpath)
        cassette = converted_cassettes / importer.output_relpath(entry.relpath)
        with vcr.VCR(record_mode="none").use_cassette(str(cassette)) as played:
            for ia in source:
                response = httpx.request(ia.method, ia.uri, content=ia.request_body)
                assert response.status_code == ia.status_code, cassette
                assert response.content == ia.response_body, cassette
                assert int(response.headers["content-length"]) == len(ia.response_body)
                replayed += 1
            assert played.all_played, cassette
    assert replayed == 229


# --------------------------------------------------------------------------------------
# The session's conversion (never committed)
# --------------------------------------------------------------------------------------


def test_converted_cassettes_exist_per_provider(converted_cassettes: Path) -> None:
    counts: dict[str, int] = {}
    for path in _converted_cassettes(converted_cassettes):
        provider = path.relative_to(converted_cassettes).parts[0]
        counts[provider] = counts.get(provider, 0) + 1
    assert counts == {
        "anthropic": 38,
        "cerebras": 3,
        "groq": 11,
        "huggingface": 5,
        "lmstudio": 8,
        "mistral": 6,
        "ollama": 3,
        "ollama-native": 18,
        "openai": 44,
        "openrouter": 15,
        "zai": 5,
    }
    assert (converted_cassettes / "ATTRIBUTION.md").is_file()


def test_converted_cassettes_hold_no_credentials(converted_cassettes: Path) -> None:
    checked = 0
    for path in _converted_cassettes(converted_cassettes):
        data = _yaml(path)
        assert data["version"] == 1
        for item in data["interactions"]:
            for side in ("request", "response"):
                for name, values in item[side]["headers"].items():
                    lower = name.lower()
                    assert lower not in ("cookie", "set-cookie"), path
                    if lower in CREDENTIAL_HEADERS | importer.REDACTED_HEADERS:
                        assert values == ["REDACTED"] * len(values), (path, name)
                        checked += 1
            response_headers = {k.lower(): v for k, v in item["response"]["headers"].items()}
            assert "transfer-encoding" not in response_headers
            assert "content-encoding" not in response_headers
            body = item["response"]["body"]["string"]
            size = len(body if isinstance(body, bytes) else body.encode("utf-8"))
            assert response_headers["content-length"] == [str(size)], path
        text = path.read_text(encoding="utf-8")
        assert "Bearer " not in text and "sk-ant-" not in text, path
    assert checked > 0  # openai-organization / openai-project values were redacted


def _files(root: Path) -> list[Path]:
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


def test_rerunning_the_conversion_is_byte_identical(
    converted_cassettes: Path, tmp_path: Path
) -> None:
    # A second conversion, by the script form the noxfile calls, equals the session's one.
    result = subprocess.run(
        [sys.executable, "tests/cassettes/importer.py", str(SOURCE), str(tmp_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    produced = _files(tmp_path)
    assert produced == _files(converted_cassettes)
    assert len(_converted_cassettes(tmp_path)) == 156
    for rel in produced:
        assert (tmp_path / rel).read_bytes() == (converted_cassettes / rel).read_bytes(), rel


def test_no_converted_cassette_is_in_the_repository() -> None:
    """Recordings of other projects stay in the shared folder, converted or not."""
    here = REPO_ROOT / "tests" / "cassettes"
    assert _converted_cassettes(here) == []
    assert list(here.rglob("ATTRIBUTION.md")) == []


# --------------------------------------------------------------------------------------
# Synthetic inputs (no source needed)
# --------------------------------------------------------------------------------------


def _interaction(**overrides: Any) -> Interaction:
    fields: dict[str, Any] = {
        "method": "post",
        "uri": "https://api.example.com/v1/chat/completions?x=1",
        "request_headers": {"Authorization": ["Bearer sk-secret"], "Content-Length": ["99"]},
        "request_body": b'{"a":1}',
        "status_code": 200,
        "reason": "",
        "response_headers": {
            "Content-Type": ["text/event-stream"],
            "Transfer-Encoding": ["chunked"],
            "Content-Encoding": ["gzip"],
            "Set-Cookie": ["session=abc", "other=def"],
            "x-api-key": ["k"],
            "anthropic-organization-id": ["org-1"],
        },
        "response_body": b"data: 1\n\ndata: [DONE]\n\n",
    }
    fields.update(overrides)
    return Interaction(**fields)


def test_sanitize_redacts_drops_and_fixes_lengths() -> None:
    clean = importer.sanitize(_interaction())
    assert clean.method == "POST" and clean.reason == "OK"
    assert clean.request_headers == {"Authorization": ["REDACTED"], "Content-Length": ["7"]}
    assert clean.response_headers == {
        "Content-Type": ["text/event-stream"],
        "x-api-key": ["REDACTED"],
        "anthropic-organization-id": ["REDACTED"],
        "Content-Length": ["23"],
    }
    assert clean.response_body == b"data: 1\n\ndata: [DONE]\n\n"


def test_written_cassette_replays_with_httpx(tmp_path: Path) -> None:
    pdf = b"%PDF-1.4\n%\xe4\xfc\xf6\xdf\n"
    path = importer.write_vcr_cassette(
        [
            _interaction(),
            _interaction(method="GET", uri="https://files.example.com/a.pdf", response_body=pdf),
        ],
        tmp_path / "x.yaml",
        header_comment="line one\nline two",
    )
    text = path.read_text()
    assert text.startswith("# line one\n# line two\ninteractions:\n")
    assert "sk-secret" not in text and "session=abc" not in text
    with vcr.VCR(record_mode="none").use_cassette(str(path)):
        first = httpx.post("https://api.example.com/v1/chat/completions?x=1", content=b"{}")
        second = httpx.get("https://files.example.com/a.pdf")
    assert first.content == b"data: 1\n\ndata: [DONE]\n\n"
    assert first.reason_phrase == "OK"
    assert second.content == pdf


_body_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200
) | st.sampled_from(
    [
        "data: x\r\n\r\n",
        "trailing space \n  indented\n",
        "\n\nleading newlines",
        "line\u2028sep\x85nel\ufeffbom",
        "tab\tand \x00 nul",
        "ends without newline\nsecond",
    ]
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=_body_text, raw=st.binary(max_size=64))
def test_yaml_round_trip_preserves_any_body(text: str, raw: bytes) -> None:
    from vcr.serialize import deserialize
    from vcr.serializers import yamlserializer

    interactions = [
        _interaction(request_body=raw, response_body=text.encode("utf-8")),
        _interaction(request_body=text.encode("utf-8"), response_body=raw),
    ]
    rendered = importer.render_vcr_cassette(interactions)
    requests, responses = deserialize(rendered, yamlserializer)
    assert [r.body for r in requests] == [raw, text.encode("utf-8")]
    assert [r["body"]["string"] for r in responses] == [text.encode("utf-8"), raw]
    assert importer.render_vcr_cassette(interactions) == rendered


def test_dechunk_handles_extensions_trailers_and_bare_lf() -> None:
    wire = b"5;ext=1\r\nhello\r\n7\r\n world\n\r\n3\nabc\n0\r\nX-Trailer: y\r\n\r\n"
    assert importer.dechunk(wire) == b"hello world\nabc"
    with pytest.raises(ValueError, match="overruns"):
        importer.dechunk(b"10\r\nshort\r\n0\r\n\r\n")
    with pytest.raises(ValueError, match="bad chunk size"):
        importer.dechunk(b"zz\r\n")


def test_httprr_parser_on_a_synthetic_trace(tmp_path: Path) -> None:
    request = (
        b"POST http://localhost:11434/api/chat HTTP/1.1\r\nHost: localhost:11434\r\n"
        b"User-Agent: langchaingo-httprr\nContent-Length: 2\r\n\r\n{}"
    )
    response = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: application/x-ndjson\r\n\r\n"
        b'b\r\n{"done":tru\r\n3\r\ne}\n\r\n0\r\n\r\n'
    )
    trace = tmp_path / "t.httprr"
    trace.write_bytes(
        b"httprr trace v1\n" + f"{len(request)} {len(response)}\n".encode() + request + response
    )
    (ia,) = importer.load_httprr(trace)
    assert ia.request_body == b"{}" and ia.request_header("User-Agent") == "langchaingo-httprr"
    assert ia.response_body == b'{"done":true}\n'
    assert importer.detect_format(trace) == "httprr"


def test_r_parser_and_httptest2_path(tmp_path: Path) -> None:
    value = importer.parse_r_expression(
        "structure(list(status_code = 201L, x = -1.5e-3, `a b` = c(1, 2), "
        'body = charToRaw("q\\"\\\\\\n\\u00e9")), class = "httr2_response")'
    )
    assert isinstance(value, importer.RCall) and value.name == "structure"
    listed = value.positional()[0]
    assert isinstance(listed, importer.RCall)
    kwargs = listed.kwargs()
    assert kwargs["status_code"] == 201 and kwargs["x"] == -0.0015
    body = kwargs["body"]
    assert isinstance(body, importer.RCall) and body.positional() == ['q"\\\n\u00e9']

    mock = tmp_path / "case" / "api.example.com-8443" / "v2" / "items-1a2b3c-PUT.R"
    mock.parent.mkdir(parents=True)
    mock.write_text(
        'structure(list(method = "PUT", url = "https://api.example.com:8443/v2/items", '
        'status_code = 204L, headers = structure(list(), class = "httr2_headers"), '
        'body = raw(0)), class = "httr2_response")'
    )
    (ia,) = importer.load_httptest2_r(mock)
    assert ia.response_body == b""
    mock.write_text(mock.read_text().replace("raw(0)", "rawConnection(x)"))
    with pytest.raises(ValueError, match="unsupported body"):
        importer.load_httptest2_r(mock)
    mock.write_text(mock.read_text().replace("rawConnection(x)", 'charToRaw("")'))
    (ia,) = importer.load_httptest2_r(mock)
    assert (ia.method, ia.uri, ia.status_code) == (
        "PUT",
        "https://api.example.com:8443/v2/items",
        204,
    )
    assert ia.response_body == b""


def test_output_relpath_keeps_names() -> None:
    assert importer.output_relpath("lmstudio/ace/x.yml") == "lmstudio/ace/x.yaml"
    assert importer.output_relpath("openai/a[b].yaml") == "openai/a[b].yaml"
    assert importer.output_relpath("ollama-native/prism/s-1.sse") == "ollama-native/prism/s-1.yaml"
    assert importer.output_relpath("x/y/c-a2774c-POST.R") == "x/y/c-a2774c-POST.yaml"
