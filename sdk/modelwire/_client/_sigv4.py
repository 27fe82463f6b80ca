"""AWS Signature Version 4 for the clients of a spec with `auth.sigv4_service` (Bedrock),
by botocore: its credential chain (environment, shared files and profiles, SSO, container
and instance roles) and its signer.

A signature covers the request's date, headers and body, so it is made for each attempt,
by the driver, just before it sends (`HTTPCall.signed`); the pure core plans the call
without it. botocore reads files and may fetch credentials over the network, which is why
it lives here, in the client layer, and is imported only by a client that signs.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from typing import Any

from .._core.calls import ClientConfig
from .._core.policy import Headers
from ..errors import AuthenticationError, ConfigurationError

INSTALL_HINT = 'pip install "modelwire[bedrock]"'

Clock = Callable[[], datetime.datetime]


class SigV4Signer:
    """Signs requests for one AWS service and region with botocore's SigV4 signer.

    `credentials` is a botocore `Credentials` (refreshable ones are refreshed as botocore
    does, when a signature needs them); `clock` gives the signing time (UTC).
    """

    __slots__ = ("_clock", "_credentials", "_provider", "region", "service")

    def __init__(
        self,
        service: str,
        region: str,
        credentials: Any,
        *,
        provider: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.service = service
        self.region = region
        self._credentials = credentials
        self._provider = provider
        self._clock = clock

    def __repr__(self) -> str:
        return f"SigV4Signer(service={self.service!r}, region={self.region!r})"

    def secret_values(self) -> list[str]:
        """What no error or log may show: the secret key and the session token."""
        frozen = self._credentials.get_frozen_credentials()
        return [value for value in (frozen.secret_key, frozen.token) if value]

    def sign(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> Headers:
        """`headers` with this attempt's `Authorization`, `X-Amz-Date` and (for temporary
        credentials) `X-Amz-Security-Token`."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        try:
            frozen = self._credentials.get_frozen_credentials()
            request = AWSRequest(method=method, url=url, headers=dict(headers), data=body or b"")
            signer = SigV4Auth(frozen, self.service, self.region)
            now = self._clock() if self._clock is not None else _utcnow()
            # add_auth's steps without its DEBUG logs, which print the canonical request
            # and with it the session token
            request.context["timestamp"] = now.strftime("%Y%m%dT%H%M%SZ")
            signer._modify_request_before_signing(request)
            canonical = signer.canonical_request(request)
            signature = signer.signature(signer.string_to_sign(request, canonical), request)
            signer._inject_signature_to_request(request, signature)
        except Exception as exc:  # botocore's refresh and signing errors, typed here
            raise AuthenticationError(
                f"signing the request with AWS SigV4 failed ({type(exc).__name__}): check the "
                "AWS credentials (environment, profile or role)",
                provider=self._provider,
            ) from None
        signed = Headers(headers)
        for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
            value = request.headers.get(name)
            if value is not None:
                signed[name] = value
        return signed


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def sigv4_signer(config: ClientConfig) -> SigV4Signer:
    """The signer of a client whose spec signs when it has no key, with credentials from
    botocore's chain; a clear error without botocore or without credentials."""
    spec = config.spec
    service = config.sigv4_service
    assert service is not None  # only called for a client that signs
    try:
        import botocore.session
    except ImportError:
        raise ConfigurationError(
            f"{spec.display_name} signs its requests with AWS SigV4 when it has no API key, "
            f"which needs botocore: {INSTALL_HINT}; or give a Bedrock API key "
            f"(api_key= or {spec.auth.env})",
            provider=spec.name,
        ) from None
    region = next((v for k, v in config.url_settings.items() if k == "region"), None)
    if region is None:
        raise ConfigurationError(
            f"{spec.display_name} needs a region to sign its requests: pass region=",
            provider=spec.name,
        )
    try:
        credentials = botocore.session.get_session().get_credentials()
    except Exception as exc:  # a broken profile or config file
        raise ConfigurationError(
            f"reading the AWS credentials failed ({type(exc).__name__}: {exc})",
            provider=spec.name,
        ) from None
    if credentials is None:
        raise ConfigurationError(
            f"{spec.display_name} found no AWS credentials: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or a role), or give a Bedrock API key "
            f"(api_key= or {spec.auth.env})",
            provider=spec.name,
        )
    return SigV4Signer(service, region, credentials, provider=spec.name)
