"""The batch API of a mock whose spec has one (`endpoints.batches`): OpenAI's files and
batches, Anthropic's Message Batches, in memory.

Each request of a job is answered when the job is made, from the mock's script in order
(`reply()`, `fail()`, ...), exactly as a single call would be; the job is `in_progress`
until it is first looked at, and has ended from then on (OpenAI's `completed`,
Anthropic's `ended`). A scripted failure becomes that request's error line.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from ..spec import BatchesSpec
    from ._transport import MockServer, Planned

CREATED = 1_700_000_000  # every mock job's creation time (Unix seconds)


@dataclass
class _Job:
    id: str
    # per custom_id: the status and the body a single call would have got
    answers: dict[str, tuple[int, Any]]
    create: dict[str, Any]
    looked_at: bool = False
    canceled: bool = False


@dataclass
class MockBatchAPI:
    server: MockServer
    batches: BatchesSpec
    files: dict[str, bytes] = field(default_factory=dict)
    jobs: dict[str, _Job] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handles(self, request: httpx.Request) -> bool:
        path = request.url.path
        paths = [self.batches.path, self.batches.files or self.batches.path]
        return any(f"{p}/" in path + "/" for p in paths)

    def respond(self, request: httpx.Request) -> tuple[int, Any]:
        """(status, JSON body or JSONL bytes) for one request of the batch API."""
        with self._lock:
            path = request.url.path
            files, jobs = self.batches.files, self.batches.path
            if files and request.method == "POST" and path.endswith(files):
                return 200, self._upload(request)
            if request.method == "POST" and path.endswith(jobs):
                return 200, self._create(request, path.removesuffix(jobs))
            rest = path.rpartition(jobs + "/")[2] if jobs + "/" in path else ""
            job_id, _, action = rest.partition("/")
            if files and not rest:
                file_id = path.rpartition(files + "/")[2].removesuffix("/content")
                return 200, self._file(file_id)
            job = self.jobs.get(job_id)
            if job is None:
                return 404, {"error": {"message": f"no batch job {job_id!r}"}}
            if action == "cancel":
                job.canceled = True
                return 200, self._describe(job, canceling=True)
            if action == "results":
                return 200, self._inline_results(job)
            job.looked_at = True  # a job ends when it is first looked at
            return 200, self._describe(job)

    # ------------------------------------------------------------------ making a job

    def _upload(self, request: httpx.Request) -> dict[str, Any]:
        head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
        form = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.content)
        for part in form.iter_parts():
            if part.get_param("name", header="content-disposition") == "file":
                content = part.get_payload(decode=True)
                assert isinstance(content, bytes)
                file_id = f"file-mock-{len(self.files) + 1}"
                self.files[file_id] = content
                return {"id": file_id, "object": "file", "bytes": len(content), "purpose": "batch"}
        raise AssertionError("the upload has no file")

    def _create(self, request: httpx.Request, prefix: str) -> dict[str, Any]:
        create = json.loads(request.content)
        if self.batches.style == "files":
            lines = self.files[create["input_file_id"]].splitlines()
            items = [(entry["custom_id"], entry["body"]) for entry in map(json.loads, lines)]
        else:
            items = [(entry["custom_id"], entry["params"]) for entry in create["requests"]]
        chat_url = request.url.copy_with(path=prefix + self.server.spec.endpoints.chat)
        answers = {}
        for custom_id, body in items:
            # each request answered as the same request sent alone would be
            single = httpx.Request("POST", chat_url, content=json.dumps(body).encode())
            planned: Planned = self.server.respond(single)
            content = b"".join(piece for _, piece in planned.pieces)
            answers[custom_id] = (planned.status, json.loads(content))
        prefix_id = "batch" if self.batches.style == "files" else "msgbatch"
        job = _Job(f"{prefix_id}_mock_{len(self.jobs) + 1}", answers, create)
        self.jobs[job.id] = job
        return self._describe(job)

    # ------------------------------------------------------------------ describing it

    def _describe(self, job: _Job, *, canceling: bool = False) -> dict[str, Any]:
        ended = job.looked_at or (job.canceled and not canceling)
        ok = sum(status == 200 for status, _ in job.answers.values())
        failed = len(job.answers) - ok
        if self.batches.style == "files":
            status = "in_progress"
            if job.canceled:
                status = "cancelled" if ended else "cancelling"
            elif ended:
                status = "completed"
            return {
                "id": job.id,
                "object": "batch",
                "endpoint": job.create["endpoint"],
                "input_file_id": job.create["input_file_id"],
                "completion_window": "24h",
                "status": status,
                "output_file_id": f"{job.id}-output" if ended and ok else None,
                "error_file_id": f"{job.id}-errors" if ended and failed else None,
                "created_at": CREATED,
                "completed_at": CREATED + 60 if status == "completed" else None,
                "cancelled_at": CREATED + 60 if status == "cancelled" else None,
                "expires_at": CREATED + 86400,
                "request_counts": {
                    "total": len(job.answers),
                    "completed": ok if ended else 0,
                    "failed": failed if ended else 0,
                },
                "metadata": job.create.get("metadata"),
            }
        created = datetime.fromtimestamp(CREATED, timezone.utc).isoformat()
        counts = dict.fromkeys(("processing", "succeeded", "errored", "canceled", "expired"), 0)
        if not ended:
            counts["processing"] = len(job.answers)
        elif job.canceled:
            counts["canceled"] = len(job.answers)
        else:
            counts.update(succeeded=ok, errored=failed)
        status = "ended" if ended else "canceling" if job.canceled else "in_progress"
        return {
            "id": job.id,
            "type": "message_batch",
            "processing_status": status,
            "request_counts": counts,
            "created_at": created,
            "ended_at": created if ended else None,
            "expires_at": created,
            "cancel_initiated_at": created if job.canceled else None,
            "archived_at": None,
            "results_url": None,
        }

    # ------------------------------------------------------------------ results

    def _file(self, file_id: str) -> bytes:
        job_id, _, kind = file_id.rpartition("-")
        job = self.jobs[job_id]
        lines = []
        for number, (custom_id, (status, body)) in enumerate(job.answers.items(), 1):
            if (status == 200) != (kind == "output"):
                continue
            response = {"status_code": status, "request_id": f"req_mock_{number}", "body": body}
            line = {"id": f"batch_req_{number}", "custom_id": custom_id, "response": response}
            lines.append({**line, "error": None})
        return b"".join(json.dumps(line).encode() + b"\n" for line in lines)

    def _inline_results(self, job: _Job) -> bytes:
        lines = []
        for custom_id, (status, body) in job.answers.items():
            result: dict[str, Any]
            if job.canceled:
                result = {"type": "canceled"}
            elif status == 200:
                result = {"type": "succeeded", "message": body}
            else:
                result = {"type": "errored", "error": body}
            lines.append({"custom_id": custom_id, "result": result})
        return b"".join(json.dumps(line).encode() + b"\n" for line in lines)
