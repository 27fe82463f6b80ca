"""An in-memory batch API, OpenAI's (files) and Anthropic's (Message Batches), for the
tests of `client.batches`: an httpx transport that keeps every request it is sent.

No recording of either batch API exists in the shared recordings, so its answers are built
from the official OpenAPI documents: the `Batch` and `File` objects and the output file's
lines (`{"id", "custom_id", "response": {"status_code", "request_id", "body"}, "error"}`)
of OpenAI's, the `MessageBatch` object and the result lines
(`{"custom_id", "result": {"type": "succeeded" | "errored" | ...}}`) of Anthropic's, with
the values of their examples. A job moves one state on each GET (OpenAI: validating,
in_progress, finalizing, completed; Anthropic: in_progress, ended), so a test sees it pass
through them. A request whose last message says "fail" errors (a 400 for OpenAI, an
invalid_request_error for Anthropic); one that says "expire" expires (Anthropic's only).
"""

from __future__ import annotations

import email.parser
import email.policy
import json
from dataclasses import dataclass, field
from typing import Any

import httpx

CREATED = 1711471533  # the documents' example times
CREATED_ISO = "2024-08-20T18:37:24.100435Z"
ENDED_ISO = "2024-08-20T18:37:44.100435Z"
EXPIRES_ISO = "2024-08-21T18:37:24.100435Z"

OPENAI_STATES = ["validating", "in_progress", "finalizing", "completed"]
ANTHROPIC_STATES = ["in_progress", "ended"]


def parse_form(request: httpx.Request) -> dict[str, bytes]:
    """A multipart/form-data body's fields by name, read by the standard library's MIME
    parser (not modelwire's own code)."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.content)
    fields: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        assert isinstance(name, str) and isinstance(payload, bytes)
        fields[name] = payload
    return fields


def _last_text(body: dict[str, Any]) -> str:
    messages = body.get("messages") or body.get("input") or []
    if isinstance(messages, str):
        return messages
    content = messages[-1].get("content", "") if messages else ""
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content)
    return str(content)


def openai_chat_body(text: str, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }


def openai_responses_body(text: str, model: str) -> dict[str, Any]:
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": CREATED,
        "model": model,
        "status": "completed",
        "output": [
            {
                "type": "message",
                "id": "msg_1",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        ],
        "usage": {"input_tokens": 5, "output_tokens": 2, "total_tokens": 7},
    }


def anthropic_message(text: str, model: str) -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 5, "output_tokens": 2},
    }


@dataclass
class BatchServer:
    """The provider's batch API in memory. `style` is "openai", "openai_responses" or
    "anthropic"; `ends_after` is how many GETs of a job it takes to end."""

    style: str
    ends_after: int = 3
    requests: list[httpx.Request] = field(default_factory=list)
    uploads: dict[str, bytes] = field(default_factory=dict)
    # the requests of each job, by custom_id, and how many times it was looked at
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    polls: dict[str, int] = field(default_factory=dict)
    canceled: set[str] = field(default_factory=set)

    def client(self, client_class: type[Any], **kwargs: Any) -> Any:
        transport = httpx.MockTransport(self)
        async_ = client_class.__name__.startswith("Async")
        http = (httpx.AsyncClient if async_ else httpx.Client)(transport=transport)
        key = "sk-ant-secret" if self.style == "anthropic" else "sk-secret"
        return client_class(api_key=key, http_client=http, max_retries=0, **kwargs)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if self.style == "anthropic":
            return self._anthropic(request, path.removeprefix("/v1/messages/batches"))
        return self._openai(request, path.removeprefix("/v1"))

    # ------------------------------------------------------------------ OpenAI

    def _openai(self, request: httpx.Request, path: str) -> httpx.Response:
        if request.method == "POST" and path == "/files":
            form = parse_form(request)
            file_id = f"file-{len(self.uploads) + 1}"
            self.uploads[file_id] = form["file"]
            return httpx.Response(
                200,
                json={
                    "id": file_id,
                    "object": "file",
                    "bytes": len(form["file"]),
                    "created_at": CREATED,
                    "filename": "batch.jsonl",
                    "purpose": form["purpose"].decode(),
                },
            )
        if request.method == "POST" and path == "/batches":
            body = json.loads(request.content)
            lines = [json.loads(line) for line in self.uploads[body["input_file_id"]].splitlines()]
            batch_id = f"batch_{len(self.jobs) + 1}"
            self.jobs[batch_id] = {
                "create": body,
                "items": {line["custom_id"]: line["body"] for line in lines},
            }
            self.polls[batch_id] = 0
            return httpx.Response(200, json=self._openai_batch(batch_id))
        parts = path.strip("/").split("/")
        if parts[0] == "batches" and len(parts) >= 2 and parts[1] in self.jobs:
            batch_id = parts[1]
            if request.method == "POST" and parts[2:] == ["cancel"]:
                self.canceled.add(batch_id)
                return httpx.Response(200, json=self._openai_batch(batch_id, cancelling=True))
            if request.method == "GET" and len(parts) == 2:
                self.polls[batch_id] += 1
                return httpx.Response(200, json=self._openai_batch(batch_id))
        if parts[0] == "files" and parts[2:] == ["content"] and request.method == "GET":
            batch_id, _, kind = parts[1].removeprefix("file-").partition("-")
            return httpx.Response(
                200,
                content=self._openai_results(f"batch_{batch_id}", kind),
                headers={"content-type": "application/octet-stream"},
            )
        return httpx.Response(404, json={"error": {"message": f"no route {request.method} {path}"}})

    def _openai_batch(self, batch_id: str, *, cancelling: bool = False) -> dict[str, Any]:
        polls = self.polls[batch_id]
        if batch_id in self.canceled:
            status = "cancelling" if cancelling else "cancelled"
        else:
            status = OPENAI_STATES[min(polls * 3 // self.ends_after, 3)] if polls else "validating"
            if polls >= self.ends_after:
                status = "completed"
        items = self.jobs[batch_id]["items"]
        failed = sum("fail" in _last_text(body) for body in items.values())
        ended = status in ("completed", "cancelled")
        number = batch_id.removeprefix("batch_")
        create = self.jobs[batch_id]["create"]
        return {
            "id": batch_id,
            "object": "batch",
            "endpoint": create["endpoint"],
            "errors": None,
            "input_file_id": create["input_file_id"],
            "completion_window": "24h",
            "status": status,
            "output_file_id": f"file-{number}-output" if ended else None,
            "error_file_id": f"file-{number}-errors" if ended and failed else None,
            "created_at": CREATED,
            "in_progress_at": CREATED + 10 if polls else None,
            "expires_at": CREATED + 86400,
            "finalizing_at": None,
            "completed_at": CREATED + 60 if status == "completed" else None,
            "failed_at": None,
            "expired_at": None,
            "cancelling_at": CREATED + 30 if batch_id in self.canceled else None,
            "cancelled_at": CREATED + 40 if status == "cancelled" else None,
            "request_counts": {
                "total": len(items),
                "completed": len(items) - failed if ended else 0,
                "failed": failed if ended else 0,
            },
            "metadata": create.get("metadata"),
        }

    def _openai_results(self, batch_id: str, kind: str) -> bytes:
        lines = []
        for number, (custom_id, body) in enumerate(self.jobs[batch_id]["items"].items()):
            text = _last_text(body)
            if ("fail" in text) != (kind == "errors"):
                continue
            if "fail" in text:
                response = {
                    "status_code": 400,
                    "request_id": f"req_{number}",
                    "body": {
                        "error": {
                            "message": "Invalid value for 'max_tokens'.",
                            "type": "invalid_request_error",
                            "param": "max_tokens",
                            "code": "invalid_value",
                        }
                    },
                }
            else:
                build = openai_chat_body if self.style == "openai" else openai_responses_body
                response = {
                    "status_code": 200,
                    "request_id": f"req_{number}",
                    "body": build(f"answer to {text}", body["model"]),
                }
            line = {"id": f"batch_req_{number}", "custom_id": custom_id, "response": response}
            lines.append(json.dumps({**line, "error": None}))
        return "".join(line + "\n" for line in lines).encode()

    # ------------------------------------------------------------------ Anthropic

    def _anthropic(self, request: httpx.Request, path: str) -> httpx.Response:
        if request.method == "POST" and path == "":
            body = json.loads(request.content)
            batch_id = f"msgbatch_{len(self.jobs) + 1}"
            self.jobs[batch_id] = {
                "items": {item["custom_id"]: item["params"] for item in body["requests"]}
            }
            self.polls[batch_id] = 0
            return httpx.Response(200, json=self._anthropic_batch(batch_id))
        parts = path.strip("/").split("/")
        batch_id = parts[0]
        if batch_id not in self.jobs:
            error = {"type": "not_found_error", "message": f"no batch {batch_id}"}
            return httpx.Response(404, json={"type": "error", "error": error})
        if request.method == "POST" and parts[1:] == ["cancel"]:
            self.canceled.add(batch_id)
            return httpx.Response(200, json=self._anthropic_batch(batch_id, canceling=True))
        if request.method == "GET" and parts[1:] == []:
            self.polls[batch_id] += 1
            return httpx.Response(200, json=self._anthropic_batch(batch_id))
        if request.method == "GET" and parts[1:] == ["results"]:
            return httpx.Response(
                200,
                content=self._anthropic_results(batch_id),
                headers={"content-type": "application/binary"},
            )
        return httpx.Response(404, json={"type": "error", "error": {"type": "not_found_error"}})

    def _anthropic_outcome(self, batch_id: str, params: dict[str, Any]) -> str:
        text = _last_text(params)
        if batch_id in self.canceled:
            return "canceled"
        return "errored" if "fail" in text else "expired" if "expire" in text else "succeeded"

    def _anthropic_batch(self, batch_id: str, *, canceling: bool = False) -> dict[str, Any]:
        ended = (self.polls[batch_id] >= self.ends_after) or (
            batch_id in self.canceled and not canceling
        )
        status = "ended" if ended else "canceling" if batch_id in self.canceled else "in_progress"
        counts = dict.fromkeys(("processing", "succeeded", "errored", "canceled", "expired"), 0)
        for params in self.jobs[batch_id]["items"].values():
            counts[self._anthropic_outcome(batch_id, params) if ended else "processing"] += 1
        return {
            "id": batch_id,
            "type": "message_batch",
            "processing_status": status,
            "request_counts": counts,
            "created_at": CREATED_ISO,
            "ended_at": ENDED_ISO if ended else None,
            "expires_at": EXPIRES_ISO,
            "archived_at": None,
            "cancel_initiated_at": CREATED_ISO if batch_id in self.canceled else None,
            "results_url": (
                f"https://api.anthropic.com/v1/messages/batches/{batch_id}/results"
                if ended
                else None
            ),
        }

    def _anthropic_results(self, batch_id: str) -> bytes:
        lines = []
        for custom_id, params in self.jobs[batch_id]["items"].items():
            outcome = self._anthropic_outcome(batch_id, params)
            result: dict[str, Any] = {"type": outcome}
            if outcome == "succeeded":
                text = f"answer to {_last_text(params)}"
                result["message"] = anthropic_message(text, params["model"])
            elif outcome == "errored":
                result["error"] = {
                    "type": "error",
                    "error": {"type": "invalid_request_error", "message": "max_tokens: too big"},
                }
            lines.append(json.dumps({"custom_id": custom_id, "result": result}))
        return "".join(line + "\n" for line in lines).encode()
