"""Gemini's requests, compared with google-genai's: no API description of Google's is among
the official documents, so each request shape modelwire sends is built a second time with
google-genai's own types and request builder (what its client sends for
`generate_content`), and the two JSON bodies must say the same.

google-genai sends nested keys in snake_case and modelwire in camelCase; the API takes
both (protobuf's JSON mapping), so keys are compared in camelCase. Values given by the
user (function arguments and responses, schemas) are compared as they are.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from google import genai
from google.genai import _common, models
from google.genai import types as gt
from modelwire import ImagePart, Message, TextPart, ToolCall
from modelwire._core.calls import ClientConfig
from modelwire.providers.gemini import SPEC
from pydantic import BaseModel

# values the user gives: their keys are data, not the API's field names
_VERBATIM = {"args", "response", "responseJsonSchema", "parametersJsonSchema", "responseSchema"}
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
SIGNATURE = base64.b64encode(b"\x12\x9c\x08signature").decode()


class City(BaseModel):
    name: str
    population: int


def camel(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            name = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), key)
            out[name] = item if name in _VERBATIM else camel(item)
        return out
    if isinstance(value, list):
        return [camel(item) for item in value]
    return value


def modelwire_body(fields: dict[str, Any]) -> dict[str, Any]:
    config = ClientConfig.create(SPEC, api_key="AIza-conformance")
    call = config.chat_call(config.request(None, fields), stream=False)
    assert call.content is not None
    return camel(json.loads(call.content))


def genai_body(contents: list[gt.Content], config: gt.GenerateContentConfig | None) -> Any:
    """The body google-genai's client sends for `generate_content(...)`."""
    client = genai.Client(api_key="AIza-conformance")
    params = gt._GenerateContentParameters(
        model=SPEC.default_model, contents=contents, config=config
    )
    body = models._GenerateContentParameters_to_mldev(client._api_client, params)
    body.pop("_url", None)
    if body.get("generationConfig") == {}:  # sent empty when the config holds only tools
        del body["generationConfig"]
    return camel(_common.encode_unserializable_types(_common.convert_to_dict(body)))


def user(text: str) -> gt.Content:
    return gt.Content(role="user", parts=[gt.Part(text=text)])


TOOL = {"name": "get_weather", "description": "Weather now.", "parameters": SCHEMA}
GENAI_TOOL = gt.Tool(
    function_declarations=[
        gt.FunctionDeclaration(
            name="get_weather", description="Weather now.", parameters_json_schema=SCHEMA
        )
    ]
)
CALL = ToolCall(id="call_0", name="get_weather", arguments={"city": "Paris"})
SIGNED_ANSWER = Message(
    role="assistant",
    tool_calls=[CALL],
    provider_items=[
        {
            "type": "gemini_part",
            "part": {
                "functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
                "thoughtSignature": SIGNATURE,
            },
        }
    ],
)
PNG = b"\x89PNG\r\n\x1a\n"

CASES: dict[str, tuple[dict[str, Any], list[gt.Content], gt.GenerateContentConfig | None]] = {
    "text": ({"messages": [{"role": "user", "content": "Hi"}]}, [user("Hi")], None),
    "system-and-sampling": (
        {
            "messages": [Message.system("Be brief."), Message.user("Hi")],
            "temperature": 0.4,
            "top_p": 0.9,
            "max_tokens": 64,
            "stop": ["END"],
            "seed": 7,
            "top_k": 20,
        },
        [user("Hi")],
        gt.GenerateContentConfig(
            system_instruction=gt.Content(parts=[gt.Part(text="Be brief.")]),
            temperature=0.4,
            top_p=0.9,
            max_output_tokens=64,
            stop_sequences=["END"],
            seed=7,
            top_k=20,
        ),
    ),
    "thinking": (
        {"messages": [Message.user("Hi")], "thinking_budget": 512, "include_thoughts": True},
        [user("Hi")],
        gt.GenerateContentConfig(
            thinking_config=gt.ThinkingConfig(thinking_budget=512, include_thoughts=True)
        ),
    ),
    "structured-output": (
        {"messages": [Message.user("A city?")], "response_format": City},
        [user("A city?")],
        gt.GenerateContentConfig(
            response_mime_type="application/json", response_json_schema=City.model_json_schema()
        ),
    ),
    "image": (
        {
            "messages": [
                Message.user([TextPart(text="What?"), ImagePart.from_bytes(PNG)]),
                Message.user([ImagePart(url="gs://b/cat.jpg", media_type="image/jpeg")]),
            ]
        },
        [
            gt.Content(
                role="user",
                parts=[
                    gt.Part(text="What?"),
                    gt.Part(inline_data=gt.Blob(mime_type="image/png", data=PNG)),
                    gt.Part(
                        file_data=gt.FileData(mime_type="image/jpeg", file_uri="gs://b/cat.jpg")
                    ),
                ],
            )
        ],
        None,
    ),
    **{
        f"tools-{choice}": (
            {"messages": [Message.user("Weather?")], "tools": [TOOL], "tool_choice": choice},
            [user("Weather?")],
            gt.GenerateContentConfig(
                tools=[GENAI_TOOL],
                tool_config=gt.ToolConfig(
                    function_calling_config=gt.FunctionCallingConfig(
                        mode=mode,  # type: ignore[arg-type]
                        allowed_function_names=["get_weather"] if choice == "get_weather" else None,
                    )
                ),
            ),
        )
        for choice, mode in [
            ("auto", "AUTO"),
            ("none", "NONE"),
            ("required", "ANY"),
            ("get_weather", "ANY"),
        ]
    },
    "tool-history-with-signature": (
        {
            "messages": [
                Message.user("Weather?"),
                SIGNED_ANSWER,
                Message.tool("call_0", '{"temp": 21}'),
            ],
            "tools": [TOOL],
        },
        [
            user("Weather?"),
            gt.Content(
                role="model",
                parts=[
                    gt.Part(
                        function_call=gt.FunctionCall(name="get_weather", args={"city": "Paris"}),
                        thought_signature=base64.b64decode(SIGNATURE),
                    )
                ],
            ),
            gt.Content(
                role="user",
                parts=[
                    gt.Part(
                        function_response=gt.FunctionResponse(
                            name="get_weather", response={"temp": 21}
                        )
                    )
                ],
            ),
        ],
        gt.GenerateContentConfig(tools=[GENAI_TOOL]),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_modelwire_sends_what_google_genai_sends(case: str) -> None:
    fields, contents, config = CASES[case]
    assert modelwire_body(fields) == genai_body(contents, config)
