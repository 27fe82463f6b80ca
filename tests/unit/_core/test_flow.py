"""The call flow without sockets: a scripted driver answers each command the flow yields,
and a fake clock stands in for time, so retries, deadlines, Retry-After, hooks, logging
and error context are checked exactly (the fault suite proves the same over real TCP)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from modelwire import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    BadRequestError,
    ContextLengthExceededError,
    Hooks,
    RateLimitError,
    RetryPolicy,
    ServerError,
    Timeout,
)
from modelwire._core.calls import ClientConfig, HTTPCall
from modelwire._core.flow import (
    Broken,
    Close,
    Command,
    Flow,
    Head,
    Outcome,
    Read,
    Reply,
    Send,
    Sleep,
    call_flow,
    phases,
)
from modelwire.providers.openai import SPEC

NO_JITTER = RetryPolicy(max_retries=2, initial_delay=1.0, max_delay=8.0)


def make_call(
    *, stream: bool = False, timeout: Timeout | None = None, retry: RetryPolicy = NO_JITTER
) -> HTTPCall:
    return HTTPCall(
        "POST",
        "https://api.example.com/v1/chat/completions",
        {"Authorization": "Bearer sk-secret"},
        b"{}",
        stream,
        timeout or Timeout(),
        retry,
        "gpt-4o-mini",
    )


@dataclass
class Clock:
    now: float = 100.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Driver:
    """Plays a server: each response is (status, headers, body pieces) or a `Broken`.
    Records every command, and advances the clock on Sleep (and per piece, if asked)."""

    responses: list[tuple[int, dict[str, str], list[bytes]] | Broken]
    clock: Clock = field(default_factory=Clock)
    seconds_per_piece: float = 0.0
    commands: list[Command] = field(default_factory=list)

    def run(self, flow: Flow) -> Outcome:
        responses: Iterator[tuple[int, dict[str, str], list[bytes]] | Broken] = iter(self.responses)
        pieces: list[bytes] = []
        reply: Reply = None
        while True:
            try:
                command = flow.send(reply)
            except StopIteration as done:
                outcome: Outcome = done.value
                return outcome
            self.commands.append(command)
            if isinstance(command, Send):
                answer = next(responses)
                if isinstance(answer, Broken):
                    reply = answer
                else:
                    status, headers, pieces = answer[0], answer[1], list(answer[2])
                    reply = Head(status, headers)
            elif isinstance(command, Read):
                self.clock.now += self.seconds_per_piece
                reply = pieces.pop(0) if pieces else b""
            elif isinstance(command, Sleep):
                self.clock.now += command.seconds
                reply = None
            else:
                assert isinstance(command, Close)
                reply = None

    def kinds(self) -> list[str]:
        return [type(c).__name__ for c in self.commands]


def flow(call: HTTPCall, driver: Driver, hooks: Hooks | None = None) -> Flow:
    return call_flow(call, SPEC, hooks or Hooks(), clock=driver.clock)


def error_of(call: HTTPCall, driver: Driver, hooks: Hooks | None = None) -> Any:
    with pytest.raises(Exception) as caught:
        driver.run(flow(call, driver, hooks))
    return caught.value


BAD_REQUEST = (400, {"x-request-id": "req_1"}, [b'{"error":{"message":"bad","type":"x"}}'])
UNAVAILABLE = (503, {}, [b'{"error":{"message":"busy"}}'])
OK = (200, {"x-request-id": "req_ok"}, [b'{"id":', b'"c1"}'])


# --------------------------------------------------------------------------- success


def test_a_whole_body_is_read_piece_by_piece_then_closed() -> None:
    driver = Driver([OK])
    outcome = driver.run(flow(make_call(), driver))
    assert outcome.content == b'{"id":"c1"}'
    assert (outcome.status, outcome.attempts, outcome.request_id) == (200, 1, "req_ok")
    assert driver.kinds() == ["Send", "Read", "Read", "Read", "Close"]


def test_a_stream_returns_at_its_head_with_the_body_unread() -> None:
    driver = Driver([(200, {}, [b"data: x\n\n"])])
    outcome = driver.run(flow(make_call(stream=True), driver))
    assert outcome.content == b"" and driver.kinds() == ["Send"]


def test_a_stream_answered_with_a_json_error_body_raises_the_servers_error() -> None:
    body = (
        b'{"error":{"message":"model overloaded, try later","type":"server_error","code":"busy"}}'
    )
    headers = {"content-type": "application/json; charset=utf-8", "x-request-id": "req_j"}
    driver = Driver([(200, headers, [body])])
    error = error_of(make_call(stream=True), driver)
    assert type(error) is APIStatusError
    assert error.message == "model overloaded, try later"
    assert (error.error_type, error.error_code, error.status_code) == ("server_error", "busy", 200)
    assert error.body == {
        "error": {"message": "model overloaded, try later", "type": "server_error", "code": "busy"}
    }
    assert (error.request_id, error.attempts, error.retryable) == ("req_j", 1, False)
    assert driver.kinds() == ["Send", "Read", "Read", "Close"]  # read whole, then released


def test_a_stream_answered_with_json_that_is_no_error_says_so() -> None:
    driver = Driver([(200, {"content-type": "application/json"}, [b'{"id":"c1"}'])])
    error = error_of(make_call(stream=True), driver)
    assert "a stream was asked for" in error.message and '{"id": "c1"}' in error.message
    assert error.body == {"id": "c1"}


def test_a_json_error_body_for_a_stream_is_typed_by_the_specs_rules() -> None:
    body = (
        b'{"error":{"message":"too long","type":"invalid_request_error",'
        b'"code":"context_length_exceeded"}}'
    )
    driver = Driver([(200, {"content-type": "application/json"}, [body])])
    error = error_of(make_call(stream=True), driver)
    assert isinstance(error, ContextLengthExceededError) and error.message == "too long"


def test_send_carries_the_planned_request() -> None:
    driver = Driver([OK])
    driver.run(flow(make_call(), driver))
    send = driver.commands[0]
    assert isinstance(send, Send)
    assert (send.method, send.content) == ("POST", b"{}")
    assert send.url.endswith("/chat/completions")
    assert send.timeout == phases(Timeout(), stream=False, remaining=None)


# --------------------------------------------------------------------------- retries


def test_a_retryable_status_is_retried_after_backoff() -> None:
    retries: list[Any] = []
    driver = Driver([UNAVAILABLE, OK])
    call = make_call(retry=RetryPolicy(max_retries=2, initial_delay=1.0, max_delay=1.0))
    outcome = driver.run(flow(call, driver, Hooks(on_retry=retries.append)))
    assert outcome.attempts == 2
    assert driver.kinds() == ["Send", "Read", "Read", "Close", "Sleep", "Send"] + ["Read"] * 3 + [
        "Close"
    ]
    sleep = driver.commands[4]
    assert isinstance(sleep, Sleep) and 0.5 <= sleep.seconds <= 1.0  # jittered backoff
    assert [(r.attempt, type(r.error)) for r in retries] == [(1, ServerError)]


def test_retry_after_is_honoured_exactly() -> None:
    limited = (429, {"retry-after": "3"}, [b'{"error":{"message":"slow down"}}'])
    driver = Driver([limited, OK])
    driver.run(flow(make_call(), driver))
    assert [c.seconds for c in driver.commands if isinstance(c, Sleep)] == [3.0]


def test_retry_after_beyond_the_policys_limit_raises_at_once() -> None:
    limited = (429, {"retry-after": "3600"}, [b'{"error":{"message":"tomorrow"}}'])
    driver = Driver([limited, OK])
    error = error_of(make_call(), driver)
    assert type(error) is RateLimitError and error.retry_after == 3600.0
    assert error.attempts == 1 and "Sleep" not in driver.kinds()


def test_retries_run_out_and_the_last_error_carries_every_attempt() -> None:
    driver = Driver([UNAVAILABLE, UNAVAILABLE, UNAVAILABLE])
    error = error_of(make_call(), driver)
    assert type(error) is ServerError and error.attempts == 3
    assert driver.kinds().count("Send") == 3


def test_a_bad_request_is_never_retried_and_is_born_with_its_context() -> None:
    errors: list[Any] = []
    driver = Driver([BAD_REQUEST, OK])
    error = error_of(make_call(), driver, Hooks(on_error=errors.append))
    assert type(error) is BadRequestError
    assert (error.provider, error.status_code, error.request_id, error.attempts) == (
        "openai",
        400,
        "req_1",
        1,
    )
    assert error.message == "bad" and error.error_type == "x"
    assert [e.error for e in errors] == [error]  # on_error once, with the raised error


def test_a_transport_failure_is_typed_and_retried() -> None:
    driver = Driver([Broken(timed_out=False, detail="ConnectError()"), OK])
    assert driver.run(flow(make_call(), driver)).attempts == 2
    driver = Driver([Broken(timed_out=True, detail="ConnectTimeout")] * 3)
    error = error_of(make_call(), driver)
    assert type(error) is APITimeoutError and error.attempts == 3
    assert "ConnectTimeout" in str(error) and "sk-secret" not in str(error)


def test_a_connection_broken_while_reading_the_body_is_a_connection_error() -> None:
    driver = Driver([(200, {}, [])])

    def broken_body() -> Flow:
        inner = flow(make_call(retry=RetryPolicy(max_retries=0)), driver)
        command = next(inner)
        assert isinstance(command, Send)
        assert isinstance(inner.send(Head(200, {})), Read)
        assert isinstance(inner.send(Broken(timed_out=False, detail="RemoteProtocolError")), Close)
        return inner

    inner = broken_body()
    with pytest.raises(APIConnectionError, match="while reading"):
        inner.send(None)


def test_a_redirect_is_refused_not_followed() -> None:
    driver = Driver([(307, {"location": "https://elsewhere.example/v1"}, [])])
    error = error_of(make_call(), driver)
    assert type(error) is APIStatusError and not error.retryable
    assert "elsewhere.example" in str(error) and "base_url" in str(error)


# --------------------------------------------------------------------------- deadlines


def test_the_total_timeout_caps_every_phase_of_an_attempt() -> None:
    timeout = Timeout(connect=10.0, read=600.0, write=600.0, total=5.0)
    assert phases(timeout, stream=False, remaining=4.0).read == 4.0
    assert phases(timeout, stream=False, remaining=4.0).connect == 4.0
    assert phases(Timeout(stream_idle=7.0), stream=True, remaining=None).read == 7.0


def test_a_slow_body_ends_at_the_total_timeout() -> None:
    slow = (200, {}, [b"a", b"b", b"c", b"d"])
    driver = Driver([slow], seconds_per_piece=2.0)
    error = error_of(
        make_call(timeout=Timeout(total=3.0), retry=RetryPolicy(max_retries=0)), driver
    )
    assert type(error) is APITimeoutError and "total timeout" in str(error)
    assert driver.kinds()[-1] == "Close"  # the response is released


def test_a_retry_that_would_outlast_the_total_timeout_is_not_made() -> None:
    limited = (429, {"retry-after": "10"}, [b"{}"])
    driver = Driver([limited, OK])
    error = error_of(make_call(timeout=Timeout(total=5.0)), driver)
    assert type(error) is APITimeoutError and "RateLimitError" in str(error)
    assert "Sleep" not in driver.kinds() and error.attempts == 1


def test_a_streams_total_timeout_does_not_apply_before_its_head() -> None:
    # a stream is governed by stream_idle between reads, not by a total deadline
    driver = Driver([(200, {}, [])], seconds_per_piece=100.0)
    outcome = driver.run(flow(make_call(stream=True, timeout=Timeout(total=1.0)), driver))
    assert outcome.attempts == 1


# --------------------------------------------------------------------------- hooks, logs


def test_hooks_see_each_attempt_and_the_good_response() -> None:
    seen: list[str] = []
    hooks = Hooks(
        on_request=lambda e: seen.append(f"request {e.attempt} {e.model}"),
        on_response=lambda e: seen.append(f"response {e.status_code} {e.request_id}"),
        on_retry=lambda e: seen.append(f"retry {e.attempt}"),
    )
    driver = Driver([UNAVAILABLE, OK])
    driver.run(flow(make_call(), driver, hooks))
    assert seen == [
        "request 1 gpt-4o-mini",
        "retry 1",
        "request 2 gpt-4o-mini",
        "response 200 req_ok",
    ]


def test_a_hook_that_raises_stops_the_flow_with_its_own_error() -> None:
    def fail(event: object) -> None:
        raise KeyError("from the hook")

    driver = Driver([OK])
    with pytest.raises(KeyError, match="from the hook"):
        driver.run(flow(make_call(), driver, Hooks(on_response=fail)))


def test_failures_log_below_warning(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="modelwire")
    driver = Driver([UNAVAILABLE, BAD_REQUEST])
    error_of(make_call(), driver)
    assert caplog.records, "the flow logs its retries and failures"
    assert max(r.levelno for r in caplog.records) <= logging.INFO
    assert all("sk-secret" not in r.getMessage() for r in caplog.records)


def test_each_attempt_carries_its_retry_count_and_no_repr_shows_the_key() -> None:
    config = ClientConfig.create(
        SPEC, api_key="sk-flow-secret-key-42", default_headers={"X-Gateway-Token": "gw-tok-42"}
    )
    request = config.request(None, {"messages": [{"role": "user", "content": "Hi"}]})
    call = config.chat_call(request, stream=False)
    flow = call_flow(call, SPEC, Hooks())
    first = next(flow)
    assert isinstance(first, Send) and first.headers["X-Modelwire-Retry-Count"] == "0"
    for shown in (repr(first), repr(call), repr(config), repr(first.headers)):
        assert "sk-flow-secret-key-42" not in shown and "gw-tok-42" not in shown
    flow.send(Head(503, {}))
    flow.send(b"")
    flow.send(None)
    second = flow.send(None)
    assert isinstance(second, Send) and second.headers["X-Modelwire-Retry-Count"] == "1"
    assert "X-Modelwire-Retry-Count" not in call.headers  # the plan is unchanged


def test_a_retry_count_the_caller_gave_is_sent_as_given() -> None:
    config = ClientConfig.create(SPEC, api_key="sk-x")
    request = config.request(
        None,
        {
            "messages": [{"role": "user", "content": "Hi"}],
            "extra_headers": {"x-modelwire-retry-count": "7"},
        },
    )
    first = next(call_flow(config.chat_call(request, stream=False), SPEC, Hooks()))
    assert isinstance(first, Send)
    assert [v for k, v in first.headers.items() if k.lower() == "x-modelwire-retry-count"] == ["7"]


def test_an_echoed_key_is_redacted_before_a_retry_hook_sees_it() -> None:
    seen: list[Any] = []
    config = ClientConfig.create(SPEC, api_key="sk-flow-secret-key-42")
    request = config.request(None, {"messages": [{"role": "user", "content": "Hi"}]})
    flow = call_flow(config.chat_call(request, stream=False), SPEC, Hooks(on_retry=seen.append))
    next(flow)
    flow.send(Head(503, {}))
    flow.send(b'{"error": {"message": "busy: sk-flow-secret-key-42"}}')
    flow.send(b"")
    assert isinstance(flow.send(None), Sleep)
    (event,) = seen
    assert str(event.error).endswith("busy: <redacted>")
    assert "sk-flow-secret-key-42" not in repr(event.error.body)


def test_a_404_from_a_base_url_without_v1_says_to_add_it() -> None:
    not_found = (404, {}, [b'{"detail":"Not Found"}'])
    call = HTTPCall(
        "POST",
        "http://127.0.0.1:8080/chat/completions",  # the server's API is under /v1
        {},
        b"{}",
        False,
        Timeout(),
        NO_JITTER,
        "local",
    )
    error = error_of(call, Driver([not_found]))
    assert type(error).__name__ == "NotFoundError"
    assert "the base URL has no /v1" in str(error) and "ending in /v1" in str(error)
    # with /v1 in the URL, a 404 is only what the server said
    error = error_of(make_call(), Driver([not_found]))
    assert "no /v1" not in str(error)


# --------------------------------------------------------------------------- x-should-retry


def test_x_should_retry_true_retries_what_the_status_would_not() -> None:
    told = (400, {"x-should-retry": "true"}, [b'{"error":{"message":"try again"}}'])
    driver = Driver([told, OK])
    outcome = driver.run(flow(make_call(), driver))
    assert outcome.attempts == 2


def test_x_should_retry_false_stops_what_the_status_would_retry() -> None:
    told = (503, {"x-should-retry": "false"}, [b'{"error":{"message":"busy"}}'])
    driver = Driver([told, OK])
    error = error_of(make_call(), driver)
    assert isinstance(error, ServerError) and not error.retryable
    assert error.attempts == 1 and driver.kinds().count("Send") == 1


# --------------------------------------------------------------------------- a stream's opening

CONFIG = ClientConfig.create(SPEC, api_key="sk-secret")
FIRST_TEXT = b'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n'
ROLE_ONLY = b'data: {"id":"c1","choices":[{"index":0,"delta":{"role":"assistant"}}]}\n\n'
ERROR_FIRST = b'data: {"error":{"message":"overloaded","type":"server_error"}}\n\n'


def opened_flow(call: HTTPCall, driver: Driver) -> Flow:
    return call_flow(call, SPEC, Hooks(), clock=driver.clock, opening=CONFIG.stream_opening)


def test_a_stream_is_held_back_until_its_first_content() -> None:
    driver = Driver([(200, {}, [ROLE_ONLY, FIRST_TEXT, b"data: [DONE]\n\n"])])
    outcome = driver.run(opened_flow(make_call(stream=True), driver))
    # the reads up to the first text are handed over; the rest stays unread, open
    assert outcome.content == ROLE_ONLY + FIRST_TEXT and outcome.broken is None
    assert driver.kinds() == ["Send", "Read", "Read"]


def test_an_error_as_a_streams_first_event_is_retried_like_its_status() -> None:
    driver = Driver([(200, {}, [ROLE_ONLY, ERROR_FIRST]), (200, {}, [FIRST_TEXT])])
    outcome = driver.run(opened_flow(make_call(stream=True), driver))
    assert outcome.attempts == 2 and outcome.content == FIRST_TEXT
    assert driver.kinds() == ["Send", "Read", "Read", "Close", "Sleep", "Send", "Read"]


def test_a_first_event_error_raises_typed_when_retries_run_out() -> None:
    driver = Driver([(200, {"x-request-id": "r1"}, [ERROR_FIRST])] * 3)
    with pytest.raises(ServerError) as caught:
        driver.run(opened_flow(make_call(stream=True), driver))
    assert caught.value.attempts == 3 and caught.value.request_id == "r1"
    assert caught.value.message == "overloaded"


def test_a_first_event_error_with_x_should_retry_false_is_not_retried() -> None:
    driver = Driver([(200, {"x-should-retry": "false"}, [ERROR_FIRST]), (200, {}, [FIRST_TEXT])])
    with pytest.raises(ServerError) as caught:
        driver.run(opened_flow(make_call(stream=True), driver))
    assert caught.value.attempts == 1


def test_an_error_after_the_first_content_is_the_streams_not_the_flows() -> None:
    driver = Driver([(200, {}, [FIRST_TEXT, ERROR_FIRST])])
    outcome = driver.run(opened_flow(make_call(stream=True), driver))
    assert outcome.content == FIRST_TEXT and outcome.attempts == 1


def test_a_break_before_the_first_content_is_handed_to_the_stream() -> None:
    driver = Driver([(200, {}, [ROLE_ONLY])])
    call = make_call(stream=True)
    flow_ = opened_flow(call, driver)
    assert isinstance(next(flow_), Send)
    assert isinstance(flow_.send(Head(200, {})), Read)
    assert isinstance(flow_.send(ROLE_ONLY), Read)
    with pytest.raises(StopIteration) as done:
        flow_.send(Broken(timed_out=True, detail="ReadTimeout"))
    outcome: Outcome = done.value.value
    assert outcome.content == ROLE_ONLY and outcome.broken == Broken(True, "ReadTimeout")


def test_an_event_stream_answered_with_a_json_error_body_raises_the_servers_error() -> None:
    from modelwire.providers import bedrock

    body = b'{"message":"The provided model identifier is invalid."}'
    headers = {
        "content-type": "application/json",
        "x-amzn-errortype": "ValidationException:http://internal.amazon.com/coral/",
    }
    driver = Driver([(200, headers, [body])])
    with pytest.raises(BadRequestError) as caught:
        driver.run(call_flow(make_call(stream=True), bedrock.SPEC, Hooks(), clock=driver.clock))
    error = caught.value
    assert error.message == "The provided model identifier is invalid."
    assert (error.error_type, error.status_code) == ("ValidationException", 200)
