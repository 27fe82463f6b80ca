"""A client's configuration, resolved once, and each call planned from it as an
`HTTPCall` (method, URL, headers, body, timeouts); then the bodies that come back, parsed
into unified responses. Pure: the drivers only send what is planned here."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypedDict
from urllib.parse import quote, urlsplit

from .._framing import DEFAULT_MAX_LINE_BYTES, Decoder, make_decoder
from .._version import __version__
from ..auth import Auth
from ..dialects import get_dialect
from ..dialects.base import (
    BODY_NAMES,
    Dialect,
    WireKind,
    parse_structured,
    parse_tokenize,
    tokenize_body,
)
from ..errors import ProviderError, RequestValidationError, UnexpectedResponseError
from ..hooks import NO_HOOKS, Hooks, Operation, StartEvent
from ..retries import RetryPolicy
from ..spec import ProviderSpec, first_env
from ..types import (
    CompletionRequest,
    CompletionResponse,
    EmbeddingResponse,
    ModelInfo,
    Timeout,
    TokenCount,
)
from . import validation
from .policy import (
    CallSecrets,
    Credential,
    Headers,
    add_query,
    basic_auth,
    credential_for,
    is_secret_header,
    join_url,
    redact,
    scrub_error,
    secrets_of,
    split_userinfo,
)
from .stream import StreamOpening
from .watch import CallWatch

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ..limits import Limits, RateLimiter

USER_AGENT = f"modelwire/{__version__}"


class ClientSettings(TypedDict, total=False):
    """What every client takes at construction, besides its HTTP client: each provider's
    class adds its own settings (e.g. OpenAI's `organization`) to these."""

    api_key: str | None
    # where the credential goes, or a token provider (default: where the spec says)
    auth: Auth | None
    base_url: str | None
    model: str | None
    timeout: float | Timeout | None
    max_retries: int | RetryPolicy | None
    default_headers: Mapping[str, str] | None
    allow_insecure_http: bool
    max_line_bytes: int | None
    hooks: Hooks | None
    # client-side limits (modelwire.limits): a Limits of its own, or a limiter shared with
    # other clients; the client takes it before the rest reach ClientConfig
    limits: Limits | RateLimiter | None
    # the provider's own settings by name (the same as passing them as keywords)
    settings: Mapping[str, str | None] | None


_CLIENT_SETTINGS = frozenset(ClientSettings.__annotations__)


@dataclass(frozen=True, slots=True)
class HTTPCall:
    """One planned request, with the timeouts and retry policy it is sent under."""

    method: str
    url: str
    headers: dict[str, str] = field(repr=False)
    content: bytes | None
    stream: bool
    timeout: Timeout
    retry: RetryPolicy
    # the model asked for, for hooks and logs
    model: str | None = None
    # every credential the call carries, redacted from whatever the peer says back
    secrets: Sequence[str] = field(default=(), repr=False)
    # a credential the driver adds to each attempt (a token, a key in the query)
    credential: Credential | None = field(default=None, repr=False)
    # the driver signs each attempt (AWS SigV4: the signature covers the date and body),
    # after adding the credential above, so that the signature covers it too
    signed: bool = False

    def authorize(
        self, url: str, headers: Mapping[str, str], value: str
    ) -> tuple[str, Mapping[str, str]]:
        """One attempt's URL and headers with the credential `value` (a token provider's
        token joins the secrets redacted from what comes back)."""
        assert self.credential is not None
        if self.credential.provider is not None and isinstance(self.secrets, CallSecrets):
            self.secrets.add(value)
        return self.credential.apply(url, headers, value)


# the Accept header of a stream, by the spec's stream format
_STREAM_MEDIA = {
    "sse": "text/event-stream",
    "ndjson": "application/x-ndjson",
    "eventstream": "application/vnd.amazon.eventstream",
}


def _normalize_base_url(value: str) -> str:
    # OLLAMA_HOST is often given as host:port with no scheme
    if "://" not in value:
        value = "http://" + value
    return value.rstrip("/")


@dataclass(slots=True)
class ClientConfig:
    """Everything a client resolved at construction: the spec, its dialect, the URL, the
    model sent when a call names none, headers, timeouts, retries and hooks."""

    spec: ProviderSpec
    dialect: Dialect
    base_url: str
    model: str | None
    headers: dict[str, str] = field(repr=False)
    timeout: Timeout
    retry: RetryPolicy
    max_line_bytes: int
    hooks: Hooks
    api_key: str | None = field(default=None, repr=False)
    # the credentials (key, secret settings and headers, a base_url password): never shown
    secrets: tuple[str, ...] = field(default=(), repr=False)
    # where the key goes, or the token provider that gives one per attempt
    credential: Credential = field(default=Credential(None, None, None), repr=False)
    # the settings sent as query parameters of every request (Azure's api-version)
    query: dict[str, str] = field(default_factory=dict)
    # the settings that filled the base URL's placeholders (Bedrock's region)
    url_settings: dict[str, str] = field(default_factory=dict)
    # without a key: the AWS service every request is signed for (SigV4), by the driver
    sigv4_service: str | None = None

    @classmethod
    def create(cls, spec: ProviderSpec, **settings: Unpack[ClientSettings]) -> ClientConfig:
        # a provider's own settings come as keywords too; the spec names which it has
        given: dict[str, Any] = dict(settings)
        validation.check_client_settings(spec, given)
        own = {k: given.pop(k) for k in list(given) if k not in _CLIENT_SETTINGS}
        own.update(given.pop("settings", None) or {})
        validation.check_settings(spec, list(own))

        auth = given.get("auth")
        validation.check_auth(spec, auth)
        api_key = None
        if spec.auth.type != "none" or auth is not None:
            api_key = given.get("api_key") or spec.auth.key_from_env()
        credential = credential_for(spec, auth, api_key)
        if credential.provider is None:
            validation.check_api_key(spec, api_key)
        env_url = os.environ.get(spec.base_url_env) if spec.base_url_env else None
        template = given.get("base_url") or env_url or spec.base_url
        # the settings that fill the URL's placeholders (Bedrock's region): needed where the
        # URL has their placeholder, kept when given (SigV4 signs for the region)
        url_settings: dict[str, str] = {}
        for setting in spec.settings:
            if setting.in_base_url:
                value = own.get(setting.name) or first_env(setting.envs) or setting.default
                placeholder = "{" + setting.name + "}"
                if value is not None or placeholder in template:
                    value = validation.check_url_setting(spec, setting, value)
                    url_settings[setting.name] = value
                    template = template.replace(placeholder, value)
        given_url = _normalize_base_url(template)
        # a placeholder no setting fills (Azure's resource) needs the user's own base URL
        validation.check_base_url_filled(spec, given_url)
        # user:password@ is HTTP Basic auth, sent as a header; the URL never holds it
        base_url, user, password = split_userinfo(given_url)
        # the password as sent (decoded) and as written in the URL (percent-encoded)
        secret_values = [api_key, password, urlsplit(given_url).password]

        headers = Headers({"User-Agent": USER_AGENT, "Accept": "application/json"})
        headers.update(spec.headers)
        query: dict[str, str] = {}
        for setting in spec.settings:
            if setting.in_base_url:
                continue  # filled into the base URL above
            value = own.get(setting.name)
            if value is None:
                value = first_env(setting.envs)
            value = value or setting.default
            if value:
                if setting.query is not None:
                    query[setting.query] = value
                else:
                    assert setting.header is not None  # one of the two, by the spec
                    headers[setting.header] = value
                if setting.secret:
                    secret_values.append(value)
        headers.update(given.get("default_headers") or {})
        validation.check_headers(spec, headers, "the client's headers", is_secret_header)
        # what the key adds to every request (a token provider's tokens come per attempt)
        key_headers = {} if credential.provider is not None else credential.headers(api_key)
        validation.check_headers(spec, key_headers, "the API key", lambda _: True)
        if user is not None:
            validation.check_basic_auth(spec, {**headers, **key_headers})
            headers["Authorization"] = basic_auth(user, password)
        secret_values.extend(v for k, v in headers.items() if is_secret_header(k))

        # signed only with no other credential (a key, a password, a token provider)
        signs = not api_key and user is None and credential.provider is None
        sigv4_service = spec.auth.sigv4_service if signs else None
        allow_insecure = bool(given.get("allow_insecure_http", False))
        has_credentials = (
            bool(api_key)
            or user is not None
            or credential.provider is not None
            or sigv4_service is not None
        )
        if credential.provider is not None:
            what = "a token provider's tokens"
        else:
            what = "an API key" if api_key else "base_url's user name and password"
        validation.check_transport_security(spec, base_url, has_credentials, allow_insecure, what)
        validation.check_proxy_security(
            spec, base_url, has_credentials, allow_insecure, os.environ, what
        )
        max_retries = given.get("max_retries")
        if not isinstance(max_retries, RetryPolicy):
            validation.check_max_retries(spec, max_retries)
        return cls(
            spec=spec,
            dialect=get_dialect(spec.dialect),
            base_url=base_url,
            model=given.get("model") or spec.default_model,
            headers=headers,
            timeout=Timeout.coerce(given.get("timeout")),
            retry=RetryPolicy.coerce(max_retries),
            max_line_bytes=given.get("max_line_bytes") or DEFAULT_MAX_LINE_BYTES,
            hooks=given.get("hooks") or NO_HOOKS,
            api_key=api_key,
            secrets=secrets_of(secret_values),
            credential=credential,
            query=query,
            url_settings=url_settings,
            sigv4_service=sigv4_service,
        )

    def describe(self) -> str:
        """For reprs: never the key itself."""
        return (
            f"base_url={self.base_url!r}, model={self.model!r}, "
            f"api_key={redact(self.api_key) if self.api_key else None!r}"
        )

    # ----------------------------------------------------------------- planning calls

    def request(
        self, request: CompletionRequest | Mapping[str, Any] | None, fields: Mapping[str, Any]
    ) -> CompletionRequest:
        """One request from a request object and/or keyword fields, validated."""
        return validation.request_from(self.spec, self.model, request, fields)

    def _call(
        self,
        method: str,
        path: str,
        body: Any,
        *,
        stream: bool = False,
        model: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | Timeout | None = None,
        max_retries: int | None = None,
        content_type: str = "application/json",
        query: Mapping[str, str] | None = None,
    ) -> HTTPCall:
        headers = Headers(self.headers)
        credential = self.credential
        if not credential.per_attempt:
            headers.update(credential.headers(self.api_key))
        if "{model}" in path:
            assert model is not None  # validation gives every call that sends a model one
            path = path.replace("{model}", quote(model, safe=""))
        content = None
        if body is not None:
            # bytes are a body made already (a multipart form); anything else is JSON
            content = body if isinstance(body, bytes) else validation.encode_body(self.spec, body)
            headers["Content-Type"] = content_type
        if stream:
            headers["Accept"] = _STREAM_MEDIA[self.spec.stream_format]
        secrets: Sequence[str] = self.secrets
        if extra_headers:
            validation.check_headers(
                self.spec,
                extra_headers,
                "extra_headers",
                is_secret_header,
                RequestValidationError,
            )
            headers.update(extra_headers)
            extra = [v for k, v in extra_headers.items() if is_secret_header(k)]
            if extra:
                secrets = secrets_of([*secrets, *extra])
        if credential.provider is not None:
            secrets = CallSecrets(secrets)  # grows by each token the provider gives
        idempotency = self.spec.idempotency_header
        given = {name.lower() for name in headers}
        if idempotency and method != "GET" and idempotency.lower() not in given:
            # one key per call: the retries of this call repeat it, a new call gets its own
            headers[idempotency] = f"modelwire-{uuid.uuid4()}"
        # a per-call max_retries keeps the client's delays
        retry = self.retry if max_retries is None else replace(self.retry, max_retries=max_retries)
        return HTTPCall(
            method,
            add_query(join_url(self.base_url, path), {**self.query, **(query or {})}),
            headers,
            content,
            stream,
            Timeout.coerce(timeout, self.timeout),
            retry,
            model,
            secrets,
            credential if credential.per_attempt else None,
            self.sigv4_service is not None,
        )

    def plan(
        self, method: str, path: str, body: Any = None, content_type: str = "application/json"
    ) -> HTTPCall:
        """A call with the client's headers, timeouts and retries, for the provider's APIs
        besides chat (its batch API): `body` is sent as JSON, or as it is when bytes."""
        return self._call(method, path, body, content_type=content_type)

    def chat_call(self, request: CompletionRequest, *, stream: bool) -> HTTPCall:
        validation.check_request(self.spec, request, stream=stream)
        return self._call(
            "POST",
            self.spec.endpoints.chat_path(stream=stream),
            self.dialect.build_request(request, self.spec, stream=stream),
            stream=stream,
            model=request.model,
            extra_headers=request.extra_headers,
            timeout=request.timeout,
            max_retries=request.max_retries,
        )

    def count_tokens_call(self, request: CompletionRequest) -> HTTPCall:
        """The POST that counts a request's input tokens, checked like the request itself."""
        counting = validation.check_token_count(self.spec)
        validation.check_request(self.spec, request, stream=False)
        if counting.body == "tokenize":
            body = tokenize_body(request)
        else:
            body = self.dialect.build_token_count_request(request, self.spec)
        call = self._call(
            "POST",
            counting.path,
            body,
            model=request.model,
            extra_headers=request.extra_headers,
            timeout=request.timeout,
            max_retries=request.max_retries,
        )
        if counting.from_root:
            parts = urlsplit(self.base_url)
            root = join_url(f"{parts.scheme}://{parts.netloc}", counting.path)
            call = replace(call, url=add_query(root, self.query))
        return call

    def parse_token_count(self, request: CompletionRequest, content: bytes) -> TokenCount:
        body = self._body("token_count", content)
        counting = self.spec.endpoints.count_tokens
        if counting is not None and counting.body == "tokenize":
            count = parse_tokenize(body, self.spec)
        else:
            count = self.dialect.parse_token_count(body, self.spec)
        count.model = request.model
        return count

    def models_call(self, cursor: str | None = None) -> HTTPCall:
        """The GET of one page of models: the first, or the one after `cursor`."""
        path = validation.check_models(self.spec)
        listing = self.spec.models_list
        query: dict[str, str] = {}
        if listing.page_size_param and listing.page_size is not None:
            query[listing.page_size_param] = str(listing.page_size)
        if cursor is not None and listing.cursor_param:
            query[listing.cursor_param] = cursor
        return self._call("GET", path, None, query=query)

    def model_pages(self) -> ModelPages:
        """The model listing, page by page: see `ModelPages`."""
        validation.check_models(self.spec)
        return ModelPages(self)

    def embeddings_call(
        self, inputs: str | Sequence[str], model: str | None, options: Mapping[str, Any]
    ) -> HTTPCall:
        items, chosen = validation.embedding_inputs(self.spec, inputs, model or self.model)
        body = self.dialect.build_embeddings_request(items, chosen, dict(options))
        assert self.spec.endpoints.embeddings is not None  # checked above
        return self._call("POST", self.spec.endpoints.embeddings, body, model=chosen)

    def watch(
        self, call: HTTPCall, operation: Operation, request: CompletionRequest | None = None
    ) -> CallWatch | None:
        """The per-call hooks' watch of one call, started now; None (nothing is kept, nothing
        is timed) when no per-call hook is set."""
        if not self.hooks.watches_calls:
            return None
        start = StartEvent(
            self.spec.name,
            self.spec.dialect,
            operation,
            call.url,
            call.model,
            call.stream,
            request,
        )
        return CallWatch(self.hooks, start)

    # ----------------------------------------------------------------- reading answers

    def new_decoder(self) -> Decoder:
        return make_decoder(self.spec.stream_format, self.max_line_bytes)

    def stream_opening(self) -> StreamOpening:
        """What reads a stream's first events for the call flow (see `StreamOpening`)."""
        return StreamOpening(self.new_decoder(), self.dialect.stream_parser(self.spec))

    def finisher(
        self, request: CompletionRequest
    ) -> Callable[[CompletionResponse], CompletionResponse]:
        """What turns a parsed or accumulated response into the one returned to the user."""
        if request.response_format is None:
            return _unchanged
        provider = self.spec.name

        def finish(response: CompletionResponse) -> CompletionResponse:
            response.parsed = parse_structured(request, response, provider)
            return response

        return finish

    def parse_completion(self, request: CompletionRequest, content: bytes) -> CompletionResponse:
        body = self._body("response", content)
        return self.finisher(request)(self.dialect.parse_response(body, self.spec))

    def parse_models(self, content: bytes) -> list[ModelInfo]:
        return self.parse_models_page(content)[0]

    def parse_models_page(self, content: bytes) -> tuple[list[ModelInfo], str | None]:
        """One page's models, and the cursor of the next page (None on the last)."""
        body = self._body("models", content)
        models = self.dialect.parse_models(body, self.spec)
        return models, next_models_cursor(self.spec, body)

    def parse_embeddings(self, content: bytes) -> EmbeddingResponse:
        return self.dialect.parse_embeddings(self._body("embeddings", content), self.spec)

    def _body(self, kind: WireKind, content: bytes) -> Any:
        error: UnexpectedResponseError
        try:
            body = json.loads(content)
        except ValueError as exc:
            error = UnexpectedResponseError(
                f"the {BODY_NAMES[kind]} is not JSON ({exc}): {content[:200]!r}",
                provider=self.spec.name,
            )
        except RecursionError:
            error = UnexpectedResponseError(
                f"the {BODY_NAMES[kind]} nests its JSON too deep to decode: {content[:50]!r}...",
                provider=self.spec.name,
            )
        else:
            if kind == "models" and self.spec.models_list.array:
                if not isinstance(body, list):
                    raise scrub_error(
                        UnexpectedResponseError(
                            f"the models response is not the JSON array "
                            f"{self.spec.display_name} answers: {content[:200]!r}",
                            provider=self.spec.name,
                            body=body,
                        ),
                        self.secrets,
                    )
                body = {"data": body}
            try:
                self.dialect.check_wire(kind, body, self.spec.name)
            except ProviderError as exc:
                raise scrub_error(exc, self.secrets) from None
            return body
        # raised here, not in the handler, so that it holds no decoder exception
        raise scrub_error(error, self.secrets)


def _unchanged(response: CompletionResponse) -> CompletionResponse:
    return response


# the most pages one listing follows: a server that never stops paging is an error
MAX_MODEL_PAGES = 1000


def next_models_cursor(spec: ProviderSpec, body: Any) -> str | None:
    """The cursor of the page after this one, by the spec's `models_list`; None when this
    page is the last (or the provider does not page)."""
    listing = spec.models_list
    if listing.pagination == "none" or not isinstance(body, dict):
        return None
    if listing.has_more is not None and body.get(listing.has_more) is not True:
        return None
    assert listing.next_cursor is not None  # checked by the spec
    cursor = body.get(listing.next_cursor)
    if cursor is None or cursor == "":
        return None
    if not isinstance(cursor, (str, int)) or isinstance(cursor, bool):
        raise UnexpectedResponseError(
            f"the models page's {listing.next_cursor!r} is {type(cursor).__name__}, not a string",
            provider=spec.name,
            body=body,
        )
    return str(cursor)


class ModelPages:
    """A model listing followed page by page, with no I/O: `next_call()` plans the GET of
    the next page (None once the last has been read), `add()` reads one page's body.

    The drivers loop `while (call := pages.next_call()) is not None: pages.add(send(call))`
    and return `pages.models`. A cursor that comes back twice, or more than
    `MAX_MODEL_PAGES` pages, raises `UnexpectedResponseError` instead of looping forever.
    """

    __slots__ = ("_config", "_cursor", "_done", "_pages", "_seen", "models")

    def __init__(self, config: ClientConfig) -> None:
        self._config = config
        self._cursor: str | None = None
        self._done = False
        self._pages = 0
        self._seen: set[str] = set()
        self.models: list[ModelInfo] = []

    def next_call(self) -> HTTPCall | None:
        if self._done:
            return None
        return self._config.models_call(self._cursor)

    def add(self, content: bytes) -> None:
        models, cursor = self._config.parse_models_page(content)
        self.models.extend(models)
        self._pages += 1
        spec = self._config.spec
        if cursor is None:
            self._done = True
            return
        if cursor in self._seen:
            raise UnexpectedResponseError(
                f"the models listing of {spec.display_name} gave the cursor {cursor!r} twice: "
                "its pages do not advance",
                provider=spec.name,
            )
        if self._pages >= MAX_MODEL_PAGES:
            raise UnexpectedResponseError(
                f"the models listing of {spec.display_name} did not end after "
                f"{MAX_MODEL_PAGES} pages",
                provider=spec.name,
            )
        self._seen.add(cursor)
        self._cursor = cursor
