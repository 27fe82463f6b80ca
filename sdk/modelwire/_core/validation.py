"""Every check made before any I/O, driven by the spec: a client's configuration, each
request, and the model and embedding calls. Each raises a typed error whose message says
what to change, so nothing wrong is ever sent."""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from ..auth import Auth
from ..dialects.base import (
    structured_via_tool,
    thinking_budget,
    thinking_enabled,
)
from ..dialects.schemas import strict_schema
from ..errors import (
    CapabilityError,
    ConfigurationError,
    InsecureTransportError,
    ProviderError,
    RequestValidationError,
    TokenProviderError,
)
from ..hooks import Hooks
from ..retries import RetryPolicy
from ..spec import BatchesSpec, ProviderSpec, SettingSpec, TokenCountSpec
from ..types import CompletionRequest, DocumentPart, ImagePart, NamedToolChoice, Timeout

_REQUEST_FIELDS = frozenset(CompletionRequest.model_fields)


def _fail(spec: ProviderSpec, message: str) -> RequestValidationError:
    return RequestValidationError(message, provider=spec.name)


def _unsupported(spec: ProviderSpec, message: str) -> CapabilityError:
    return CapabilityError(message, provider=spec.name)


# --------------------------------------------------------------------------- the client


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_transport_security(
    spec: ProviderSpec,
    url: str,
    has_key: bool,
    allow_insecure: bool,
    credential: str = "an API key",
) -> None:
    parts = urlsplit(url)
    insecure = has_key and parts.scheme == "http" and not allow_insecure
    if insecure and not is_loopback(parts.hostname or ""):
        raise InsecureTransportError(
            f"refusing to send {credential} over plain http to {parts.hostname}: use "
            "https, or pass allow_insecure_http=True if this network is trusted",
            provider=spec.name,
        )


def check_proxy_security(
    spec: ProviderSpec,
    url: str,
    has_key: bool,
    allow_insecure: bool,
    environ: Mapping[str, str],
    credential: str = "an API key",
) -> None:
    """A plain-http base URL goes through the environment's http proxy (httpx reads
    HTTP_PROXY, ALL_PROXY and NO_PROXY), which then sees the key in the clear: refused
    unless that proxy is on loopback. An https URL is only tunnelled (CONNECT), so its
    proxy sees no key."""
    parts = urlsplit(url)
    if not has_key or allow_insecure or parts.scheme != "http":
        return
    proxy = proxy_for(parts.hostname or "", environ)
    if proxy is None:
        return
    proxy_host = urlsplit(proxy if "://" in proxy else "http://" + proxy).hostname or ""
    if not is_loopback(proxy_host):
        raise InsecureTransportError(
            f"refusing to send {credential} over plain http through the proxy at {proxy_host} "
            "(from HTTP_PROXY or ALL_PROXY): use an https base_url, add the host to NO_PROXY, "
            "or pass allow_insecure_http=True if the path to the proxy is trusted",
            provider=spec.name,
        )


def _env(environ: Mapping[str, str], name: str) -> str:
    # as urllib (and so httpx) reads them: lower case first
    return environ.get(name.lower()) or environ.get(name.upper()) or ""


def proxy_for(host: str, environ: Mapping[str, str]) -> str | None:
    """The proxy httpx sends a plain-http request to `host` through, from the environment
    (None: direct), following httpx's reading of NO_PROXY."""
    proxy = _env(environ, "http_proxy") or _env(environ, "all_proxy")
    if not proxy:
        return None
    host = host.strip("[]").lower()
    for entry in _env(environ, "no_proxy").split(","):
        entry = entry.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return None
        if "://" in entry:
            entry = urlsplit(entry).hostname or ""
        entry = entry.strip("[]")
        try:
            if "/" in entry and ipaddress.ip_address(host) in ipaddress.ip_network(entry, False):
                return None
        except ValueError:
            pass
        bare = entry.lstrip("*").lstrip(".")
        if host == bare or host.endswith("." + bare):
            return None
    return proxy


def check_api_key(spec: ProviderSpec, api_key: str | None) -> None:
    if not api_key and spec.auth.type != "none" and spec.auth.required:
        raise ConfigurationError(
            f"{spec.display_name} needs an API key: pass api_key= or set {spec.auth.env_names}",
            provider=spec.name,
        )


def check_auth(spec: ProviderSpec, auth: Auth | None) -> None:
    """A header `auth=` names can be sent (its value is checked with the key's)."""
    if auth is not None and auth.header is not None:
        check_headers(spec, {auth.header: "x"}, "auth=", lambda _: True)


def check_token(spec: ProviderSpec, token: object) -> str:
    """What a token provider returned, if it can be sent: a non-empty string of printable
    ASCII (it goes in a header or a URL). Its value is never shown."""
    if not isinstance(token, str):
        raise TokenProviderError(
            f"the token provider returned {type(token).__name__}, not a string: return the "
            "token itself (a str)",
            provider=spec.name,
        )
    if not token or not (token.isascii() and token.isprintable()):
        problem = "an empty string" if not token else "a token that is not printable ASCII"
        raise TokenProviderError(
            f"the token provider returned {problem}: a token is sent in a header and must be "
            "non-empty printable ASCII",
            provider=spec.name,
        )
    return token


def token_failed(spec: ProviderSpec, exc: BaseException) -> TokenProviderError:
    """The error for a token provider that raised: nothing has been sent."""
    return TokenProviderError(
        f"the token provider raised {type(exc).__name__}: {exc}; no request was sent",
        provider=spec.name,
    )


def check_base_url_filled(spec: ProviderSpec, base_url: str) -> None:
    """A spec's base URL with a `{placeholder}` (Azure's resource) needs the user's own."""
    if "{" in base_url or "}" in base_url:
        where = (
            f"pass base_url= or set {spec.base_url_env}"
            if spec.base_url_env
            else ("pass base_url=")
        )
        raise ConfigurationError(
            f"{spec.display_name} needs your own endpoint ({base_url} is only its shape): {where}",
            provider=spec.name,
        )


def check_url_setting(spec: ProviderSpec, setting: SettingSpec, value: object) -> str:
    """A setting that fills the base URL (Bedrock's region): given, and a DNS label."""
    if value is None or value == "":
        where = " or set " + " or ".join(setting.envs) if setting.envs else ""
        raise ConfigurationError(
            f"{spec.display_name} needs its {setting.name} (part of its URL): pass "
            f"{setting.name}=...{where}",
            provider=spec.name,
        )
    if not isinstance(value, str) or not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?", value):
        raise ConfigurationError(
            f"{setting.name}={value!r} is not a valid {setting.name} for {spec.display_name}: "
            "lower-case letters, digits and '-', such as 'us-east-1'",
            provider=spec.name,
        )
    return value


def check_basic_auth(spec: ProviderSpec, headers: Mapping[str, str]) -> None:
    """A base_url's `user:password@` is sent as HTTP Basic auth, in `Authorization`: not
    when the key or a header is already sent there."""
    taken = [name for name in headers if name.lower() == "authorization"]
    if taken:
        raise ConfigurationError(
            f"base_url holds a user name and password (HTTP Basic auth), and {spec.display_name} "
            "already sends its API key in the Authorization header: remove user:password@ "
            "from base_url, or leave api_key unset (and no Authorization in default_headers)",
            provider=spec.name,
        )


_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def check_headers(
    spec: ProviderSpec,
    headers: Mapping[str, str],
    where: str,
    secret: Callable[[str], bool],
    error: type[ProviderError] = ConfigurationError,
) -> None:
    """Every header can be sent: a name of token characters, a value of printable ASCII
    (HTTP/1.1 sends no other) with no line break. A secret's value is never shown."""
    for name, value in headers.items():
        if not isinstance(name, str) or not name or not set(name) <= _TOKEN:
            raise error(
                f"{where} has a header named {name!r}, which is not a valid HTTP header name",
                provider=spec.name,
            )
        if not isinstance(value, str):
            raise error(
                f"{where}: header {name!r} is {type(value).__name__}, not a string",
                provider=spec.name,
            )
        if not (value.isascii() and value.isprintable()):
            shown = "its value" if secret(name) else repr(value)
            raise error(
                f"{where}: header {name!r} cannot be sent: {shown} has a character that is not "
                "printable ASCII (HTTP headers are ASCII; encode it, e.g. percent-encoding, or "
                "remove it)",
                provider=spec.name,
            )


def encode_body(spec: ProviderSpec, body: Any) -> bytes:
    """The JSON of a request body, or a typed error naming the field that is not JSON
    (NaN or infinity, a lone surrogate, a set, bytes, ...)."""
    try:
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    except (TypeError, ValueError, RecursionError):
        pass
    where, problem = _unencodable(body)
    raise _fail(spec, f"the request's {where} cannot be sent as JSON: {problem}")


def _unencodable(body: Any) -> tuple[str, str]:
    """Where in `body` the first value that JSON cannot carry is, and what it is."""
    stack: list[tuple[str, Any, int]] = [("body", body, 0)]
    while stack:
        where, value, depth = stack.pop()
        if depth > 500:
            return where, "it nests too deep"
        if isinstance(value, str):
            try:
                value.encode()
            except UnicodeEncodeError:
                return where, "the text has a lone surrogate (not valid Unicode)"
        elif isinstance(value, bool) or value is None or isinstance(value, int):
            continue
        elif isinstance(value, float):
            if not math.isfinite(value):
                return where, f"{value} is not a JSON number (use a finite number)"
        elif isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, (str, int, float, bool)) and key is not None:
                    return where, f"the key {key!r} is {type(key).__name__}, not a string"
                if isinstance(key, str):
                    try:
                        key.encode()
                    except UnicodeEncodeError:
                        return where, f"the key {key!r} has a lone surrogate"
                stack.append((f"{where}[{key!r}]", item, depth + 1))
        elif isinstance(value, (list, tuple)):
            stack.extend((f"{where}[{i}]", item, depth + 1) for i, item in enumerate(value))
        else:
            return where, (
                f"{type(value).__name__} is not a JSON value (use a list, a dict, a string, "
                "a number, a boolean or None)"
            )
    return "body", "it is not JSON"


def check_settings(spec: ProviderSpec, names: Sequence[str]) -> None:
    known = {setting.name for setting in spec.settings}
    unknown = sorted(set(names) - known)
    if unknown:
        raise ConfigurationError(
            f"{spec.display_name} has no setting {', '.join(map(repr, unknown))} (its "
            f"settings: {', '.join(sorted(known)) or 'none'})",
            provider=spec.name,
        )


def check_max_retries(spec: ProviderSpec, value: int | None) -> None:
    if value is not None and value < 0:
        raise ConfigurationError("max_retries must be 0 or more", provider=spec.name)


def _seconds_or_none(value: object) -> bool:
    return value is None or (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def timeout_problem(value: object) -> str | None:
    """What is wrong with a `timeout=` value (a number of seconds, a Timeout or None)."""
    if isinstance(value, Timeout):
        bad = [
            name
            for name in ("connect", "read", "write", "stream_idle", "total")
            if not _seconds_or_none(getattr(value, name))
        ]
        if bad:
            return f"Timeout({bad[0]}=...) must be a number of seconds above 0, or None"
        return None
    if not _seconds_or_none(value):
        return (
            f"timeout={value!r} must be a number of seconds above 0, a modelwire.Timeout, or None"
        )
    return None


# the type each client setting must have, and how to say it
_SETTING_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "api_key": ((str,), "a string"),
    "base_url": ((str,), "a URL string"),
    "model": ((str,), "a model id string"),
    "max_retries": ((int, RetryPolicy), "a number of retries or a modelwire.RetryPolicy"),
    "default_headers": ((Mapping,), "a mapping of header names to strings"),
    "allow_insecure_http": ((bool,), "True or False"),
    "max_line_bytes": ((int,), "a number of bytes"),
    "hooks": ((Hooks,), "a modelwire.Hooks"),
    "auth": ((Auth,), "a modelwire.Auth (Auth.in_header, Auth.in_query or Auth.token)"),
    "settings": ((Mapping,), "a mapping of setting names to strings"),
}


def check_client_settings(spec: ProviderSpec, settings: Mapping[str, Any]) -> None:
    """Each setting a client is made with has its type, so that a wrong one fails here and
    not at the first request."""
    for name, value in settings.items():
        if value is None:
            continue
        if name == "timeout":
            problem = timeout_problem(value)
            if problem:
                raise ConfigurationError(problem, provider=spec.name)
            continue
        expected = _SETTING_TYPES.get(name)
        if expected is None:
            continue
        kinds, wanted = expected
        wrong = not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds)
        if wrong:
            raise ConfigurationError(
                f"{name}={value!r} must be {wanted}, not {type(value).__name__}",
                provider=spec.name,
            )
    # each header's name and value are checked with the rest of the client's headers
    # (check_headers), once they are merged
    size = settings.get("max_line_bytes")
    if size is not None and size < 1:
        raise ConfigurationError("max_line_bytes must be 1 or more", provider=spec.name)


# --------------------------------------------------------------------------- a request


def request_from(
    spec: ProviderSpec,
    default_model: str | None,
    request: CompletionRequest | Mapping[str, Any] | None,
    fields: Mapping[str, Any],
) -> CompletionRequest:
    """One validated request from a request object and/or keyword fields: the fields win,
    any name that is not a unified field is a provider option, the client's model fills
    in a missing one."""
    if request is None:
        data: dict[str, Any] = {}
    elif isinstance(request, CompletionRequest):
        data = {k: getattr(request, k) for k in request.model_fields_set}
        data["options"] = dict(request.options)
    elif isinstance(request, Mapping):
        data = dict(request)
    else:
        raise _fail(
            spec, f"request must be a CompletionRequest or a dict, not {type(request).__name__}"
        )
    data.update((k, v) for k, v in fields.items() if v is not None)
    options = {name: data.pop(name) for name in list(data) if name not in _REQUEST_FIELDS}
    if options:
        data["options"] = {**(data.get("options") or {}), **options}
    if not data.get("model"):
        data["model"] = default_model
    if "messages" not in data:
        raise _fail(spec, "no messages given: pass messages=[{'role': 'user', 'content': '...'}]")
    try:
        prepared = CompletionRequest.model_validate(data)
    except RequestValidationError as exc:
        raise _fail(spec, exc.message) from None
    except ValueError as exc:
        raise _fail(spec, f"invalid request: {exc}") from None
    return prepared


def _check_range(
    spec: ProviderSpec, name: str, value: float | None, bounds: tuple[float, float]
) -> None:
    if value is None:
        return
    low, high = bounds
    if not low <= value <= high:
        raise _fail(
            spec, f"{name}={value} is out of range for {spec.display_name}: use {low} to {high}"
        )


def _check_option(spec: ProviderSpec, name: str, value: Any) -> None:
    option = spec.option(name)
    if option is None:
        known = ", ".join(o.name for o in spec.options) or "none"
        raise _fail(
            spec,
            f"{spec.display_name} has no option {name!r} (its options: {known}); "
            "use extra_body= to send a raw field",
        )
    if option.enum and value not in option.enum:
        raise _fail(spec, f"option {name}={value!r} must be one of {option.enum}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if option.min is not None and value < option.min:
            raise _fail(spec, f"option {name}={value} is below its minimum {option.min}")
        if option.max is not None and value > option.max:
            raise _fail(spec, f"option {name}={value} is above its maximum {option.max}")


def _fetchable(image: ImagePart) -> bool:
    """An image the server would have to fetch (a URL that is not inline data)."""
    return image.url is not None and not (image.url.startswith("data:") and ";base64," in image.url)


def _check_messages(spec: ProviderSpec, request: CompletionRequest) -> None:
    if not request.messages:
        raise _fail(spec, "messages is empty: give at least one message")
    if all(m.role == "system" for m in request.messages):
        raise _fail(spec, "only system messages were given: add a user message")
    no_vision = request.model is not None and any(
        request.model.startswith(prefix) for prefix in spec.capabilities.no_vision_models
    )
    calls_seen: set[str] = set()
    for position, message in enumerate(request.messages):
        where = f"messages[{position}]"
        if message.tool_calls:
            if message.role != "assistant":
                raise _fail(spec, f"{where} has tool_calls but role {message.role!r}")
            calls_seen.update(call.id for call in message.tool_calls)
        if message.role == "tool":
            if not message.tool_call_id:
                raise _fail(
                    spec,
                    f"{where} is a tool result without tool_call_id (the id of the tool call "
                    "it answers)",
                )
            if message.tool_call_id not in calls_seen:
                raise _fail(
                    spec,
                    f"{where} answers tool call {message.tool_call_id!r}, which no earlier "
                    "assistant message made: include the assistant turn with that call",
                )
        images = message.images()
        documents = message.documents()
        if documents:
            _check_documents(spec, where, message.role, documents)
        attached = images or documents
        if message.role in ("user", "system") and not attached and not message.text().strip():
            raise _fail(
                spec,
                f"{where} ({message.role}) has no content: give it text (or, for a user "
                "message, an image or a document), or leave it out",
            )
        if not images:
            continue
        if not spec.capabilities.vision:
            raise _unsupported(
                spec, f"{where} has an image, and {spec.display_name} takes no images"
            )
        if no_vision:
            raise _unsupported(
                spec, f"{where} has an image, and model {request.model!r} takes no images"
            )
        if not spec.capabilities.image_urls and any(_fetchable(image) for image in images):
            raise _unsupported(
                spec,
                f"{where} gives an image by URL, and {spec.display_name} cannot fetch images: "
                "download it and pass its bytes, e.g. ImagePart.from_bytes(data, "
                "media_type='image/png')",
            )


def _check_documents(
    spec: ProviderSpec, where: str, role: str, documents: list[DocumentPart]
) -> None:
    if not spec.capabilities.documents:
        raise _unsupported(
            spec,
            f"{where} has a document, and {spec.display_name} takes no documents: send its "
            "text as text instead (a PDF's extracted first)",
        )
    if role != "user":
        raise _fail(spec, f"{where} has a document in a {role} message: give it in a user message")
    for document in documents:
        if document.inline_data() is not None:
            continue
        if document.media_type == "text/plain":
            raise _unsupported(
                spec,
                f"{where} gives a plain-text document by URL, which no API fetches: pass its "
                "text, e.g. DocumentPart.from_text(text)",
            )
        if not spec.capabilities.document_urls:
            raise _unsupported(
                spec,
                f"{where} gives a document by URL, and {spec.display_name} cannot fetch "
                "documents: download it and pass its bytes, e.g. DocumentPart.from_bytes(data)",
            )


def _check_tools(spec: ProviderSpec, request: CompletionRequest) -> None:
    if request.tools and not spec.capabilities.tools:
        raise _unsupported(spec, f"{spec.display_name} does not support tools")
    choice = request.tool_choice
    if isinstance(choice, NamedToolChoice):
        names = {tool.name for tool in request.tools or []}
        if choice.name not in names:
            raise _fail(
                spec,
                f"tool_choice names {choice.name!r}, which is not among the tools given "
                f"({', '.join(sorted(names)) or 'none'})",
            )
    forced = choice == "required" or isinstance(choice, NamedToolChoice)
    if forced and not spec.capabilities.forced_tool_choice:
        raise _unsupported(
            spec,
            f"{spec.display_name} cannot be made to call a tool (tool_choice={choice!r}): use "
            "tool_choice='auto' and check response.tool_calls",
        )
    if choice is not None and choice != "none" and not request.tools:
        raise _fail(spec, "tool_choice is set but no tools were given")
    if request.parallel_tool_calls is not None and not request.tools:
        raise _fail(
            spec,
            "parallel_tool_calls is set but no tools were given: the API takes it only with "
            "tools; leave it unset",
        )
    if spec.dialect == "openai_chat":
        # strict tools: the parameters must have (and are sent in) the strict form
        for tool in request.tools or ():
            if tool.strict:
                strict_schema(tool.parameters, where=f"tool {tool.name!r}", provider=spec.name)


def _check_response_format(spec: ProviderSpec, request: CompletionRequest) -> None:
    fmt = request.response_format
    if fmt is None:
        return
    mode = spec.capabilities.structured_output
    if mode == "none":
        raise _unsupported(spec, f"{spec.display_name} cannot constrain output to JSON")
    if fmt.type == "json_schema" and fmt.strict and fmt.json_schema is not None:
        if mode == "json_schema" and spec.dialect == "openai_chat":
            strict_schema(fmt.json_schema, where="response_format", provider=spec.name)
        elif mode == "output_config" and not structured_via_tool(request, spec):
            strict_schema(
                fmt.json_schema, profile="anthropic", where="response_format", provider=spec.name
            )


def _check_reasoning(spec: ProviderSpec, request: CompletionRequest) -> None:
    """The unified `reasoning=` field against what the spec says the provider takes, and
    the models that refuse sampling settings while they reason."""
    reasoning = request.reasoning
    effort = reasoning.effort if reasoning is not None else None
    fixed = request.model is not None and any(
        request.model.startswith(prefix) for prefix in spec.capabilities.fixed_sampling_models
    )
    if fixed and effort != "none":
        for name in ("temperature", "top_p"):
            if getattr(request, name) is not None:
                raise _unsupported(
                    spec,
                    f"model {request.model!r} is a reasoning model and takes no {name}: leave "
                    f"{name} unset (or turn reasoning off with reasoning='none' where the "
                    "model takes it)",
                )
    if reasoning is None:
        return
    how = spec.reasoning
    if how is None:
        raise _unsupported(
            spec,
            f"{spec.display_name} takes no reasoning settings: leave reasoning= unset "
            "(its reasoning models, if any, reason on their own)",
        )
    both = [name for name in how.options if name in request.options]
    if both:
        raise _fail(
            spec,
            f"reasoning= and the option {both[0]}= both set the reasoning: give one of them "
            "(reasoning= is the same for every provider)",
        )
    adaptive = how.wire == "anthropic_thinking" and reasoning.budget_tokens is None
    wants_effort = effort not in (None, "none") or (adaptive and effort is None)
    model = request.model or ""
    if wants_effort and how.effort_models and not model.startswith(tuple(how.effort_models)):
        kind = "adaptive thinking or a reasoning effort" if adaptive else "a reasoning effort"
        fix = " (give Reasoning(budget_tokens=N) instead)" if how.budget else ""
        raise _unsupported(
            spec,
            f"model {request.model!r} takes no {kind}: use a model that does "
            f"({', '.join(how.effort_models)}){fix}",
        )
    if effort is not None and effort not in how.efforts:
        raise _unsupported(
            spec,
            f"reasoning effort {effort!r} is not one {spec.display_name} takes: use one of "
            f"{', '.join(how.efforts)}",
        )
    unsupported = [
        name
        for name, given, taken in (
            ("budget_tokens", reasoning.budget_tokens, how.budget),
            ("summary", reasoning.summary, how.summary),
            ("exclude", reasoning.exclude, how.exclude),
        )
        if given is not None and not taken
    ]
    if unsupported:
        hint = " (give an effort instead)" if unsupported[0] == "budget_tokens" else ""
        raise _unsupported(
            spec,
            f"{spec.display_name} takes no reasoning {unsupported[0]}: leave it unset{hint}",
        )
    if effort is None and how.wire in ("reasoning_effort", "responses") and not reasoning.summary:
        example = "medium" if "medium" in how.efforts else how.efforts[-1]  # efforts: checked
        raise _fail(
            spec,
            f"{spec.display_name} needs a reasoning effort: pass e.g. "
            f"reasoning=Reasoning(effort={example!r}) (it takes {', '.join(how.efforts)})",
        )
    if how.wire == "openrouter" and effort is not None and reasoning.budget_tokens is not None:
        raise _fail(
            spec,
            "OpenRouter takes a reasoning effort or budget_tokens, not both: give one of them",
        )


def _check_thinking(spec: ProviderSpec, request: CompletionRequest) -> None:
    """Anthropic's rules for extended thinking, which no schema states."""
    if spec.dialect != "anthropic_messages" or not thinking_enabled(request, spec):
        return
    choice = request.tool_choice
    if choice == "required" or isinstance(choice, NamedToolChoice):
        raise _fail(
            spec,
            f"tool_choice={choice!r} forces a tool call, which Anthropic refuses with "
            "thinking enabled: use tool_choice='auto' (or None), or turn thinking off",
        )
    if structured_via_tool(request, spec):
        fmt = request.response_format
        why = (
            f"model {request.model!r} has no native structured output"
            if fmt is not None and fmt.json_schema is not None and fmt.strict
            else "JSON mode without a schema, or strict=False, is asked for"
        )
        raise _fail(
            spec,
            f"response_format would be answered through a forced tool call ({why}), which "
            "Anthropic refuses with thinking enabled: give a schema (a pydantic model) with "
            "strict=True on a model with structured outputs (e.g. claude-sonnet-4-5), or "
            "turn thinking off",
        )
    budget = thinking_budget(request, spec)
    if budget is not None:
        if budget < 1024:
            raise _fail(spec, f"thinking budget_tokens={budget} must be at least 1024")
        if request.max_tokens is not None and budget >= request.max_tokens:
            raise _fail(
                spec,
                f"thinking budget_tokens={budget} must be below max_tokens="
                f"{request.max_tokens}: raise max_tokens (the answer needs room after the "
                "thinking) or lower the budget",
            )
    if request.temperature is not None and request.temperature != 1:
        raise _fail(
            spec, "temperature cannot be changed with thinking enabled: leave temperature unset"
        )
    if request.top_p is not None and request.top_p < 0.95:
        raise _fail(spec, "top_p must be between 0.95 and 1 with thinking enabled")
    if "top_k" in request.options:
        raise _fail(spec, "top_k cannot be set with thinking enabled: leave it unset")


def check_request(spec: ProviderSpec, request: CompletionRequest, *, stream: bool) -> None:
    """Everything a request can be checked for before it is sent."""
    if stream and not spec.capabilities.streaming:
        raise _unsupported(spec, f"{spec.display_name} does not stream: use complete()")
    if not request.model:
        example = f" (for example {spec.models[0]!r})" if spec.models else ""
        raise _fail(spec, f"no model given: pass model={example} to the call or to the client")
    _check_messages(spec, request)

    limits = spec.limits
    _check_range(spec, "temperature", request.temperature, limits.temperature)
    _check_range(spec, "top_p", request.top_p, limits.top_p)
    if request.max_tokens is not None and request.max_tokens < 1:
        raise _fail(spec, f"max_tokens={request.max_tokens} must be at least 1")
    if (
        limits.max_tokens_required
        and request.max_tokens is None
        and limits.default_max_tokens is None
    ):
        raise _fail(spec, f"{spec.display_name} needs max_tokens: pass max_tokens=")
    if request.stop and limits.max_stop_sequences == 0:
        raise _fail(
            spec,
            f"{spec.display_name} takes no stop sequences: leave stop= unset "
            "(or cut the text yourself)",
        )
    if request.stop and limits.max_stop_sequences and len(request.stop) > limits.max_stop_sequences:
        raise _fail(
            spec,
            f"{len(request.stop)} stop sequences given; {spec.display_name} takes at most "
            f"{limits.max_stop_sequences}",
        )
    if request.seed is not None and not spec.capabilities.seed:
        raise _fail(spec, f"{spec.display_name} has no seed: leave seed= unset")
    _check_tools(spec, request)
    _check_response_format(spec, request)
    if request.max_retries is not None and request.max_retries < 0:
        raise _fail(spec, "max_retries must be 0 or more")
    problem = None if request.timeout is None else timeout_problem(request.timeout)
    if problem:
        raise _fail(spec, problem)
    for name, value in request.options.items():
        _check_option(spec, name, value)
    _check_reasoning(spec, request)
    _check_thinking(spec, request)


# --------------------------------------------------------------------------- other calls


def check_token_count(spec: ProviderSpec) -> TokenCountSpec:
    """The provider's token-counting endpoint, which it must have."""
    if spec.endpoints.count_tokens is None:
        raise _unsupported(
            spec,
            f"{spec.display_name} has no token counting (count_tokens() needs an "
            "endpoints.count_tokens in its spec: Anthropic, the OpenAI Responses API and "
            "llama.cpp have one)",
        )
    return spec.endpoints.count_tokens


def check_models(spec: ProviderSpec) -> str:
    """The model-listing path, which the provider must have."""
    if not spec.endpoints.models:
        raise _unsupported(spec, f"{spec.display_name} has no model-listing endpoint")
    return spec.endpoints.models


def embedding_inputs(
    spec: ProviderSpec, inputs: str | Sequence[str], model: str | None
) -> tuple[list[str], str]:
    """The inputs as a list and the model to embed them with, checked."""
    if not spec.capabilities.embeddings or not spec.endpoints.embeddings:
        raise _unsupported(spec, f"{spec.display_name} serves no embeddings through this API")
    items = [inputs] if isinstance(inputs, str) else list(inputs)
    if not items:
        raise _fail(spec, "embed() needs at least one input")
    if not model:
        raise _fail(spec, "no model given: pass model=")
    return items, model


# --------------------------------------------------------------------------- provider batches


def check_batches(spec: ProviderSpec) -> BatchesSpec:
    """The provider's batch API, which it must have."""
    if spec.endpoints.batches is None:
        raise _unsupported(
            spec,
            f"{spec.display_name} has no batch API (client.batches needs an endpoints.batches "
            "in its spec: OpenAI, the OpenAI Responses API and Anthropic have one); "
            "modelwire.batch() runs many requests now, at bounded concurrency, with any provider",
        )
    return spec.endpoints.batches


def refuse(spec: ProviderSpec, message: str) -> RequestValidationError:
    """The error for a request that is wrong as given: `message` says what to change."""
    return _fail(spec, message)


def batch_items(spec: ProviderSpec, requests: Any) -> list[tuple[Any, Any]]:
    """A batch job's requests as (custom_id, request): by custom_id from a mapping, or
    numbered `request-0`, `request-1`, ... from a sequence."""
    if isinstance(requests, Mapping):
        return list(requests.items())
    if isinstance(requests, (str, bytes)) or not isinstance(requests, Sequence):
        raise _fail(
            spec,
            "submit() takes requests by custom_id (a dict) or a list of requests, not "
            f"{type(requests).__name__}",
        )
    return [(f"request-{i}", request) for i, request in enumerate(requests)]


# a batch job's metadata, as OpenAI's document limits it
BATCH_METADATA_KEYS, BATCH_METADATA_KEY_CHARS, BATCH_METADATA_VALUE_CHARS = 16, 64, 512


def check_batch_metadata(
    spec: ProviderSpec, batches: BatchesSpec, metadata: Mapping[str, str] | None
) -> None:
    """A batch job's labels: only where the provider takes them, within its limits."""
    if not metadata:
        return
    if batches.style == "inline":
        raise _fail(spec, f"{spec.display_name}'s batch jobs take no metadata: leave metadata= out")
    if len(metadata) > BATCH_METADATA_KEYS:
        raise _fail(spec, f"a batch job's metadata takes at most {BATCH_METADATA_KEYS} keys")
    for key, value in metadata.items():
        if not isinstance(key, str) or not 0 < len(key) <= BATCH_METADATA_KEY_CHARS:
            raise _fail(
                spec,
                f"the metadata key {key!r} must be a string of 1 to "
                f"{BATCH_METADATA_KEY_CHARS} characters",
            )
        if not isinstance(value, str) or len(value) > BATCH_METADATA_VALUE_CHARS:
            raise _fail(
                spec,
                f"the metadata value of {key!r} must be a string of at most "
                f"{BATCH_METADATA_VALUE_CHARS} characters",
            )


def check_batch_ids(spec: ProviderSpec, batches: BatchesSpec, custom_ids: Sequence[Any]) -> None:
    """A batch job's custom ids: some, each a string of the form the provider takes, no
    two alike, and no more than the provider takes in one job."""
    if not custom_ids:
        raise _fail(spec, "a batch job needs at least one request")
    if batches.max_requests is not None and len(custom_ids) > batches.max_requests:
        raise _fail(
            spec,
            f"{len(custom_ids)} requests are more than the {batches.max_requests} that "
            f"{spec.display_name} takes in one batch job: split them into several jobs",
        )
    seen: set[str] = set()
    for custom_id in custom_ids:
        if not isinstance(custom_id, str) or not custom_id:
            raise _fail(
                spec, f"a batch request's custom_id must be a non-empty string, not {custom_id!r}"
            )
        if batches.custom_id_pattern and not re.fullmatch(batches.custom_id_pattern, custom_id):
            raise _fail(
                spec,
                f"the custom_id {custom_id!r} is not one {spec.display_name} takes: it must "
                f"match {batches.custom_id_pattern}",
            )
        if custom_id in seen:
            raise _fail(
                spec, f"the custom_id {custom_id!r} is given to two requests: make each unique"
            )
        seen.add(custom_id)


def check_batch_request(spec: ProviderSpec, custom_id: str, request: CompletionRequest) -> None:
    """One request of a batch job: checked as a call is, besides what a job cannot carry."""
    check_request(spec, request, stream=False)
    per_call = [
        name
        for name in ("extra_headers", "timeout", "max_retries")
        if getattr(request, name) is not None
    ]
    if per_call:
        raise _fail(
            spec,
            f"the batch request {custom_id!r} sets {', '.join(per_call)}, which belong to one "
            "call, not to a request inside a batch job: set them on the client instead",
        )


def check_poll(spec: ProviderSpec, interval: float, timeout: float) -> None:
    """`wait()`'s polling: a positive interval and a positive total timeout."""
    for name, value in (("interval", interval), ("timeout", timeout)):
        if (
            not isinstance(value, (int, float))
            or isinstance(value, bool)
            or not math.isfinite(value)
            or value <= 0
        ):
            raise _fail(spec, f"wait({name}={value!r}): give a positive number of seconds")
