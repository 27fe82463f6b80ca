"""The pure half of every client: configuration resolved once, and each call planned as an
`HTTPCall` (method, URL, headers, body, timeouts). The sync and async shells only send it."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..dialects import get_dialect
from ..dialects.base import Dialect, WireKind, parse_structured
from ..errors import (
    CapabilityError,
    ConfigurationError,
    OutputValidationError,
    RequestValidationError,
    UnexpectedResponseError,
)
from ..spec import ProviderSpec
from ..types import CompletionRequest, CompletionResponse, EmbeddingResponse, ModelInfo
from .decoder import DEFAULT_MAX_LINE_BYTES, Decoder, make_decoder
from .policy import (
    DEFAULT_MAX_RETRIES,
    RetryPolicy,
    Timeout,
    auth_headers,
    check_transport_security,
    join_url,
    redact,
)
from .validation import validate_request

USER_AGENT = "modelwire/0.1.0"


@dataclass(frozen=True, slots=True)
class HTTPCall:
    """One planned request. `timeout` is (connect, read, write) for this attempt."""

    method: str
    url: str
    headers: dict[str, str] = field(repr=False)
    content: bytes | None
    stream: bool
    timeout: Timeout
    retry: RetryPolicy


def _normalize_base_url(value: str) -> str:
    # OLLAMA_HOST is often given as host:port with no scheme
    if "://" not in value:
        value = "http://" + value
    return value.rstrip("/")


@dataclass(slots=True)
class ClientConfig:
    spec: ProviderSpec
    dialect: Dialect
    base_url: str
    model: str | None
    headers: dict[str, str]
    timeout: Timeout
    retry: RetryPolicy
    max_line_bytes: int
    allow_insecure_http: bool
    api_key: str | None = field(default=None, repr=False)

    @classmethod
    def create(
        cls,
        spec: ProviderSpec,
        *,
        api_key: str | None,
        base_url: str | None,
        model: str | None,
        timeout: float | Timeout | None,
        max_retries: int | RetryPolicy | None,
        default_headers: Mapping[str, str] | None,
        settings: Mapping[str, str | None] | None = None,
        allow_insecure_http: bool = False,
        max_line_bytes: int | None = None,
    ) -> ClientConfig:
        if spec.auth.type != "none":
            api_key = api_key or (os.environ.get(spec.auth.env) if spec.auth.env else None)
            if not api_key and spec.auth.required:
                raise ConfigurationError(
                    f"{spec.display_name} needs an API key: pass api_key= or set {spec.auth.env}",
                    provider=spec.name,
                )
        else:
            api_key = None
        env_url = os.environ.get(spec.base_url_env) if spec.base_url_env else None
        resolved_url = _normalize_base_url(base_url or env_url or spec.base_url)
        check_transport_security(resolved_url, bool(api_key), allow_insecure_http, spec.name)

        headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **spec.headers}
        for setting in spec.settings:
            value = (settings or {}).get(setting.name)
            if value is None and setting.env:
                value = os.environ.get(setting.env)
            if value:
                headers[setting.header] = value
        headers.update(default_headers or {})
        if isinstance(max_retries, RetryPolicy):
            retry = max_retries
        elif max_retries is not None and max_retries < 0:
            raise ConfigurationError("max_retries must be 0 or more", provider=spec.name)
        else:
            retry = RetryPolicy(
                max_retries=DEFAULT_MAX_RETRIES if max_retries is None else max_retries
            )
        return cls(
            spec=spec,
            dialect=get_dialect(spec.dialect),
            base_url=resolved_url,
            # what is sent when a call names no model
            model=model or spec.default_model,
            headers=headers,
            timeout=Timeout.coerce(timeout),
            retry=retry,
            max_line_bytes=max_line_bytes or DEFAULT_MAX_LINE_BYTES,
            allow_insecure_http=allow_insecure_http,
            api_key=api_key,
        )

    def describe(self) -> str:
        """For reprs: never the key itself."""
        return (
            f"base_url={self.base_url!r}, model={self.model!r}, "
            f"api_key={redact(self.api_key) if self.api_key else None!r}"
        )

    # ----------------------------------------------------------------- requests

    def prepare(
        self, request: CompletionRequest | Mapping[str, Any] | None, kwargs: Mapping[str, Any]
    ) -> CompletionRequest:
        """Merges a request object and keyword arguments, fills defaults, validates."""
        if request is None:
            data: dict[str, Any] = {}
        elif isinstance(request, CompletionRequest):
            data = {k: getattr(request, k) for k in request.model_fields_set}
            data["options"] = dict(request.options)
        elif isinstance(request, Mapping):
            data = dict(request)
        else:
            raise RequestValidationError(
                f"request must be a CompletionRequest or a dict, not {type(request).__name__}",
                provider=self.spec.name,
            )
        data.update((k, v) for k, v in kwargs.items() if v is not None)
        # anything that is not a unified field is a provider option, checked by the spec
        options = {name: data.pop(name) for name in list(data) if name not in _REQUEST_FIELDS}
        if options:
            data["options"] = {**(data.get("options") or {}), **options}
        if not data.get("model"):
            data["model"] = self.model
        if "messages" not in data:
            raise RequestValidationError(
                "no messages given: pass messages=[{'role': 'user', 'content': '...'}]",
                provider=self.spec.name,
            )
        try:
            prepared = CompletionRequest.model_validate(data)
        except ValueError as exc:
            raise RequestValidationError(
                f"invalid request: {exc}", provider=self.spec.name
            ) from None
        validate_request(self.spec, prepared)
        return prepared

    def _call(
        self,
        method: str,
        path: str,
        body: Any,
        *,
        stream: bool = False,
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | Timeout | None = None,
        max_retries: int | None = None,
    ) -> HTTPCall:
        headers = {**self.headers, **auth_headers(self.spec, self.api_key)}
        content = None
        if body is not None:
            content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        if stream:
            headers["Accept"] = (
                "text/event-stream" if self.spec.stream_format == "sse" else "application/x-ndjson"
            )
        if extra_headers:
            headers.update(extra_headers)
        policy = Timeout.coerce(timeout, self.timeout)
        if max_retries is not None and max_retries < 0:
            raise RequestValidationError("max_retries must be 0 or more", provider=self.spec.name)
        # a per-call max_retries keeps the client's delays
        retry = self.retry if max_retries is None else replace(self.retry, max_retries=max_retries)
        return HTTPCall(
            method, join_url(self.base_url, path), headers, content, stream, policy, retry
        )

    def chat_call(self, request: CompletionRequest, *, stream: bool) -> HTTPCall:
        if stream and not self.spec.capabilities.streaming:
            raise CapabilityError(
                f"{self.spec.display_name} does not stream: use complete()",
                provider=self.spec.name,
            )
        body = self.dialect.build_request(request, self.spec, stream=stream)
        return self._call(
            "POST",
            self.spec.endpoints.chat,
            body,
            stream=stream,
            extra_headers=request.extra_headers,
            timeout=request.timeout,
            max_retries=request.max_retries,
        )

    def models_call(self) -> HTTPCall:
        if not self.spec.endpoints.models:
            raise CapabilityError(
                f"{self.spec.display_name} has no model-listing endpoint", provider=self.spec.name
            )
        return self._call("GET", self.spec.endpoints.models, None)

    def embeddings_call(
        self, inputs: str | Sequence[str], model: str | None, options: Mapping[str, Any]
    ) -> HTTPCall:
        if not self.spec.capabilities.embeddings or not self.spec.endpoints.embeddings:
            raise CapabilityError(
                f"{self.spec.display_name} serves no embeddings through this API",
                provider=self.spec.name,
            )
        items = [inputs] if isinstance(inputs, str) else list(inputs)
        if not items:
            raise RequestValidationError(
                "embed() needs at least one input", provider=self.spec.name
            )
        chosen = model or self.model
        if not chosen:
            raise RequestValidationError("no model given: pass model=", provider=self.spec.name)
        body = self.dialect.build_embeddings_request(items, chosen, dict(options))
        return self._call("POST", self.spec.endpoints.embeddings, body)

    # ----------------------------------------------------------------- responses

    def new_decoder(self) -> Decoder:
        return make_decoder(self.spec.stream_format, self.max_line_bytes)

    def finisher(
        self, request: CompletionRequest
    ) -> Callable[[CompletionResponse], CompletionResponse]:
        """What turns a parsed or accumulated response into the one returned to the user."""

        def finish(response: CompletionResponse) -> CompletionResponse:
            if request.response_format is not None:
                try:
                    response.parsed = parse_structured(request, response)
                except OutputValidationError as exc:
                    exc.provider = self.spec.name
                    raise
            return response

        return finish

    def parse_completion(self, request: CompletionRequest, content: bytes) -> CompletionResponse:
        body = self._body("response", content)
        return self.finisher(request)(self.dialect.parse_response(body, self.spec))

    def parse_models(self, content: bytes) -> list[ModelInfo]:
        return self.dialect.parse_models(self._body("models", content), self.spec)

    def parse_embeddings(self, content: bytes) -> EmbeddingResponse:
        return self.dialect.parse_embeddings(self._body("embeddings", content), self.spec)

    def _body(self, kind: WireKind, content: bytes) -> Any:
        try:
            body = json.loads(content)
        except ValueError as exc:
            raise UnexpectedResponseError(
                f"the {kind} response is not JSON ({exc}): {content[:200]!r}",
                provider=self.spec.name,
            ) from None
        try:
            self.dialect.check_wire(kind, body)
        except UnexpectedResponseError as exc:
            exc.provider = self.spec.name
            raise
        return body


_REQUEST_FIELDS = frozenset(CompletionRequest.model_fields)
