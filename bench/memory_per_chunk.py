"""Memory per chunk of one long stream, iterated without accumulating: modelwire next to
plain httpx (which keeps nothing), each in a fresh process.

    python bench/memory_per_chunk.py [--chunks 200000]

It starts `server.py`, then, per library, a child process that opens one OpenAI-shaped
stream of `--chunks` chunks (token `i` is `tok{i} `), reads its first chunk, starts
tracemalloc, reads the rest, and reports the memory still allocated at the last chunk
(before the stream is closed) divided by the chunks read.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
MESSAGES = [{"role": "user", "content": "Say hello"}]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _child(library: str, base: str, chunks: int) -> dict[str, float]:
    read = 0
    grown = 0
    if library.startswith("modelwire"):
        import modelwire

        client = modelwire.OpenAI(api_key="sk-bench", base_url=f"{base}/n/{chunks}/v1")
        with client.stream_completion(model="gpt-4o-mini", messages=MESSAGES) as stream:
            # modelwire-unkept: read with keep=False, which keeps no text
            iterator = iter(stream.iter_chunks(keep=library == "modelwire"))
            next(iterator)
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            for _chunk in iterator:
                read += 1
                if read == chunks - 1:
                    grown = tracemalloc.get_traced_memory()[0] - before
            tracemalloc.stop()
    else:
        import httpx

        body = {"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True}
        with (
            httpx.Client() as client,
            client.stream("POST", f"{base}/n/{chunks}/v1/chat/completions", json=body) as r,
        ):
            lines = r.iter_lines()
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            for line in lines:
                if not line.startswith("data: {"):
                    continue
                choices = json.loads(line[6:]).get("choices") or [{}]
                if choices[0].get("delta", {}).get("content") is None:
                    continue
                read += 1
                if read == chunks - 1:
                    grown = tracemalloc.get_traced_memory()[0] - before
            tracemalloc.stop()
    return {"chunks": read, "bytes_per_chunk": grown / max(read, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=200_000)
    parser.add_argument("--child", choices=["modelwire", "modelwire-unkept", "httpx"])
    parser.add_argument("--base")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.base, args.chunks)))
        return
    port = _free_port()
    server = subprocess.Popen([sys.executable, str(HERE / "server.py"), "--port", str(port)])
    try:
        time.sleep(1.0)
        base = f"http://127.0.0.1:{port}"
        for library in ("httpx", "modelwire", "modelwire-unkept"):
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    library,
                    "--base",
                    base,
                    "--chunks",
                    str(args.chunks),
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            result = json.loads(out)
            per_chunk = result["bytes_per_chunk"]
            print(f"{library:16} {result['chunks']:>8} chunks  {per_chunk:6.1f} B/chunk")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
