"""A loopback HTTP server that answers OpenAI chat completions and keeps its own log: when
each request arrived and how many were being answered at once. The fleet tests judge the
limits by this log, not by what the clients say about themselves."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class CountingServer:
    def __init__(self, delay: float = 0.02, usage: tuple[int, int] = (3, 1)) -> None:
        self.delay, self.usage = delay, usage
        self.arrivals: list[float] = []
        self.now = self.most = 0
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                owner._enter()
                try:
                    time.sleep(owner.delay)
                    body = json.dumps(owner.answer()).encode()
                finally:
                    owner._leave()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    def answer(self) -> dict[str, Any]:
        prompt, completion = self.usage
        return {
            "id": "c1",
            "object": "chat.completion",
            "model": "gpt-4o-mini",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "ok"},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion},
        }

    def _enter(self) -> None:
        with self._lock:
            self.arrivals.append(time.monotonic())
            self.now += 1
            self.most = max(self.most, self.now)

    def _leave(self) -> None:
        with self._lock:
            self.now -= 1

    def most_in_any_window(self, seconds: float) -> int:
        """The most requests that arrived within any `seconds` long window."""
        times, most, start = sorted(self.arrivals), 0, 0
        for end, arrived in enumerate(times):
            while arrived - times[start] > seconds:
                start += 1
            most = max(most, end - start + 1)
        return most

    def __enter__(self) -> CountingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(5)
