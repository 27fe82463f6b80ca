"""The unified types (`modelwire.types`): requests, messages, parts and stream chunks."""

from __future__ import annotations

from typing import Any

import modelwire
import pytest
from modelwire import DocumentPart, ImagePart, RequestValidationError, StreamingChunk
from modelwire.types import (
    CacheControl,
    CompletionRequest,
    CompletionResponse,
    Message,
    NamedToolChoice,
    ResponseFormat,
    TextPart,
    ThinkingPart,
    Timeout,
    Tool,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from pydantic import BaseModel, ValidationError


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


# --------------------------------------------------------------------------- timeouts


def test_timeout_from_a_number_keeps_connect_and_write() -> None:
    base = Timeout(connect=3.0, write=4.0)
    assert Timeout.coerce(7.5, base) == Timeout(
        connect=3.0, read=7.5, write=4.0, stream_idle=7.5, total=7.5
    )
    assert Timeout.coerce(None, base) is base
    own = Timeout(read=1.0)
    assert Timeout.coerce(own, base) is own
    assert Timeout.coerce(None) == Timeout()
    assert Timeout() == Timeout(
        connect=10.0, read=600.0, write=600.0, stream_idle=120.0, total=None
    )


# --------------------------------------------------------------------------- content and messages


def test_image_parts_by_url_and_by_bytes() -> None:
    by_url = ImagePart(url="https://x.test/a.png")
    assert by_url.data_url() == "https://x.test/a.png"
    by_bytes = ImagePart.from_bytes(b"\x00\x01", media_type="image/webp")
    assert by_bytes.base64() == "AAE="
    assert by_bytes.data_url() == "data:image/webp;base64,AAE="
    with pytest.raises(ValueError, match="exactly one of url= or data="):
        ImagePart(url="https://x.test/a.png", data=b"x")


def test_message_helpers_text_and_images() -> None:
    image = ImagePart.from_bytes(b"x")
    message = Message.user([TextPart(text="one "), image, TextPart(text="two")])
    assert message.text() == "one two"
    assert message.images() == [image]
    assert Message.system("s").images() == []
    assert Message.tool("call_1", "result", name="f") == Message(
        role="tool", content="result", tool_call_id="call_1", name="f"
    )
    call = ToolCall(id="c", name="f")
    assert Message.assistant(tool_calls=[call]) == Message(
        role="assistant", content="", tool_calls=[call]
    )


def test_an_unknown_role_names_the_known_ones() -> None:
    with pytest.raises(
        RequestValidationError, match="unknown role 'bot': use one of 'system', 'user'"
    ):
        Message(role="bot", content="x")  # type: ignore[arg-type]


def test_messages_and_requests_reject_unknown_fields() -> None:
    with pytest.raises(RequestValidationError, match="contnet"):
        Message.model_validate({"role": "user", "contnet": "typo"})
    with pytest.raises(RequestValidationError, match="temprature"):
        CompletionRequest.model_validate({"messages": [], "temprature": 1})


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (
            lambda: Message(role="user", content=3),
            "invalid Message: content: Input should be a valid string (given 3)",
        ),
        (
            lambda: Message.model_validate({"role": "user", "content": [{"type": "text"}]}),
            "invalid Message: content.0.text: Field required",
        ),
        (
            lambda: CompletionRequest(
                messages=[{"role": "user", "contnet": "x"}], temperature="hot"
            ),
            "invalid request: messages.0.contnet: Extra inputs are not permitted (given 'x'); "
            "temperature: Input should be a valid number, unable to parse string as a number "
            "(given 'hot')",
        ),
        (
            lambda: Message.user([ImagePart()]),
            "invalid ImagePart: ImagePart needs exactly one of url= or data=",
        ),
    ],
)
def test_bad_input_is_a_modelwire_error_in_a_line(build: Any, expected: str) -> None:
    with pytest.raises(modelwire.ProviderError) as info:
        build()
    error = info.value
    # one modelwire error, also a ValueError, with nothing of pydantic's report around it
    assert isinstance(error, RequestValidationError) and isinstance(error, ValueError)
    assert str(error) == expected
    assert "\n" not in str(error) and "pydantic" not in str(error)
    assert error.__cause__ is None and error.__suppress_context__


def test_valid_input_builds_as_before() -> None:
    message = Message.model_validate({"role": "user", "content": [{"type": "text", "text": "x"}]})
    assert message.content == [TextPart(text="x")]
    assert CompletionRequest(messages=[message]).messages == [message]


# --------------------------------------------------------------------------- tools and formats


def test_tool_call_arguments_as_compact_json() -> None:
    assert ToolCall(id="c", name="f", arguments={"a": [1, 2], "b": "é"}).arguments_json() == (
        '{"a":[1,2],"b":"\\u00e9"}'
    )
    assert ToolCall(id="c", name="f").arguments_json() == "{}"


class Lookup(BaseModel):
    """Look a word up."""

    word: str
    limit: int = 3


def test_tool_from_a_model() -> None:
    tool = Tool.from_model(Lookup)
    assert (tool.name, tool.description) == ("Lookup", "Look a word up.")
    assert tool.parameters == {
        "properties": {
            "word": {"title": "Word", "type": "string"},
            "limit": {"default": 3, "title": "Limit", "type": "integer"},
        },
        "required": ["word"],
        "type": "object",
    }
    named = Tool.from_model(Lookup, name="find", description="")
    assert (named.name, named.description) == ("find", "")


def test_a_tool_takes_no_arguments_by_default() -> None:
    assert Tool(name="now").parameters == {"type": "object", "properties": {}}


def test_response_format_from_a_model_excludes_the_model_when_dumped() -> None:
    fmt = ResponseFormat.from_model(Lookup)
    assert (fmt.type, fmt.name, fmt.strict, fmt.model) == ("json_schema", "Lookup", True, Lookup)
    assert fmt.json_schema == Lookup.model_json_schema()
    assert "model" not in fmt.model_dump()


def test_request_shorthands() -> None:
    request = CompletionRequest(
        messages=[Message.user("x")],
        stop="END",
        response_format=Lookup,  # type: ignore[arg-type]
        tool_choice="lookup",  # type: ignore[arg-type]
    )
    assert request.stop == ["END"]
    assert request.response_format == ResponseFormat.from_model(Lookup)
    assert request.tool_choice == NamedToolChoice(name="lookup")
    json_mode = CompletionRequest(messages=[], response_format="json", tool_choice="required")  # type: ignore[arg-type]
    assert json_mode.response_format == ResponseFormat(type="json_object")
    assert json_mode.tool_choice == "required"


# --------------------------------------------------------------------------- responses and chunks


def test_usage_totals_and_is_frozen() -> None:
    usage = Usage(input_tokens=3, output_tokens=4)
    assert usage.total_tokens == 7
    with pytest.raises(ValidationError, match="frozen"):
        usage.input_tokens = 1


def test_a_response_text_is_its_content() -> None:
    assert CompletionResponse(content="hi").text == "hi"
    assert "secret" not in repr(CompletionResponse(raw={"secret": "body"}))


def test_stream_chunks_defaults_and_deltas() -> None:
    chunk = StreamingChunk()
    assert (chunk.content, chunk.is_final, chunk.tool_calls, chunk.reasoning) == ("", False, (), "")
    delta = ToolCallDelta(index=0)
    assert (delta.id, delta.name, delta.arguments) == (None, None, "")
    with pytest.raises(AttributeError):
        delta.index = 1  # type: ignore[misc]


# --------------------------------------------------------------------------- documents


def test_document_parts_by_bytes_by_url_and_as_text() -> None:
    pdf = DocumentPart.from_bytes(b"%PDF-1", filename="paper.pdf", title="A paper")
    assert (pdf.media_type, pdf.name(), pdf.title) == ("application/pdf", "paper.pdf", "A paper")
    assert pdf.data_url() == "data:application/pdf;base64,JVBERi0x"
    assert pdf.inline_data() == b"%PDF-1"
    by_url = DocumentPart(url="https://x.test/a.pdf")
    assert by_url.inline_data() is None and by_url.name() == "document.pdf"
    assert DocumentPart(url="data:application/pdf;base64,JVBERi0x").inline_data() == b"%PDF-1"
    notes = DocumentPart.from_text("seven hills", title="Notes")
    assert (notes.media_type, notes.text(), notes.name()) == ("text/plain", "seven hills", "Notes")
    assert DocumentPart(data=b"x", media_type="text/plain").name() == "document.txt"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "exactly one of url= or data="),
        ({"url": "https://x.test/a.pdf", "data": b"x"}, "exactly one of url= or data="),
        (
            {"data": b"x", "media_type": "image/png"},
            "media_type 'image/png' is not one a provider takes: use 'application/pdf' or "
            "'text/plain' \\(an image is an ImagePart\\)",
        ),
        ({"data": b"\xff\xfe", "media_type": "text/plain"}, "data must be UTF-8"),
    ],
)
def test_a_document_part_says_what_to_fix(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(RequestValidationError, match=message):
        DocumentPart(**fields)


def test_message_documents_and_text_leave_out_the_other_parts() -> None:
    pdf = DocumentPart.from_bytes(b"%PDF-1")
    message = Message.user([TextPart(text="read "), pdf, ImagePart.from_bytes(b"x")])
    assert message.documents() == [pdf]
    assert message.text() == "read "
    assert Message.user("x").documents() == []


def test_cache_breakpoints_from_true_and_with_a_ttl() -> None:
    assert TextPart(text="x", cache=True).cache == CacheControl()
    assert TextPart(text="x", cache=False).cache is None
    assert CacheControl(ttl="1h").wire() == {"type": "ephemeral", "ttl": "1h"}
    assert CacheControl().wire() == {"type": "ephemeral"}
    with pytest.raises(RequestValidationError, match="ttl"):
        CacheControl(ttl="2d")  # type: ignore[arg-type]


def test_thinking_state_is_never_in_a_repr() -> None:
    part = ThinkingPart(text="t", signature="SIG-SECRET", redacted="DATA", native={"k": "v"})
    assert "SIG-SECRET" not in repr(part) and "DATA" not in repr(part)
    assert part.state_for("anthropic") is False
    assert ThinkingPart(provider="anthropic").state_for("anthropic") is True


def test_to_message_keeps_the_parts_of_an_answer() -> None:
    thinking = ThinkingPart(text="hm", signature="s", provider="anthropic")
    response = CompletionResponse(
        content="ab",
        reasoning="hm",
        parts=[thinking, TextPart(text="a"), TextPart(text="b")],
        tool_calls=[ToolCall(id="t", name="f")],
    )
    message = response.to_message()
    assert message.content == [thinking, TextPart(text="a"), TextPart(text="b")]
    assert (message.text(), message.thinking(), message.reasoning_text()) == (
        "ab",
        [thinking],
        "hm",
    )
    assert message.tool_calls == [ToolCall(id="t", name="f")]
    # a plain answer is its text
    plain = CompletionResponse(content="a", parts=[TextPart(text="a")]).to_message()
    assert (plain.content, plain.reasoning) == ("a", None)
    # a response built by hand, without parts, keeps its reasoning text
    by_hand = CompletionResponse(content="a", reasoning="r").to_message()
    assert (by_hand.content, by_hand.reasoning) == ("a", "r")


def test_tool_results_with_parts_and_an_error_flag() -> None:
    message = Message.tool("t1", [TextPart(text="failed")], is_error=True)
    assert (message.is_error, message.text()) == (True, "failed")
    assert Message.tool("t1", "ok").is_error is False
