"""The providers' own batch APIs, planned and read without I/O: the calls that submit a
batch job, look at it, cancel it and fetch its results, and what their answers mean.

Two styles, as the spec's `endpoints.batches` says. `files` (OpenAI): the requests go up
as a JSONL file, one line per request naming its custom_id, the chat endpoint and the body
the dialect builds for it; a batch is made from the file; the results are the JSONL of its
output and error files. `inline` (Anthropic): the requests are the body of the create call
(`{custom_id, params}` each) and the results one JSONL download. Either way every call is
an `HTTPCall` planned by `ClientConfig`, so it is sent through the call flow like any other
(retries, timeouts, redaction, hooks), and every body comes back through the dialect.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import quote

from ..errors import (
    BatchItemError,
    BatchTimeoutError,
    ProviderError,
    UnexpectedResponseError,
    error_fields,
)
from ..types import (
    BatchJob,
    BatchJobCounts,
    BatchJobResult,
    BatchJobStatus,
    CompletionRequest,
    CompletionResponse,
)
from . import validation
from .policy import scrub, scrub_error

if TYPE_CHECKING:
    from .calls import ClientConfig, HTTPCall

BatchRequests: TypeAlias = (
    "Mapping[str, CompletionRequest | Mapping[str, Any]]"
    " | Sequence[CompletionRequest | Mapping[str, Any]]"
)
"""What `client.batches.submit()` takes: requests by custom_id, or a sequence of them
(whose custom ids are then `request-0`, `request-1`, ...)."""

# how often wait() looks, and for how long: the providers promise an end within 24 hours
DEFAULT_POLL_INTERVAL = 30.0
DEFAULT_WAIT_TIMEOUT = 25 * 3600.0

# OpenAI's batch statuses, unified
_FILES_STATUS: dict[str, BatchJobStatus] = {
    "validating": "in_progress",
    "in_progress": "in_progress",
    "finalizing": "in_progress",
    "cancelling": "canceling",
    "completed": "completed",
    "failed": "failed",
    "expired": "expired",
    "cancelled": "canceled",
}
_FILES_ENDED_AT = ("completed_at", "failed_at", "expired_at", "cancelled_at")


class BatchAPI:
    """One client's batch API: `ClientConfig` plans each call, this says which calls and
    reads their answers. Made only for a spec with `endpoints.batches` (else the
    `CapabilityError` that says so is raised, before any I/O)."""

    __slots__ = ("_config", "_spec", "batches")

    def __init__(self, config: ClientConfig) -> None:
        self._config = config
        self._spec = config.spec
        self.batches = validation.check_batches(config.spec)

    @property
    def uploads(self) -> bool:
        """Whether the requests go up as a file before the job is made (OpenAI's style)."""
        return self.batches.style == "files"

    # ------------------------------------------------------------------ submitting

    def bodies(self, requests: BatchRequests, metadata: Mapping[str, str] | None) -> dict[str, Any]:
        """Each request's wire body by custom_id, every one checked before anything is
        sent, and the metadata checked against what the provider takes."""
        spec = self._spec
        items = validation.batch_items(spec, requests)
        validation.check_batch_ids(spec, self.batches, [custom_id for custom_id, _ in items])
        validation.check_batch_metadata(spec, self.batches, metadata)
        bodies: dict[str, Any] = {}
        config = self._config
        for custom_id, given in items:
            request = config.request(given, {})
            validation.check_batch_request(spec, custom_id, request)
            bodies[custom_id] = config.dialect.build_request(request, spec, stream=False)
        return bodies

    def input_file(self, bodies: Mapping[str, Any]) -> bytes:
        """The JSONL input file of the `files` style: one line per request."""
        assert self.batches.line_url is not None  # the spec checks it for this style
        lines = (
            {"custom_id": custom_id, "method": "POST", "url": self.batches.line_url, "body": body}
            for custom_id, body in bodies.items()
        )
        return b"".join(validation.encode_body(self._spec, line) + b"\n" for line in lines)

    def upload_call(self, bodies: Mapping[str, Any]) -> HTTPCall:
        """`POST {files}`: the input file, as a multipart form with purpose `batch`."""
        assert self.batches.files is not None
        boundary = f"modelwire-{uuid.uuid4().hex}"
        form = b"".join(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n'
                f"batch\r\n--{boundary}\r\n"
                'Content-Disposition: form-data; name="file"; filename="batch.jsonl"\r\n'
                "Content-Type: application/jsonl\r\n\r\n".encode(),
                self.input_file(bodies),
                f"\r\n--{boundary}--\r\n".encode(),
            )
        )
        return self._config.plan(
            "POST", self.batches.files, form, f"multipart/form-data; boundary={boundary}"
        )

    def file_id(self, content: bytes) -> str:
        """The id of the uploaded file, from the upload's answer."""
        body = self._json(content, "file upload's answer")
        file_id = body.get("id") if isinstance(body, dict) else None
        if not isinstance(file_id, str) or not file_id:
            raise self._unexpected("the file upload's answer has no file id", body)
        return file_id

    def create_call(
        self,
        bodies: Mapping[str, Any],
        file_id: str | None,
        metadata: Mapping[str, str] | None,
    ) -> HTTPCall:
        """`POST {path}`: the job, from the uploaded file or with the requests inline."""
        payload: dict[str, Any]
        if self.uploads:
            assert file_id is not None and self.batches.line_url is not None
            payload = {
                "input_file_id": file_id,
                "endpoint": self.batches.line_url,
                "completion_window": "24h",
            }
            if metadata:
                payload["metadata"] = dict(metadata)
        else:
            payload = {
                "requests": [
                    {"custom_id": custom_id, "params": body} for custom_id, body in bodies.items()
                ]
            }
        return self._config.plan("POST", self.batches.path, payload)

    # ------------------------------------------------------------------ the job

    def get_call(self, batch: BatchJob | str) -> HTTPCall:
        """`GET {path}/{id}`: how the job is now."""
        return self._config.plan("GET", self._job_path(batch))

    def cancel_call(self, batch: BatchJob | str) -> HTTPCall:
        """`POST {path}/{id}/cancel`: asks the provider to stop the job."""
        return self._config.plan("POST", self._job_path(batch) + "/cancel")

    def _job_path(self, batch: BatchJob | str) -> str:
        batch_id = batch.id if isinstance(batch, BatchJob) else batch
        if not isinstance(batch_id, str) or not batch_id.strip():
            raise validation.refuse(
                self._spec, f"give a batch job or its id (a non-empty string), not {batch!r}"
            )
        return f"{self.batches.path}/{quote(batch_id, safe='')}"

    def job(self, content: bytes) -> BatchJob:
        """A batch job from the provider's description of it."""
        body = self._json(content, "batch job")
        try:
            if self.uploads:
                return self._files_job(body)
            return self._inline_job(body)
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            problem = f"{type(exc).__name__}: {exc}"
        # raised here, not in the handler, so that it holds no foreign exception
        raise self._unexpected(f"the batch job is not as documented ({problem})", body)

    def _files_job(self, body: Any) -> BatchJob:
        raw_status = body["status"]
        counts = body.get("request_counts") or {}
        total, done, failed = (int(counts.get(k) or 0) for k in ("total", "completed", "failed"))
        ended = next((body[k] for k in _FILES_ENDED_AT if body.get(k) is not None), None)
        return BatchJob(
            id=body["id"],
            provider=self._spec.name,
            status=_FILES_STATUS[raw_status],
            raw_status=raw_status,
            counts=BatchJobCounts(
                total=total,
                processing=max(total - done - failed, 0),
                succeeded=done,
                errored=failed,
            ),
            created_at=_from_unix(body.get("created_at")),
            ended_at=_from_unix(ended),
            expires_at=_from_unix(body.get("expires_at")),
            metadata=dict(body.get("metadata") or {}),
            output_file_id=body.get("output_file_id"),
            error_file_id=body.get("error_file_id"),
            raw=body,
        )

    def _inline_job(self, body: Any) -> BatchJob:
        raw_status = body["processing_status"]
        status: BatchJobStatus
        if raw_status == "ended":
            status = "canceled" if body.get("cancel_initiated_at") else "completed"
        elif raw_status in ("in_progress", "canceling"):
            status = raw_status
        else:
            raise ValueError(f"unknown processing_status {raw_status!r}")
        counts = {k: int(v or 0) for k, v in (body.get("request_counts") or {}).items()}
        return BatchJob(
            id=body["id"],
            provider=self._spec.name,
            status=status,
            raw_status=raw_status,
            counts=BatchJobCounts(total=sum(counts.values()), **counts),
            created_at=_from_iso(body.get("created_at")),
            ended_at=_from_iso(body.get("ended_at")),
            expires_at=_from_iso(body.get("expires_at")),
            raw=body,
        )

    # ------------------------------------------------------------------ results

    def results_calls(self, job: BatchJob) -> list[HTTPCall]:
        """The GETs of an ended job's results: OpenAI's output and error files (those it
        has), Anthropic's results. A job that has not ended raises, before any I/O."""
        if not job.ended:
            raise validation.refuse(
                self._spec,
                f"the batch job {job.id} has not ended (it is {job.raw_status}): "
                "wait() for it before reading its results",
            )
        if not self.uploads:
            return [self._config.plan("GET", self._job_path(job) + "/results")]
        assert self.batches.files is not None
        return [
            self._config.plan("GET", f"{self.batches.files}/{quote(file_id, safe='')}/content")
            for file_id in (job.output_file_id, job.error_file_id)
            if file_id
        ]

    def results(self, content: bytes) -> Iterator[BatchJobResult]:
        """Each line of a results file as one request's result."""
        for number, line in enumerate(content.splitlines(), 1):
            if not line.strip():
                continue
            entry = self._json(line, f"results' line {number}")
            try:
                result = self._files_result(entry) if self.uploads else self._inline_result(entry)
            except (KeyError, TypeError, AttributeError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                yield result
                continue
            raise self._unexpected(
                f"the results' line {number} is not as documented ({problem})", entry
            )

    def _files_result(self, entry: Any) -> BatchJobResult:
        custom_id = str(entry["custom_id"])
        response = entry.get("response") or {}
        status = response.get("status_code")
        request_id = response.get("request_id")
        if status == 200 and not entry.get("error"):
            return BatchJobResult(
                custom_id, response=self._completion(response["body"], request_id)
            )
        error = entry.get("error") or response.get("body")
        return BatchJobResult(
            custom_id, error=self._item_error(custom_id, error, status, request_id)
        )

    def _inline_result(self, entry: Any) -> BatchJobResult:
        custom_id = str(entry["custom_id"])
        result = entry["result"]
        kind = result["type"]
        if kind == "succeeded":
            return BatchJobResult(custom_id, response=self._completion(result["message"], None))
        if kind == "errored":
            return BatchJobResult(custom_id, error=self._item_error(custom_id, result["error"]))
        return BatchJobResult(
            custom_id,
            error=BatchItemError(
                f"the batch request {custom_id!r} was {kind} before it ran",
                provider=self._spec.name,
                error_type=str(kind),
                body=result,
            ),
        )

    def _completion(self, body: Any, request_id: str | None) -> CompletionResponse:
        """One succeeded request's body, read by the dialect as `complete()` reads one."""
        dialect, spec = self._config.dialect, self._spec
        try:
            dialect.check_wire("response", body, spec.name)
            response = dialect.parse_response(body, spec)
        except ProviderError as exc:
            raise scrub_error(exc, self._config.secrets) from None
        response.provider = spec.name
        response.request_id = request_id
        return response

    def _item_error(
        self,
        custom_id: str,
        error: Any,
        status: int | None = None,
        request_id: str | None = None,
    ) -> BatchItemError:
        error = scrub(error, self._config.secrets)
        message, etype, code = error_fields(error)
        return BatchItemError(
            f"the batch request {custom_id!r} failed: {message or 'no message given'}",
            provider=self._spec.name,
            status_code=status if isinstance(status, int) else None,
            request_id=request_id if isinstance(request_id, str) else None,
            error_type=etype,
            error_code=code,
            body=error,
        )

    # ------------------------------------------------------------------ decoding

    def _json(self, content: bytes, what: str) -> Any:
        try:
            return json.loads(content)
        except (ValueError, RecursionError) as exc:
            problem = f"{type(exc).__name__}: {exc}"
        raise self._unexpected(f"the {what} is not JSON ({problem}): {content[:200]!r}", None)

    def _unexpected(self, message: str, body: Any) -> ProviderError:
        error = UnexpectedResponseError(message, provider=self._spec.name, body=body)
        return scrub_error(error, self._config.secrets)


def next_poll(job: BatchJob, interval: float, remaining: float) -> float:
    """How long `wait()` sleeps before it looks again, or the `BatchTimeoutError` when no
    time is left: never longer than what remains, so a timeout is kept to the poll."""
    if remaining <= 0:
        raise BatchTimeoutError(
            f"the batch job {job.id} had not ended in time (it is {job.raw_status}, "
            f"{job.counts.succeeded + job.counts.errored} of {job.counts.total} requests done); "
            "it goes on at the provider: wait() again, or cancel() it",
            provider=job.provider,
            job=job,
        )
    return min(interval, remaining)


def _from_unix(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"a time is {value!r}, not Unix seconds")
    return datetime.fromtimestamp(value, timezone.utc)


def _from_iso(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"a time is {value!r}, not an RFC 3339 string")
    return datetime.fromisoformat(value)
