"""AWS SigV4 signing (`modelwire._client._sigv4`): each attempt signed as botocore's own
signer signs it, credentials from botocore's chain, and what happens without them."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import botocore.auth
import httpx
import modelwire
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from modelwire._client._sigv4 import SigV4Signer
from modelwire.dialects.base import Answer
from modelwire.dialects.bedrock_converse import WRITER
from modelwire.errors import AuthenticationError, ConfigurationError

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "FwoGZXIvYXdzEXAMPLESESSIONTOKENvalue"
WHEN = datetime.datetime(2025, 1, 2, 3, 4, 5)
URL = "https://bedrock-runtime.us-east-1.amazonaws.com/model/us.amazon.nova-micro-v1%3A0/converse"


def botocore_signature(
    method: str, url: str, headers: dict[str, str], body: bytes, token: str | None, when: Any
) -> dict[str, str]:
    """What botocore's SigV4Auth.add_auth puts on the same request at the same time."""
    request = AWSRequest(method=method, url=url, headers=dict(headers), data=body)
    credentials = Credentials(ACCESS_KEY, SECRET_KEY, token)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=when):
        botocore.auth.SigV4Auth(credentials, "bedrock", "us-east-1").add_auth(request)
    return dict(request.headers.items())


@pytest.mark.parametrize("token", [None, SESSION_TOKEN])
def test_the_signature_is_botocores_for_a_fixed_clock(token: str | None) -> None:
    headers = {"Content-Type": "application/json", "User-Agent": "modelwire/test"}
    body = b'{"messages": []}'
    signer = SigV4Signer(
        "bedrock", "us-east-1", Credentials(ACCESS_KEY, SECRET_KEY, token), clock=lambda: WHEN
    )
    signed = signer.sign("POST", URL, headers, body)
    expected = botocore_signature("POST", URL, headers, body, token, WHEN)
    assert signed["Authorization"] == expected["Authorization"]
    assert signed["Authorization"].startswith(
        f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20250102/us-east-1/bedrock/aws4_request"
    )
    assert signed["X-Amz-Date"] == "20250102T030405Z"
    assert signed.get("X-Amz-Security-Token") == token
    # the signature covers the body: another body, another signature
    other = signer.sign("POST", URL, headers, b"{}")
    assert other["Authorization"] != signed["Authorization"]
    assert SECRET_KEY not in repr(signed) and SECRET_KEY not in repr(signer)


def test_a_signing_failure_is_a_typed_error() -> None:
    class Broken:
        def get_frozen_credentials(self) -> Any:
            raise RuntimeError("the role could not be assumed")

    signer = SigV4Signer("bedrock", "us-east-1", Broken(), provider="bedrock")
    with pytest.raises(AuthenticationError, match="signing the request with AWS SigV4 failed"):
        signer.sign("POST", URL, {}, b"")


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """AWS credentials from the environment alone: no files, no instance metadata."""
    for name in ("AWS_BEARER_TOKEN_BEDROCK", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    return monkeypatch


def check_signed(request: httpx.Request) -> None:
    """The request as sent carries botocore's signature of its own signed headers."""
    authorization = request.headers["authorization"]
    signed_names = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
    assert "x-amz-date" in signed_names and "x-amz-security-token" in signed_names
    unsigned = ("authorization", "x-amz-date", "x-amz-security-token")
    headers = {n: request.headers[n] for n in signed_names if n not in unsigned}
    when = datetime.datetime.strptime(request.headers["x-amz-date"], "%Y%m%dT%H%M%SZ")
    expected = botocore_signature(
        request.method, str(request.url), headers, request.content, SESSION_TOKEN, when
    )
    assert authorization == expected["Authorization"]


def answers(first_status: int) -> tuple[list[httpx.Request], Any]:
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if len(sent) == 1 and first_status != 200:
            body = WRITER.error_body(first_status, f"busy; {SESSION_TOKEN} {SECRET_KEY}")
            return httpx.Response(first_status, content=body)
        return httpx.Response(200, content=WRITER.response(Answer(chunks=["Hi"])))

    return sent, answer


def test_each_attempt_is_signed_by_the_sync_client(aws_env: pytest.MonkeyPatch) -> None:
    sent, answer = answers(503)
    http = httpx.Client(transport=httpx.MockTransport(answer))
    client = modelwire.Bedrock(http_client=http, max_retries=1)
    with mock.patch("modelwire._client._sync._sleep"):
        response = client.complete(messages=[{"role": "user", "content": "Hi"}])
    assert response.content == "Hi" and response.attempts == 2
    assert len(sent) == 2
    for request in sent:
        check_signed(request)
    # each attempt its own signature: the retry count header differs, and it is signed
    assert sent[0].headers["authorization"] != sent[1].headers["authorization"]
    assert SECRET_KEY not in repr(client) and SESSION_TOKEN not in repr(client)


async def test_each_attempt_is_signed_by_the_async_client(aws_env: pytest.MonkeyPatch) -> None:
    sent, answer = answers(400)
    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    client = modelwire.AsyncBedrock(http_client=http, region="us-west-2")
    with pytest.raises(modelwire.BadRequestError) as caught:
        await client.complete(messages=[{"role": "user", "content": "Hi"}])
    assert sent[0].url.host == "bedrock-runtime.us-west-2.amazonaws.com"
    assert "/us-west-2/bedrock/aws4_request" in sent[0].headers["authorization"]
    # what the server echoed of the credentials is redacted
    error = caught.value
    assert SESSION_TOKEN not in str(error) and SECRET_KEY not in str(error)
    assert SESSION_TOKEN not in repr(error.body) and "<redacted>" in str(error)


def test_a_bedrock_api_key_is_a_bearer_token_and_nothing_is_signed(
    aws_env: pytest.MonkeyPatch,
) -> None:
    aws_env.setenv("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-value")
    sent, answer = answers(200)
    client = modelwire.Bedrock(http_client=httpx.Client(transport=httpx.MockTransport(answer)))
    client.complete(messages=[{"role": "user", "content": "Hi"}])
    assert sent[0].headers["authorization"] == "Bearer bedrock-api-key-value"
    assert "x-amz-date" not in sent[0].headers
    assert "bedrock-api-key-value" not in repr(client)


def test_without_credentials_the_error_says_what_to_set(aws_env: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        aws_env.delenv(name)
    with pytest.raises(ConfigurationError, match="found no AWS credentials: set AWS_ACCESS_KEY_ID"):
        modelwire.Bedrock()


def test_without_botocore_the_error_names_the_extra(aws_env: pytest.MonkeyPatch) -> None:
    aws_env.setitem(sys.modules, "botocore.session", None)  # type: ignore[attr-defined]
    with pytest.raises(ConfigurationError, match=r'pip install "modelwire\[bedrock\]"'):
        modelwire.Bedrock()


def test_the_region_comes_from_a_setting_or_the_environment(aws_env: pytest.MonkeyPatch) -> None:
    aws_env.delenv("AWS_REGION")
    aws_env.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert modelwire.Bedrock().base_url == "https://bedrock-runtime.eu-west-1.amazonaws.com"
    assert modelwire.Bedrock(region="ap-south-1").base_url.endswith(".ap-south-1.amazonaws.com")
    aws_env.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(
        ConfigurationError, match=r"pass region=\.\.\. or set AWS_REGION or AWS_DEF"
    ):
        modelwire.Bedrock()
    with pytest.raises(ConfigurationError, match="'us east' is not a valid region"):
        modelwire.Bedrock(region="us east")
