"""Convert third-party recordings of provider HTTP traffic into our own vcrpy cassettes.

The recordings under ``shared/cassettes`` (described by its ``MANIFEST.md``,
``NATIVE-MANIFEST.md`` and, for the folders in ``PART_2_FOLDERS``, ``MANIFEST-2.md``) come
from other projects' test suites, in seven formats:

* vcrpy YAML as written by pydantic-ai (JSON bodies stored parsed under ``parsed_body``),
* plain vcrpy YAML (openllmetry, llm-lmstudio) and its older httpx variant (crewai:
  ``content`` / ``status_code`` / ``http_version`` instead of ``body`` / ``status``),
* Ruby VCR YAML (langchainrb, ace: ``http_interactions``, ``!binary`` base64 bodies),
* httprr traces (langchaingo: raw HTTP/1.1 bytes, chunked transfer encoding on the wire),
* bare response bodies (prism: ``.json`` = one JSON body, ``.sse`` = an Ollama NDJSON stream),
* req_llm JSON fixtures (base64 request body, base64 SSE chunks for streams),
* httptest2 mocks (rlmstudio: ``.json`` body files and ``.R`` ``httr2_response`` sources).

Every loader returns a list of :class:`Interaction` (one HTTP exchange, bodies as the exact
bytes a client would receive after transfer decoding), and :func:`write_vcr_cassette`
writes them as a standard vcrpy cassette that ``vcr.VCR().use_cassette(path)`` replays
with httpx. Writing redacts credentials and makes framing headers consistent with the
stored, decoded bodies.

Command line (converts every file listed in the manifests)::

    python -m tests.cassettes.importer [SRC_DIR [DEST_DIR]]
    python tests/cassettes/importer.py ../shared/cassettes /tmp/converted

SRC_DIR defaults to :func:`default_source_dir`, DEST_DIR to a new temporary folder. The
converted cassettes are never committed: the tests convert into a temporary folder of their
own (``tests/cassettes/converted.py``). Output is deterministic: running it twice gives
byte-identical files.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any, Final, Literal, TypeAlias, cast, get_args
from urllib.parse import urlsplit

import yaml

__all__ = [
    "FORMATS",
    "ConversionReport",
    "Interaction",
    "ManifestEntry",
    "REDACTED_HEADERS",
    "RCall",
    "compact_json",
    "convert_all",
    "convert_file",
    "dechunk",
    "default_source_dir",
    "detect_format",
    "load_httprr",
    "load_httptest2_json",
    "load_httptest2_r",
    "load_prism_body",
    "load_req_llm_json",
    "load_ruby_vcr_yaml",
    "load_source",
    "load_vcrpy_yaml",
    "main",
    "output_relpath",
    "parse_r_expression",
    "read_manifest_2",
    "read_manifests",
    "render_vcr_cassette",
    "sanitize",
    "write_vcr_cassette",
]

Headers: TypeAlias = dict[str, list[str]]

FormatName = Literal[
    "vcrpy",
    "ruby-vcr",
    "httprr",
    "prism",
    "req_llm",
    "httptest2-json",
    "httptest2-r",
]

FORMATS: Final[tuple[FormatName, ...]] = get_args(FormatName)

REDACTED: Final = "REDACTED"
# Header names whose value is replaced by REDACTED (credentials and account identifiers).
REDACTED_HEADERS: Final = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "openai-organization",
        "openai-project",
        "anthropic-organization-id",
    }
)
# Header names dropped entirely.
DROPPED_HEADERS: Final = frozenset({"cookie", "set-cookie"})
# Response framing headers dropped because bodies are stored decoded.
DROPPED_RESPONSE_HEADERS: Final = frozenset({"content-encoding", "transfer-encoding"})

_REPO_ROOT: Final = Path(__file__).resolve().parents[2]

PYDANTIC_AI_SOURCE: Final = (
    "pydantic-ai",
    "github.com/pydantic/pydantic-ai",
    "4fda38988f2939fa6ea9cdefcf120693e10ef491",
    "MIT (Copyright (c) Pydantic Services Inc.)",
)


# --------------------------------------------------------------------------------------
# The normalized interaction
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Interaction:
    """One HTTP exchange. Bodies are the bytes after transfer decoding (no chunk framing)."""

    method: str
    uri: str
    request_headers: Headers
    request_body: bytes
    status_code: int
    reason: str
    response_headers: Headers
    response_body: bytes

    def response_header(self, name: str) -> str | None:
        """First value of a response header, looked up case-insensitively."""
        return _header_value(self.response_headers, name)

    def request_header(self, name: str) -> str | None:
        """First value of a request header, looked up case-insensitively."""
        return _header_value(self.request_headers, name)


def _header_value(headers: Mapping[str, Sequence[str]], name: str) -> str | None:
    wanted = name.lower()
    for key, values in headers.items():
        if key.lower() == wanted and values:
            return values[0]
    return None


def _reason_for(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _is_http_uri(uri: str) -> bool:
    return urlsplit(uri).scheme in ("http", "https")


def _norm_headers(raw: object) -> Headers:
    """Headers from any source layout as ``{name: [value, ...]}`` (names keep their case)."""
    out: Headers = {}
    if raw is None:
        return out
    if not isinstance(raw, Mapping):
        raise ValueError(f"headers must be a mapping, got {type(raw).__name__}")
    for name, value in raw.items():
        values: list[object]
        if value is None:
            values = []
        elif isinstance(value, (list, tuple)):
            values = list(value)
        else:
            values = [value]
        out.setdefault(str(name), []).extend(_scalar_text(v) for v in values)
    return out


def _scalar_text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _to_bytes(value: object, *, encoding: str = "utf-8") -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode(encoding)
    raise ValueError(f"body must be text or bytes, got {type(value).__name__}")


def compact_json(value: object) -> bytes:
    """``value`` as compact JSON (no spaces, non-ASCII kept as UTF-8)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# --------------------------------------------------------------------------------------
# YAML reading
# --------------------------------------------------------------------------------------

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _SourceLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loader that also understands Ruby VCR's ``!binary`` tag (base64 raw bytes)."""


def _construct_ruby_binary(loader: yaml.SafeLoader, node: yaml.Node) -> bytes:
    if not isinstance(node, yaml.ScalarNode):
        raise yaml.constructor.ConstructorError(
            None, None, "!binary must be a scalar", node.start_mark
        )
    text = str(loader.construct_scalar(node))
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except binascii.Error as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"invalid base64 in !binary: {exc}", node.start_mark
        ) from exc


_SourceLoader.add_constructor("!binary", _construct_ruby_binary)


def _load_yaml(path: Path) -> object:
    with path.open("rb") as fh:
        return yaml.load(fh, Loader=_SourceLoader)


def _as_mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} must be a mapping, got {type(value).__name__}")
    return cast(Mapping[str, Any], value)


def _note(skipped: list[str] | None, message: str) -> None:
    if skipped is not None:
        skipped.append(message)


# --------------------------------------------------------------------------------------
# VCR-style YAML (formats 1 and 2)
# --------------------------------------------------------------------------------------


def _load_vcr_yaml(
    path: Path | str,
    list_key: str,
    kind: str,
    skipped: list[str] | None,
    request_body: Callable[[Mapping[str, Any]], bytes],
    response_parts: Callable[[Mapping[str, Any]], tuple[int, str, bytes]],
) -> list[Interaction]:
    """The HTTP exchanges of a VCR-style YAML cassette (vcrpy's or Ruby VCR's).

    Both keep a list (under ``list_key``) of ``request`` / ``response`` mappings with the
    same method, URI and header fields; they differ only in how bodies and the status are
    stored, which ``request_body`` and ``response_parts`` (status, reason, body) read.
    Entries that are not an HTTP request/response pair are noted in ``skipped``.
    """
    data = _as_mapping(_load_yaml(Path(path)), "cassette")
    raw_interactions = data.get(list_key)
    if not isinstance(raw_interactions, list):
        raise ValueError(f"{path}: no {list_key!r} list (not a {kind} cassette)")
    out: list[Interaction] = []
    for index, item in enumerate(raw_interactions):
        if not isinstance(item, Mapping) or "request" not in item or "response" not in item:
            _note(skipped, f"{path}: interaction {index} is not a request/response pair")
            continue
        request = _as_mapping(item["request"], "request")
        response = _as_mapping(item["response"], "response")
        uri = str(request.get("uri", ""))
        if not _is_http_uri(uri):
            _note(skipped, f"{path}: interaction {index} is not HTTP ({uri!r})")
            continue
        status, reason, body = response_parts(response)
        out.append(
            Interaction(
                method=str(request["method"]).upper(),
                uri=uri,
                request_headers=_norm_headers(request.get("headers")),
                request_body=request_body(request),
                status_code=status,
                reason=reason,
                response_headers=_norm_headers(response.get("headers")),
                response_body=body,
            )
        )
    return out


def _vcr_status(response: Mapping[str, Any]) -> tuple[int, str]:
    """(code, reason) from a VCR ``status: {code, message}`` mapping."""
    status_obj = _as_mapping(response.get("status"), "response.status")
    status = int(status_obj["code"])
    return status, str(status_obj.get("message") or _reason_for(status))


# --------------------------------------------------------------------------------------
# Format 1: vcrpy YAML (pydantic-ai parsed_body, plain vcrpy, crewai httpx variant)
# --------------------------------------------------------------------------------------


def _vcrpy_request_body(request: Mapping[str, Any]) -> bytes:
    if "parsed_body" in request:
        return compact_json(request["parsed_body"])
    body = request.get("body")
    if isinstance(body, Mapping):  # some recorders nest {"string": ...}
        body = body.get("string")
    return _to_bytes(body)


def _vcrpy_response(response: Mapping[str, Any]) -> tuple[int, str, bytes]:
    if "status_code" in response:  # crewai / old vcrpy httpx stub layout
        status = int(response["status_code"])
        return status, _reason_for(status), _to_bytes(response.get("content"))
    status, reason = _vcr_status(response)
    if "parsed_body" in response:  # pydantic-ai stores JSON bodies parsed
        body = compact_json(response["parsed_body"])
    else:
        body_obj = response.get("body")
        if isinstance(body_obj, Mapping):
            body_obj = body_obj.get("string")
        body = _to_bytes(body_obj)
    return status, reason, body


def load_vcrpy_yaml(path: Path | str, skipped: list[str] | None = None) -> list[Interaction]:
    """Load a vcrpy cassette: pydantic-ai's ``parsed_body`` layout, plain, or crewai's.

    ``parsed_body`` (request or response) is serialized back to compact JSON bytes; every
    other body is taken byte-exact from the YAML string (streams included).
    """
    return _load_vcr_yaml(
        path, "interactions", "vcrpy", skipped, _vcrpy_request_body, _vcrpy_response
    )


# --------------------------------------------------------------------------------------
# Format 2: Ruby VCR YAML
# --------------------------------------------------------------------------------------

_RUBY_TEXT_ENCODINGS: Final = {"utf-8", "us-ascii", "ascii-8bit", "binary", ""}


def _ruby_body(body: object) -> bytes:
    if body is None:
        return b""
    if not isinstance(body, Mapping):
        return _to_bytes(body)
    value = body.get("string")
    if isinstance(value, bytes):  # !binary: raw bytes already
        return value
    encoding = str(body.get("encoding") or "").lower()
    codec = "utf-8" if encoding in _RUBY_TEXT_ENCODINGS else encoding
    return _to_bytes(value, encoding=codec)


def _ruby_request_body(request: Mapping[str, Any]) -> bytes:
    return _ruby_body(request.get("body"))


def _ruby_response(response: Mapping[str, Any]) -> tuple[int, str, bytes]:
    status, reason = _vcr_status(response)
    return status, reason, _ruby_body(response.get("body"))


def load_ruby_vcr_yaml(path: Path | str, skipped: list[str] | None = None) -> list[Interaction]:
    """Load a Ruby VCR cassette (``http_interactions``); ``!binary`` bodies are base64-decoded."""
    return _load_vcr_yaml(
        path, "http_interactions", "Ruby VCR", skipped, _ruby_request_body, _ruby_response
    )


# --------------------------------------------------------------------------------------
# Format 3: httprr (raw HTTP/1.1 with chunked transfer encoding)
# --------------------------------------------------------------------------------------

_HTTPRR_MAGIC: Final = b"httprr trace v1\n"
_REQUEST_LINE: Final = re.compile(rb"^([A-Z]+) (\S+) HTTP/\d(?:\.\d)?$")
_STATUS_LINE: Final = re.compile(rb"^HTTP/\d(?:\.\d)? (\d{3})(?: (.*))?$")


def dechunk(data: bytes) -> bytes:
    """Decode an HTTP/1.1 ``Transfer-Encoding: chunked`` body.

    Chunk-size lines may carry extensions (``;name=value``) and end in CRLF or a bare LF;
    trailers after the final zero-size chunk are ignored.
    """
    out = bytearray()
    pos = 0
    while True:
        eol = data.find(b"\n", pos)
        if eol < 0:
            raise ValueError(f"chunked body: missing chunk-size line at offset {pos}")
        size_text = data[pos:eol].rstrip(b"\r").split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError as exc:
            raise ValueError(f"chunked body: bad chunk size {size_text!r} at offset {pos}") from exc
        pos = eol + 1
        if size == 0:
            return bytes(out)
        end = pos + size
        if end > len(data):
            raise ValueError(f"chunked body: chunk of {size} bytes overruns the data")
        out += data[pos:end]
        pos = end
        if data.startswith(b"\r\n", pos):
            pos += 2
        elif data.startswith(b"\n", pos):
            pos += 1
        else:
            raise ValueError(f"chunked body: chunk data not followed by CRLF at offset {pos}")


def _split_head(message: bytes) -> tuple[list[bytes], bytes]:
    """Split a raw HTTP message into header lines (CR stripped) and the body bytes.

    Lines may end in CRLF or bare LF (httprr rewrites the User-Agent line with a bare LF).
    """
    lines: list[bytes] = []
    pos = 0
    while True:
        eol = message.find(b"\n", pos)
        if eol < 0:
            raise ValueError("HTTP message without an empty line after the headers")
        line = message[pos:eol].rstrip(b"\r")
        pos = eol + 1
        if not line:
            return lines, message[pos:]
        lines.append(line)


def _parse_header_lines(lines: Iterable[bytes]) -> Headers:
    headers: Headers = {}
    for line in lines:
        name, sep, value = line.partition(b":")
        if not sep:
            raise ValueError(f"malformed header line {line!r}")
        headers.setdefault(name.decode("latin-1").strip(), []).append(
            value.strip().decode("latin-1")
        )
    return headers


def _parse_raw_exchange(raw_request: bytes, raw_response: bytes) -> Interaction | None:
    req_lines, req_body = _split_head(raw_request)
    match = _REQUEST_LINE.match(req_lines[0]) if req_lines else None
    if match is None:
        return None
    method, target = match.group(1).decode("ascii"), match.group(2).decode("latin-1")
    req_headers = _parse_header_lines(req_lines[1:])
    if not _is_http_uri(target):  # origin-form target: rebuild the absolute URL from Host
        host = _header_value(req_headers, "host")
        if host is None or not target.startswith("/"):
            return None
        target = f"http://{host}{target}"
    declared = _header_value(req_headers, "content-length")
    if declared is not None and int(declared) != len(req_body):
        raise ValueError(f"request body is {len(req_body)} bytes, Content-Length says {declared}")

    resp_lines, resp_body = _split_head(raw_response)
    status_match = _STATUS_LINE.match(resp_lines[0]) if resp_lines else None
    if status_match is None:
        return None
    status = int(status_match.group(1))
    reason = (status_match.group(2) or b"").decode("latin-1") or _reason_for(status)
    resp_headers = _parse_header_lines(resp_lines[1:])
    transfer = (_header_value(resp_headers, "transfer-encoding") or "").lower()
    if "chunked" in transfer:
        resp_body = dechunk(resp_body)
    return Interaction(
        method=method,
        uri=target,
        request_headers=req_headers,
        request_body=req_body,
        status_code=status,
        reason=reason,
        response_headers=resp_headers,
        response_body=resp_body,
    )


def load_httprr(path: Path | str, skipped: list[str] | None = None) -> list[Interaction]:
    """Load an httprr trace; chunked response bodies are de-chunked."""
    data = Path(path).read_bytes()
    if not data.startswith(_HTTPRR_MAGIC):
        raise ValueError(f"{path}: not an httprr trace (missing {_HTTPRR_MAGIC!r})")
    pos = len(_HTTPRR_MAGIC)
    out: list[Interaction] = []
    index = 0
    while pos < len(data):
        eol = data.find(b"\n", pos)
        if eol < 0:
            raise ValueError(f"{path}: truncated record header at offset {pos}")
        sizes = data[pos:eol].split()
        if len(sizes) != 2:
            raise ValueError(f"{path}: bad record header {data[pos:eol]!r}")
        req_len, resp_len = int(sizes[0]), int(sizes[1])
        pos = eol + 1
        raw_request = data[pos : pos + req_len]
        pos += req_len
        raw_response = data[pos : pos + resp_len]
        pos += resp_len
        if len(raw_request) != req_len or len(raw_response) != resp_len:
            raise ValueError(f"{path}: record {index} is truncated")
        interaction = _parse_raw_exchange(raw_request, raw_response)
        if interaction is None:
            _note(skipped, f"{path}: record {index} is not an HTTP exchange")
        else:
            out.append(interaction)
        index += 1
    return out


# --------------------------------------------------------------------------------------
# Format 4: prism response-body fixtures (request reconstructed)
# --------------------------------------------------------------------------------------

OLLAMA_BASE_URL: Final = "http://localhost:11434"


def _prism_tool(name: str, description: str, param: str, param_description: str) -> object:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": {param: {"description": param_description, "type": "string"}},
                "required": [param],
            },
        },
    }


_TIGERS_PROMPT: Final = "What time is the tigers game today in Detroit and should I wear a coat?"


def _prism_tigers_request(model: str, search_description: str, stream: bool) -> dict[str, object]:
    """The body of prism's two "tigers game" tool requests, which differ in the model, the
    search tool's description (one has a typo, kept as sent) and streaming."""
    return {
        "model": model,
        "messages": [{"role": "user", "content": _TIGERS_PROMPT}],
        "tools": [
            _prism_tool(
                "weather",
                "useful when you need to search for current weather conditions",
                "city",
                "The city that you want the weather for",
            ),
            _prism_tool("search", search_description, "query", "The detailed search query"),
        ],
        "stream": stream,
    }


# Request bodies reconstructed from prism's tests (tests/Providers/Ollama/*Test.php) that
# use each fixture: model, prompt, tools and options. Field order and any option prism
# adds by default are not known; vcrpy's default matching ignores the body anyway.
_PRISM_REQUESTS: Final[dict[str, tuple[str, dict[str, object]]]] = {
    "text-with-thinking-enabled-1.json": (
        "/api/chat",
        {
            "model": "gpt-oss",
            "messages": [{"role": "user", "content": "Test prompt"}],
            "stream": False,
            "think": True,
        },
    ),
    "stream-with-thinking-enabled-1.sse": (
        "/api/chat",
        {
            "model": "gpt-oss",
            "messages": [{"role": "user", "content": "Test prompt"}],
            "stream": True,
            "think": True,
        },
    ),
    "generate-text-with-multiple-tools-1.json": (
        "/api/chat",
        _prism_tigers_request("qwen2.5:14b", "useful for searching curret events or data", False),
    ),
    "stream-with-tools-1.sse": (
        "/api/chat",
        _prism_tigers_request("qwen3:14b", "useful for searching current events or data", True),
    ),
    "embeddings-input-1.json": (
        "/api/embed",
        {"model": "mxbai-embed-large", "input": ["The food was delicious and the waiter..."]},
    ),
}


def _prism_fallback_request(body: bytes, streamed: bool) -> tuple[str, dict[str, object]]:
    first_line = body.split(b"\n", 1)[0]
    try:
        first = json.loads(first_line)
    except ValueError:
        first = {}
    model = first.get("model", "unknown") if isinstance(first, dict) else "unknown"
    if isinstance(first, dict) and "embeddings" in first:
        return "/api/embed", {"model": model, "input": [""]}
    return "/api/chat", {"model": model, "messages": [], "stream": streamed}


def load_prism_body(path: Path | str, skipped: list[str] | None = None) -> list[Interaction]:
    """Wrap a prism response-body fixture in one exchange with a reconstructed request.

    ``.json`` is one JSON body (``application/json; charset=utf-8``); ``.sse`` is an Ollama
    NDJSON stream (``application/x-ndjson``) despite its extension. The request (always
    ``POST http://localhost:11434/api/chat`` or ``/api/embed``, with ``stream`` set to
    match) is reconstructed: prism's fixtures hold only the response body.
    """
    p = Path(path)
    body = p.read_bytes()
    streamed = p.suffix == ".sse"
    endpoint, request = _PRISM_REQUESTS.get(p.name) or _prism_fallback_request(body, streamed)
    request_body = compact_json(request)
    content_type = "application/x-ndjson" if streamed else "application/json; charset=utf-8"
    accept = "application/x-ndjson" if streamed else "application/json"
    return [
        Interaction(
            method="POST",
            uri=OLLAMA_BASE_URL + endpoint,
            request_headers={
                "accept": [accept],
                "content-type": ["application/json"],
                "content-length": [str(len(request_body))],
                "host": ["localhost:11434"],
            },
            request_body=request_body,
            status_code=200,
            reason="OK",
            response_headers={"Content-Type": [content_type]},
            response_body=body,
        )
    ]


# --------------------------------------------------------------------------------------
# Format 5: req_llm JSON fixtures
# --------------------------------------------------------------------------------------


def _b64(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise ValueError(f"{what}: expected a base64 string")
    return base64.b64decode(value, validate=True)


def load_req_llm_json(path: Path | str, skipped: list[str] | None = None) -> list[Interaction]:
    """Load a req_llm fixture.

    The request body is the base64-decoded ``request.body.b64``. A streamed response is
    the concatenation of the decoded ``chunks[].b64`` (raw SSE reads); a non-streamed one
    is ``response.body`` re-serialized with LM Studio's 2-space indentation (req_llm stored
    it parsed, keys re-sorted, so byte length matches the original but key order does not).
    """
    data = _as_mapping(json.loads(Path(path).read_text(encoding="utf-8")), "req_llm fixture")
    request = _as_mapping(data.get("request"), "request")
    response = _as_mapping(data.get("response"), "response")
    url = str(request.get("url", ""))
    if not _is_http_uri(url):
        _note(skipped, f"{path}: not an HTTP exchange ({url!r})")
        return []
    req_body_obj = request.get("body")
    if isinstance(req_body_obj, Mapping) and "b64" in req_body_obj:
        request_body = _b64(req_body_obj["b64"], f"{path}: request.body.b64")
    elif "canonical_json" in request:
        request_body = compact_json(request["canonical_json"])
    else:
        request_body = _to_bytes(req_body_obj if isinstance(req_body_obj, str) else None)
    chunks = data.get("chunks")
    if response.get("body") is None and isinstance(chunks, list):
        body = b"".join(
            _b64(_as_mapping(chunk, "chunk").get("b64"), f"{path}: chunks[{i}].b64")
            for i, chunk in enumerate(chunks)
        )
    else:
        raw = response.get("body")
        if isinstance(raw, str):
            body = raw.encode("utf-8")
        else:
            body = json.dumps(raw, indent=2, ensure_ascii=False).encode("utf-8")
    status = int(response.get("status", 200))
    return [
        Interaction(
            method=str(request.get("method", "GET")).upper(),
            uri=url,
            request_headers=_norm_headers(request.get("headers")),
            request_body=request_body,
            status_code=status,
            reason=_reason_for(status),
            response_headers=_norm_headers(response.get("headers")),
            response_body=body,
        )
    ]


# --------------------------------------------------------------------------------------
# Format 6: httptest2 mocks (.json bodies, .R httr2_response sources)
# --------------------------------------------------------------------------------------

_HOST_PORT_DIR: Final = re.compile(
    r"^(?P<host>[A-Za-z0-9.]+(?:-[A-Za-z0-9.]+)*?)-(?P<port>\d{1,5})$"
)
_MOCK_FILE: Final = re.compile(
    r"^(?P<name>.*?)(?:-(?P<hash>[0-9a-f]{6}))?"
    r"(?:-(?P<method>GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS))?$"
)


def _host_port(part: str) -> tuple[str, str] | None:
    """``("localhost", "1234")`` for a ``localhost-1234`` directory name, else None.

    The host must look like one (``localhost`` or a dotted name/address) so that other
    directories such as ``pytest-2`` are not mistaken for it.
    """
    match = _HOST_PORT_DIR.match(part)
    if match is None:
        return None
    host = match.group("host")
    if host != "localhost" and "." not in host:
        return None
    return host, match.group("port")


def _httptest2_request(path: Path) -> tuple[str, str]:
    """(method, url) encoded in an httptest2 mock path ``<host>-<port>/<path>[-hash-METHOD]``."""
    parts = path.parts
    for index in range(len(parts) - 1):
        host_port = _host_port(parts[index])
        if host_port is None:
            continue
        host, port = host_port
        stem = path.name[: -len(path.suffix)] if path.suffix else path.name
        file_match = _MOCK_FILE.match(stem)
        assert file_match is not None  # the pattern matches every string
        method = file_match.group("method") or "GET"
        url_path = "/".join([*parts[index + 1 : -1], file_match.group("name")])
        scheme = "http" if host in ("localhost", "127.0.0.1") else "https"
        return method, f"{scheme}://{host}:{port}/{url_path}"
    raise ValueError(f"{path}: no '<host>-<port>' directory in the path")


def _httptest2_exchange(
    method: str, url: str, status: int, reason: str, headers: Headers, body: bytes
) -> Interaction:
    """An httptest2 mock as one exchange: mocks hold only the response, so the request
    has no headers and no body."""
    return Interaction(
        method=method,
        uri=url,
        request_headers={},
        request_body=b"",
        status_code=status,
        reason=reason,
        response_headers=headers,
        response_body=body,
    )


def load_httptest2_json(path: Path | str, skipped: list[str] | None = None) -> list[Interaction]:
    """An httptest2 ``.json`` mock: the body of a 200 response; method and URL from the path."""
    p = Path(path)
    method, url = _httptest2_request(p)
    headers = {"Content-Type": ["application/json"]}
    return [_httptest2_exchange(method, url, 200, "OK", headers, p.read_bytes())]


@dataclass(frozen=True)
class RCall:
    """A call in an R expression: ``name(arg, key = arg, ...)``."""

    name: str
    args: list[tuple[str | None, RValue]] = field(default_factory=list)

    def kwargs(self) -> dict[str, RValue]:
        return {key: value for key, value in self.args if key is not None}

    def positional(self) -> list[RValue]:
        return [value for key, value in self.args if key is None]


@dataclass(frozen=True)
class RSymbol:
    """A bare R name (``TRUE``, ``NULL``, a variable)."""

    name: str


RValue: TypeAlias = "str | int | float | RSymbol | RCall"

_R_TOKEN: Final = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<backtick>`(?:[^`\\]|\\.)*`)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?L?)
  | (?P<name>[A-Za-z.][A-Za-z0-9._]*)
  | (?P<punct>[(),=-])
    """,
    re.VERBOSE | re.DOTALL,
)

_R_SIMPLE_ESCAPES: Final = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "0": "\0",
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
    "\\": "\\",
    '"': '"',
    "'": "'",
    "`": "`",
    " ": " ",
    "\n": "\n",
}


def _r_unescape(body: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[nxt]
            if body.startswith("{", i + 2):
                end = body.index("}", i + 3)
                digits, i = body[i + 3 : end], end + 1
            else:
                m = re.match(f"[0-9A-Fa-f]{{1,{width}}}", body[i + 2 :])
                if m is None:
                    raise ValueError(f"bad R escape at {body[i : i + 4]!r}")
                digits, i = m.group(0), i + 2 + len(m.group(0))
            out.append(chr(int(digits, 16)))
        elif nxt in "01234567":
            m = re.match(r"[0-7]{1,3}", body[i + 1 :])
            assert m is not None
            out.append(chr(int(m.group(0), 8)))
            i += 1 + len(m.group(0))
        elif nxt in _R_SIMPLE_ESCAPES:
            out.append(_R_SIMPLE_ESCAPES[nxt])
            i += 2
        else:
            raise ValueError(f"unknown R escape \\{nxt}")
    return "".join(out)


def _r_tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _R_TOKEN.match(text, pos)
        if m is None:
            raise ValueError(f"unexpected R source at offset {pos}: {text[pos : pos + 20]!r}")
        kind = m.lastgroup
        assert kind is not None
        if kind != "ws":
            tokens.append((kind, m.group(0)))
        pos = m.end()
    return tokens


class _RParser:
    def __init__(self, text: str) -> None:
        self.tokens = _r_tokens(text)
        self.pos = 0

    def peek(self, offset: int = 0) -> tuple[str, str] | None:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise ValueError("unexpected end of R source")
        self.pos += 1
        return token

    def expect(self, text: str) -> None:
        _kind, value = self.take()
        if value != text:
            raise ValueError(f"expected {text!r} in R source, got {value!r}")

    def value(self) -> RValue:
        kind, text = self.take()
        if kind == "string":
            return _r_unescape(text[1:-1])
        if kind == "punct" and text == "-":
            operand = self.value()
            if isinstance(operand, (int, float)):
                return -operand
            raise ValueError("unary minus on a non-number in R source")
        if kind == "number":
            if text.endswith("L"):
                return int(text[:-1])
            number = float(text)
            return (
                int(number)
                if number.is_integer() and "." not in text and "e" not in text.lower()
                else number
            )
        if kind in ("name", "backtick"):
            name = text[1:-1] if kind == "backtick" else text
            nxt = self.peek()
            if nxt is not None and nxt[1] == "(":
                return self.call(name)
            return RSymbol(name)
        raise ValueError(f"unexpected {text!r} in R source")

    def call(self, name: str) -> RCall:
        self.expect("(")
        args: list[tuple[str | None, RValue]] = []
        while True:
            token = self.peek()
            if token is None:
                raise ValueError("unterminated call in R source")
            if token[1] == ")":
                self.take()
                return RCall(name, args)
            key: str | None = None
            following = self.peek(1)
            if (
                token[0] in ("name", "backtick", "string")
                and following is not None
                and following[1] == "="
            ):
                key = token[1][1:-1] if token[0] != "name" else token[1]
                self.pos += 2
            args.append((key, self.value()))
            token = self.peek()
            if token is not None and token[1] == ",":
                self.take()


def parse_r_expression(text: str) -> RValue:
    """Parse the subset of R that httptest2 writes (calls, named args, strings, numbers)."""
    parser = _RParser(text)
    result = parser.value()
    if parser.peek() is not None:
        raise ValueError(f"trailing R source after the expression: {parser.peek()!r}")
    return result


def _r_first_list(value: RValue) -> RCall:
    """``structure(list(...), class = ...)`` or ``list(...)`` -> the ``list`` call."""
    if isinstance(value, RCall) and value.name == "structure" and value.positional():
        value = value.positional()[0]
    if isinstance(value, RCall) and value.name == "list":
        return value
    raise ValueError("expected list(...) or structure(list(...), ...) in R source")


def load_httptest2_r(path: Path | str, skipped: list[str] | None = None) -> list[Interaction]:
    """An httptest2 ``.R`` mock (an ``httr2_response``): status, headers, exact body bytes.

    Method and URL come from the file's path (checked against the ``method``/``url``
    fields when present); the request body is not recorded by httptest2.
    """
    p = Path(path)
    method, url = _httptest2_request(p)
    fields = _r_first_list(parse_r_expression(p.read_text(encoding="utf-8"))).kwargs()
    recorded_url = fields.get("url")
    if isinstance(recorded_url, str) and recorded_url.split("?", 1)[0] != url:
        raise ValueError(f"{p}: path gives {url} but the mock records {recorded_url}")
    recorded_method = fields.get("method")
    if isinstance(recorded_method, str) and recorded_method.upper() != method:
        raise ValueError(f"{p}: path gives {method} but the mock records {recorded_method}")
    status = fields.get("status_code")
    if not isinstance(status, int):
        raise ValueError(f"{p}: status_code missing or not an integer")
    headers: Headers = {}
    raw_headers = fields.get("headers")
    if raw_headers is not None:
        for name, value in _r_first_list(raw_headers).kwargs().items():
            if not isinstance(value, str):
                raise ValueError(f"{p}: header {name} is not a string")
            headers.setdefault(name, []).append(value)
    body_expr = fields.get("body")
    if isinstance(body_expr, RCall) and body_expr.name == "charToRaw":
        (text,) = body_expr.positional()
        if not isinstance(text, str):
            raise ValueError(f"{p}: charToRaw() of a non-string")
        body = text.encode("utf-8")
    elif body_expr is None or (
        isinstance(body_expr, RCall)
        and body_expr.name in ("raw", "as.raw")
        and body_expr.positional() in ([], [0])
    ):
        body = b""  # an empty raw vector
    else:
        raise ValueError(f"{p}: unsupported body expression {body_expr!r}")
    return [_httptest2_exchange(method, url, status, _reason_for(status), headers, body)]


# --------------------------------------------------------------------------------------
# Format detection
# --------------------------------------------------------------------------------------


def detect_format(path: Path | str) -> FormatName:
    """Which loader reads ``path`` (by extension, location and a peek at the content)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".httprr":
        return "httprr"
    if suffix == ".r":
        return "httptest2-r"
    if suffix == ".sse":
        return "prism"
    if suffix in (".yaml", ".yml"):
        with p.open("rb") as fh:
            head = fh.read(4096)
        return "ruby-vcr" if re.search(rb"^http_interactions:", head, re.MULTILINE) else "vcrpy"
    if suffix == ".json":
        if any(_host_port(part) for part in p.parts[:-1]):
            return "httptest2-json"
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except ValueError:
            data = None
        if isinstance(data, dict) and "request" in data and "response" in data:
            return "req_llm"
        return "prism"
    raise ValueError(f"{p}: unknown recording format")


_LOADERS: Final = {
    "vcrpy": load_vcrpy_yaml,
    "ruby-vcr": load_ruby_vcr_yaml,
    "httprr": load_httprr,
    "prism": load_prism_body,
    "req_llm": load_req_llm_json,
    "httptest2-json": load_httptest2_json,
    "httptest2-r": load_httptest2_r,
}


def load_source(
    path: Path | str, fmt: FormatName | None = None, skipped: list[str] | None = None
) -> list[Interaction]:
    """Load any supported recording (format detected unless given)."""
    return _LOADERS[fmt or detect_format(path)](path, skipped)


# --------------------------------------------------------------------------------------
# Sanitizing and writing
# --------------------------------------------------------------------------------------


def _clean_headers(headers: Mapping[str, Sequence[str]], *, response: bool) -> Headers:
    out: Headers = {}
    for name, values in headers.items():
        lower = name.lower()
        if lower in DROPPED_HEADERS or (response and lower in DROPPED_RESPONSE_HEADERS):
            continue
        out[name] = [REDACTED for _ in values] if lower in REDACTED_HEADERS else list(values)
    return out


def _set_content_length(headers: Headers, length: int, *, add: bool) -> Headers:
    names = [name for name in headers if name.lower() == "content-length"]
    for name in names:
        headers[name] = [str(length)]
    if not names and add:
        # Follow the casing style of the recorded headers (Ruby VCR, httprr: "Content-Type").
        capitalized = any(name[:1].isupper() for name in headers)
        headers["Content-Length" if capitalized else "content-length"] = [str(length)]
    return headers


def sanitize(interaction: Interaction) -> Interaction:
    """Redact credentials and make framing headers match the stored, decoded bodies.

    * ``authorization``, ``proxy-authorization``, ``x-api-key``, ``api-key``,
      ``openai-organization``, ``openai-project``, ``anthropic-organization-id``: every
      value becomes ``REDACTED`` (request and response);
    * ``cookie`` and ``set-cookie`` are dropped;
    * response ``content-encoding`` and ``transfer-encoding`` are dropped (bodies are
      stored decoded and de-chunked) and the response gets a ``content-length`` equal to
      the stored body length; a request ``content-length`` is corrected likewise;
    * the method is upper-cased and an empty reason phrase is filled in.

    Bodies are never modified (streams stay byte-exact).
    """
    request_headers = _set_content_length(
        _clean_headers(interaction.request_headers, response=False),
        len(interaction.request_body),
        add=False,
    )
    response_headers = _set_content_length(
        _clean_headers(interaction.response_headers, response=True),
        len(interaction.response_body),
        add=True,
    )
    return Interaction(
        method=interaction.method.upper(),
        uri=interaction.uri,
        request_headers=request_headers,
        request_body=interaction.request_body,
        status_code=interaction.status_code,
        reason=interaction.reason or _reason_for(interaction.status_code),
        response_headers=response_headers,
        response_body=interaction.response_body,
    )


class _CassetteDumper(yaml.SafeDumper):
    """Pure-Python safe dumper (same bytes with or without libyaml) using literal blocks."""


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    # Multi-line text as a literal block when YAML allows it (PyYAML falls back to a
    # double-quoted scalar for text a block cannot hold, e.g. with CR or trailing spaces).
    style = "|" if "\n" in data.rstrip("\n") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_CassetteDumper.add_representer(str, _represent_str)


def _body_value(body: bytes) -> str | bytes:
    """Text if the bytes are UTF-8 that survives a YAML round trip, else raw bytes (!!binary)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return body
    dumped = yaml.dump({"s": text}, Dumper=_CassetteDumper, allow_unicode=True)
    loaded = yaml.load(dumped, Loader=_BaseLoader)
    if isinstance(loaded, dict) and loaded.get("s") == text:
        return text
    return body


def _cassette_dict(interactions: Sequence[Interaction]) -> dict[str, object]:
    items: list[object] = []
    for raw in interactions:
        ia = sanitize(raw)
        items.append(
            {
                "request": {
                    "body": _body_value(ia.request_body),
                    "headers": ia.request_headers,
                    "method": ia.method,
                    "uri": ia.uri,
                },
                "response": {
                    "body": {"string": _body_value(ia.response_body)},
                    "headers": ia.response_headers,
                    "status": {"code": ia.status_code, "message": ia.reason},
                },
            }
        )
    return {"interactions": items, "version": 1}


def _as_body_bytes(value: object) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


def _verify_round_trip(text: str, interactions: Sequence[Interaction]) -> None:
    data = _as_mapping(yaml.load(text, Loader=_BaseLoader), "written cassette")
    loaded = data["interactions"]
    if len(loaded) != len(interactions):
        raise AssertionError("written cassette lost interactions")
    for index, (item, original) in enumerate(zip(loaded, interactions, strict=True)):
        if _as_body_bytes(item["request"]["body"]) != original.request_body:
            raise AssertionError(f"interaction {index}: request body changed in YAML")
        if _as_body_bytes(item["response"]["body"]["string"]) != original.response_body:
            raise AssertionError(f"interaction {index}: response body changed in YAML")


def render_vcr_cassette(interactions: Sequence[Interaction], header_comment: str = "") -> str:
    """The YAML text :func:`write_vcr_cassette` writes (sanitized, verified to round-trip)."""
    body = yaml.dump(
        _cassette_dict(interactions),
        Dumper=_CassetteDumper,
        allow_unicode=True,
        sort_keys=True,
        default_flow_style=False,
        width=100,
    )
    _verify_round_trip(body, interactions)
    comment = "".join(f"# {line}".rstrip() + "\n" for line in header_comment.splitlines())
    return comment + body


def write_vcr_cassette(
    interactions: Sequence[Interaction], path: Path | str, header_comment: str = ""
) -> Path:
    """Write ``interactions`` as a vcrpy (``version: 1``) cassette at ``path``.

    Layout is what vcrpy itself records: ``request.body`` is a string, the response body
    is ``response.body.string`` (UTF-8 text; only bodies that are not UTF-8, such as an
    mp3 download, are stored as ``!!binary``, which vcrpy's loader also reads). Headers
    are sanitized by :func:`sanitize`. ``header_comment`` lines are written as leading
    YAML comments (vcrpy ignores them).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = render_vcr_cassette(interactions, header_comment)
    target.write_bytes(text.encode("utf-8"))
    return target


# --------------------------------------------------------------------------------------
# Manifests and batch conversion
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ManifestEntry:
    """One recording listed in a manifest."""

    relpath: str  # path under the source dir, with "/" separators
    provider: str  # openai, anthropic, openrouter, groq, ollama, ollama-native, lmstudio
    source: str  # short name of the project that recorded it (pydantic-ai, prism, ...)
    format_note: str  # the manifest's description of the format


@dataclass(frozen=True)
class SourceProject:
    name: str
    repository: str
    commit: str
    license: str


def _table_rows(lines: Iterable[str]) -> list[list[str]]:
    rows: list[list[str]] = []
    for line in lines:
        stripped = line.strip()
        if not stripped.startswith("|"):
            continue
        cells = [cell.strip() for cell in stripped.strip("|").split("|")]
        if all(re.fullmatch(r":?-+:?", cell) for cell in cells if cell):
            continue  # separator row
        rows.append(cells)
    return rows


def _strip_md(cell: str) -> str:
    return cell.replace("`", "").strip()


# The folders of MANIFEST-2.md that are converted: the OpenAI-style chat completions of
# Mistral, Cerebras, Hugging Face's router and Z.ai. (Its other folders are other wire
# formats: the Responses API, Gemini, Bedrock, xAI's gRPC, WebSocket frames.)
PART_2_FOLDERS: Final = ("mistral", "cerebras", "huggingface", "zai")


def read_manifests(src_dir: Path | str) -> tuple[list[ManifestEntry], dict[str, SourceProject]]:
    """Every file listed in ``MANIFEST.md`` and ``NATIVE-MANIFEST.md``, those of
    ``MANIFEST-2.md`` in ``PART_2_FOLDERS``, and the sources table."""
    src = Path(src_dir)
    entries: list[ManifestEntry] = []
    projects: dict[str, SourceProject] = {"pydantic-ai": SourceProject(*PYDANTIC_AI_SOURCE)}

    main_lines = (src / "MANIFEST.md").read_text(encoding="utf-8").splitlines()
    for cells in _table_rows(main_lines):
        if len(cells) < 2 or cells[0] == "provider":
            continue
        provider, name = _strip_md(cells[0]), _strip_md(cells[1])
        entries.append(ManifestEntry(f"{provider}/{name}", provider, "pydantic-ai", "vcrpy YAML"))

    part_2 = src / "MANIFEST-2.md"
    if part_2.is_file():
        for cells in _table_rows(part_2.read_text(encoding="utf-8").splitlines()):
            # the per-file table: | folder | file | streamed | statuses | features |
            if len(cells) < 2 or not cells[1].endswith(".yaml"):
                continue
            provider, name = _strip_md(cells[0]), _strip_md(cells[1])
            if provider in PART_2_FOLDERS:
                entries.append(
                    ManifestEntry(f"{provider}/{name}", provider, "pydantic-ai", "vcrpy YAML")
                )

    section: str | None = None
    in_sources = False
    native_lines = (src / "NATIVE-MANIFEST.md").read_text(encoding="utf-8").splitlines()
    for line in native_lines:
        if line.startswith("#"):
            folder = re.search(r"\(`([^`]+)/`\)", line)
            section = (
                folder.group(1) if line.lstrip("#").strip().startswith("Files") and folder else None
            )
            in_sources = line.lstrip("#").strip().lower().startswith("sources")
            continue
        rows = _table_rows([line])
        if not rows:
            continue
        cells = rows[0]
        if in_sources and len(cells) >= 4 and cells[0] != "short name":
            name = _strip_md(cells[0])
            projects[name] = SourceProject(name, _strip_md(cells[1]), _strip_md(cells[2]), cells[3])
        elif section is not None and len(cells) >= 3 and cells[0] != "file":
            relname = _strip_md(cells[0])
            source = relname.split("/", 1)[0]
            entries.append(
                ManifestEntry(f"{section}/{relname}", section, source, _strip_md(cells[2]))
            )
    return entries, projects


def read_manifest_2(src_dir: Path | str, folder: str) -> list[ManifestEntry]:
    """The files of one folder listed in ``MANIFEST-2.md`` (its "Files" table: folder,
    file, ...), all pydantic-ai vcrpy YAML. Only the folders a test asks for are read:
    the manifest lists 29 MB of recordings, most of them of APIs modelwire does not speak."""
    lines = (Path(src_dir) / "MANIFEST-2.md").read_text(encoding="utf-8").splitlines()
    start = lines.index("## Files")
    entries = []
    for cells in _table_rows(lines[start:]):
        if len(cells) < 2 or _strip_md(cells[0]) != folder:
            continue
        name = _strip_md(cells[1])
        entries.append(ManifestEntry(f"{folder}/{name}", folder, "pydantic-ai", "vcrpy YAML"))
    return entries


def output_relpath(relpath: str) -> str:
    """Where a source file's cassette goes under DEST: same path, extension ``.yaml``."""
    head, _, name = relpath.rpartition("/")
    suffix = Path(name).suffix
    stem = name[: -len(suffix)] if suffix and suffix.lower() in _KNOWN_SUFFIXES else name
    return f"{head}/{stem}.yaml" if head else f"{stem}.yaml"


_KNOWN_SUFFIXES: Final = frozenset({".yaml", ".yml", ".json", ".sse", ".httprr", ".r"})

_CONVERSION_NOTES: Final[dict[FormatName, str]] = {
    "vcrpy": "vcrpy YAML; parsed_body (if any) re-serialized as compact JSON",
    "ruby-vcr": "Ruby VCR YAML; !binary bodies base64-decoded",
    "httprr": "httprr trace; chunked response bodies de-chunked",
    "prism": "prism response body; request side reconstructed",
    "req_llm": "req_llm JSON; base64 bodies/chunks decoded",
    "httptest2-json": "httptest2 .json mock; request (method, URL) from the file path",
    "httptest2-r": "httptest2 .R httr2_response; body from charToRaw(), request from the path",
}


@dataclass
class ConversionReport:
    """What :func:`convert_all` did."""

    written: list[tuple[str, str, FormatName, int]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def per_provider(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for _src, out, _fmt, _n in self.written:
            provider = out.split("/", 1)[0]
            counts[provider] = counts.get(provider, 0) + 1
        return dict(sorted(counts.items()))


def convert_file(
    src_dir: Path | str,
    entry: ManifestEntry,
    dest_dir: Path | str,
    projects: Mapping[str, SourceProject],
    skipped: list[str] | None = None,
) -> tuple[Path, FormatName, int]:
    """Convert one manifest entry; returns (written path, format, interaction count)."""
    source_path = Path(src_dir) / entry.relpath
    fmt = detect_format(source_path)
    interactions = load_source(source_path, fmt, skipped)
    if not interactions:
        raise ValueError("no HTTP exchange in the file")
    project = projects.get(entry.source)
    origin = f"{project.repository} @ {project.commit}" if project else "see ATTRIBUTION.md"
    license_note = project.license if project else "see ATTRIBUTION.md"
    comment = (
        "Converted by tests/cassettes/importer.py; do not edit by hand (re-run the importer).\n"
        f"Source: {entry.relpath}\n"
        f"Recorded by: {entry.source} ({origin})\n"
        f"License: {license_note}\n"
        f"Conversion: {_CONVERSION_NOTES[fmt]}\n"
    )
    out = Path(dest_dir) / output_relpath(entry.relpath)
    write_vcr_cassette(interactions, out, comment)
    return out, fmt, len(interactions)


_ATTRIBUTION_HEADER: Final = """\
# Attribution of the recorded cassettes

Every cassette under this folder (except this file) was converted by
`tests/cassettes/importer.py` from real HTTP traffic recorded by other open-source
projects. The recordings, their sources, licenses and commits are described by the
manifests copied verbatim at the end of this file.

| recorded by | repository | commit | license |
|---|---|---|---|
{projects}

## What the conversion changed

- Every file became a vcrpy cassette (`version: 1`, `request.body` a string,
  `response.body.string` a string; only non-UTF-8 bodies such as an mp3 download are
  `!!binary`), same relative path with the extension `.yaml`.
- pydantic-ai: `parsed_body` (request and response) re-serialized as compact JSON.
- Ruby VCR (langchainrb, ace): `!binary` base64 bodies decoded; methods upper-cased.
- httprr (langchaingo): raw HTTP/1.1 parsed, chunked transfer encoding de-chunked.
- prism: only the response body was recorded; the request side (method, URL, headers,
  body) was **reconstructed** from prism's tests, and the response status/headers
  (200, Ollama's content types) were synthesized.
- req_llm: request body and streamed SSE chunks base64-decoded (chunks concatenated);
  non-streamed parsed bodies re-serialized with 2-space indentation (length matches the
  recorded Content-Length, key order is req_llm's sorted order).
- httptest2 (rlmstudio): request method and URL taken from the mock's path (no request
  body was recorded); `.R` status, headers and `charToRaw()` body parsed from R source.
- Headers: `authorization`, `proxy-authorization`, `x-api-key`, `api-key`,
  `openai-organization`, `openai-project`, `anthropic-organization-id` values replaced by
  `REDACTED`; `cookie`/`set-cookie` dropped; response `content-encoding` and
  `transfer-encoding` dropped (bodies are stored decoded) and `content-length` set to the
  stored body length (request `content-length` corrected likewise). Bodies are otherwise
  unchanged; streams (SSE, NDJSON) are byte-exact.

## Converted files

| cassette | source file | format | interactions |
|---|---|---|---|
{files}
"""


def _attribution(src: Path, report: ConversionReport, projects: Mapping[str, SourceProject]) -> str:
    project_rows = "\n".join(
        f"| {p.name} | {p.repository} | {p.commit} | {p.license} |"
        for p in sorted(projects.values(), key=lambda p: p.name)
    )
    file_rows = "\n".join(
        f"| `{out}` | `{source}` | {fmt} | {count} |"
        for source, out, fmt, count in sorted(report.written, key=lambda row: row[1])
    )
    text = _ATTRIBUTION_HEADER.format(projects=project_rows, files=file_rows)
    for name in ("MANIFEST.md", "NATIVE-MANIFEST.md", "MANIFEST-2.md"):
        if not (src / name).is_file():
            continue
        manifest = (src / name).read_text(encoding="utf-8").rstrip("\n")
        text += f"\n---\n\n<!-- {name}, copied verbatim from the source folder -->\n\n{manifest}\n"
    return text


def convert_all(src_dir: Path | str, dest_dir: Path | str) -> ConversionReport:
    """Convert every file listed in the manifests of ``src_dir`` into ``dest_dir``.

    Also writes ``dest_dir/ATTRIBUTION.md``. Files are processed in manifest order and a
    failing file does not stop the others (see ``ConversionReport.failed``).
    """
    src, dest = Path(src_dir), Path(dest_dir)
    entries, projects = read_manifests(src)
    report = ConversionReport()
    for entry in entries:
        if not (src / entry.relpath).is_file():
            report.missing.append(entry.relpath)
            continue
        try:
            out, fmt, count = convert_file(src, entry, dest, projects, report.skipped)
        except (ValueError, OSError, yaml.YAMLError, AssertionError) as exc:
            report.failed.append((entry.relpath, f"{type(exc).__name__}: {exc}"))
            continue
        report.written.append((entry.relpath, out.relative_to(dest).as_posix(), fmt, count))
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "ATTRIBUTION.md").write_bytes(_attribution(src, report, projects).encode("utf-8"))
    return report


def default_source_dir() -> Path:
    """MODELWIRE_SHARED_CASSETTES if set, else ``<repo>/../shared/cassettes``."""
    override = os.environ.get("MODELWIRE_SHARED_CASSETTES")
    return Path(override) if override else _REPO_ROOT.parent / "shared" / "cassettes"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.cassettes.importer",
        description="Convert the shared provider recordings into vcrpy cassettes.",
    )
    parser.add_argument("src_dir", nargs="?", type=Path, default=default_source_dir())
    parser.add_argument(
        "dest_dir", nargs="?", type=Path, help="where to write (default: a new temporary folder)"
    )
    args = parser.parse_args(argv)
    src: Path = args.src_dir
    if not (src / "MANIFEST.md").is_file():
        print(
            f"error: {src} has no MANIFEST.md (give SRC_DIR or set MODELWIRE_SHARED_CASSETTES)",
            file=sys.stderr,
        )
        return 2
    dest: Path = args.dest_dir or Path(tempfile.mkdtemp(prefix="modelwire-cassettes-"))
    report = convert_all(src, dest)
    for provider, count in report.per_provider().items():
        print(f"{provider}: {count} cassettes")
    for message in report.skipped:
        print(f"skipped: {message}")
    for relpath in report.missing:
        print(f"missing: {relpath}", file=sys.stderr)
    for relpath, reason in report.failed:
        print(f"failed: {relpath}: {reason}", file=sys.stderr)
    print(f"wrote {len(report.written)} cassettes to {dest}")
    return 1 if report.failed or report.missing else 0


if __name__ == "__main__":
    sys.exit(main())
