"""Every check made before any I/O, driven by the spec: a client's configuration, each
request, and the model and embedding calls. Each raises a typed error whose message says
what to change, so nothing wrong is ever sent."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from ..errors import (
    CapabilityError,
    ConfigurationError,
    InsecureTransportError,
    RequestValidationError,
)
from ..spec import ProviderSpec
from ..types import CompletionRequest, ImagePart, NamedToolChoice

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
    spec: ProviderSpec, url: str, has_key: bool, allow_insecure: bool
) -> None:
    parts = urlsplit(url)
    insecure = has_key and parts.scheme == "http" and not allow_insecure
    if insecure and not is_loopback(parts.hostname or ""):
        raise InsecureTransportError(
            f"refusing to send an API key over plain http to {parts.hostname}: use "
            "https, or pass allow_insecure_http=True if this network is trusted",
            provider=spec.name,
        )


def check_api_key(spec: ProviderSpec, api_key: str | None) -> None:
    if not api_key and spec.auth.type != "none" and spec.auth.required:
        raise ConfigurationError(
            f"{spec.display_name} needs an API key: pass api_key= or set {spec.auth.env}",
            provider=spec.name,
        )


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
    if request.response_format is not None and spec.capabilities.structured_output == "none":
        raise _unsupported(spec, f"{spec.display_name} cannot constrain output to JSON")
    if request.max_retries is not None and request.max_retries < 0:
        raise _fail(spec, "max_retries must be 0 or more")
    for name, value in request.options.items():
        _check_option(spec, name, value)


# --------------------------------------------------------------------------- other calls


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
