"""Request validation shared by every provider: everything here raises before any I/O,
with a message that says what to change."""

from __future__ import annotations

from typing import Any

from ..errors import CapabilityError, RequestValidationError
from ..spec import ProviderSpec
from ..types import CompletionRequest, NamedToolChoice


def _fail(spec: ProviderSpec, message: str) -> RequestValidationError:
    return RequestValidationError(message, provider=spec.name)


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


def validate_request(spec: ProviderSpec, request: CompletionRequest) -> None:
    if not request.model:
        example = f" (for example {spec.models[0]!r})" if spec.models else ""
        raise _fail(spec, f"no model given: pass model={example} to the call or to the client")
    if not request.messages:
        raise _fail(spec, "messages is empty: give at least one message")
    if all(m.role == "system" for m in request.messages):
        raise _fail(spec, "only system messages were given: add a user message")

    calls_seen: set[str] = set()
    for position, message in enumerate(request.messages):
        if message.tool_calls:
            if message.role != "assistant":
                raise _fail(spec, f"messages[{position}] has tool_calls but role {message.role!r}")
            calls_seen.update(call.id for call in message.tool_calls)
        if message.role == "tool":
            if not message.tool_call_id:
                raise _fail(spec, f"messages[{position}] is a tool result without tool_call_id")
            if message.tool_call_id not in calls_seen:
                raise _fail(
                    spec,
                    f"messages[{position}] answers tool call {message.tool_call_id!r}, which no "
                    "earlier assistant message made: include the assistant turn with that call",
                )
        if message.images() and not spec.capabilities.vision:
            raise CapabilityError(
                f"messages[{position}] has an image, and {spec.display_name} takes no images",
                provider=spec.name,
            )
        if (
            message.images()
            and request.model
            and any(
                request.model.startswith(prefix) for prefix in spec.capabilities.no_vision_models
            )
        ):
            raise CapabilityError(
                f"messages[{position}] has an image, and model {request.model!r} takes no images",
                provider=spec.name,
            )

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
    if request.stop and limits.max_stop_sequences and len(request.stop) > limits.max_stop_sequences:
        raise _fail(
            spec,
            f"{len(request.stop)} stop sequences given; {spec.display_name} takes at most "
            f"{limits.max_stop_sequences}",
        )

    if request.seed is not None and not spec.capabilities.seed:
        raise _fail(spec, f"{spec.display_name} has no seed: leave seed= unset")
    if request.tools and not spec.capabilities.tools:
        raise CapabilityError(f"{spec.display_name} does not support tools", provider=spec.name)
    if isinstance(request.tool_choice, NamedToolChoice):
        names = {tool.name for tool in request.tools or []}
        if request.tool_choice.name not in names:
            raise _fail(
                spec,
                f"tool_choice names {request.tool_choice.name!r}, which is not among the tools "
                f"given ({', '.join(sorted(names)) or 'none'})",
            )
    forced = request.tool_choice == "required" or isinstance(request.tool_choice, NamedToolChoice)
    if forced and not spec.capabilities.forced_tool_choice:
        raise CapabilityError(
            f"{spec.display_name} cannot be made to call a tool (tool_choice="
            f"{request.tool_choice!r}): use tool_choice='auto' and check response.tool_calls",
            provider=spec.name,
        )
    if request.tool_choice is not None and request.tool_choice != "none" and not request.tools:
        raise _fail(spec, "tool_choice is set but no tools were given")
    if request.response_format is not None and spec.capabilities.structured_output == "none":
        raise CapabilityError(
            f"{spec.display_name} cannot constrain output to JSON", provider=spec.name
        )

    for name, value in request.options.items():
        _check_option(spec, name, value)
