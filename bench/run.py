"""Side-by-side stream benchmark of modelwire and its peers, reported as ratios.

    python bench/run.py [--quick] [--json out.json] [--markdown out.md] [--only TEXT]

Starts `server.py` in its own process, then runs every row of every section (see plan.py)
interleaved over several rounds, each measurement in a fresh `workloads.py` process, and
prints one table per section with the medians. See bench/README.md for how to read them.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import plan
import report

BENCH = Path(__file__).resolve().parent
SDK = BENCH.parent / "sdk"
RESULTS = BENCH / "results"
# The committed results are a full run's. A quick or partial run writes here instead
# (git-ignored), so it never overwrites them.
SCRATCH = RESULTS / "scratch"
CHILD_TIMEOUT = 300.0
RESULT_PREFIX = "BENCH-RESULT "
LIBRARIES = ("modelwire", "httpx", "httpx2", "pydantic", "openai", "anthropic", "litellm", "ollama")

Samples = dict[str, dict[str, list[Mapping[str, float]]]]
Errors = dict[str, dict[str, str]]


class RowFailedError(RuntimeError):
    pass


# --------------------------------------------------------------------------- environment


def child_env() -> dict[str, str]:
    """The environment of every measured process: modelwire from the installed package,
    else from sdk/; LiteLLM told not to fetch its model price list at import."""
    env = dict(os.environ, LITELLM_LOCAL_MODEL_COST_MAP="True")
    if importlib.util.find_spec("modelwire") is None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SDK), env.get("PYTHONPATH")]))
    return env


def modelwire_origin(env: Mapping[str, str]) -> dict[str, str]:
    """Where the measured processes import modelwire from, and its version."""
    code = (
        "import json, modelwire; "
        "print(json.dumps({'origin': modelwire.__file__, 'version': modelwire.__version__}))"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["?"])[-1]}
    return dict(json.loads(done.stdout))


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def machine_info(env: Mapping[str, str]) -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "load_average_at_start": os.getloadavg(),
        "python": sys.version,
        "implementation": platform.python_implementation(),
        "libraries": {name: _version(name) for name in LIBRARIES},
        "modelwire": modelwire_origin(env),
    }


# --------------------------------------------------------------------------- processes


@contextlib.contextmanager
def bench_server(config: plan.Config) -> Iterator[str]:
    counts = {config.chunks, config.slow_chunks, config.stream_chunks, config.ttfc_chunks}
    command = [sys.executable, str(BENCH / "server.py"), "--precompute", ",".join(map(str, counts))]
    # the server's bodies come from modelwire's dialect writers: it imports modelwire too
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=child_env())
    try:
        assert server.stdout is not None
        ready = server.stdout.readline().split()
        if ready[:1] != ["READY"]:
            raise RuntimeError(f"the bench server did not start: {ready!r}")
        yield f"http://127.0.0.1:{ready[1]}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def _failure(done: subprocess.CompletedProcess[str]) -> RowFailedError:
    lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
    return RowFailedError(lines[-1][:300])


def run_workload(task: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, float]:
    command = [sys.executable, str(BENCH / "workloads.py"), json.dumps(task)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=CHILD_TIMEOUT)
    if done.returncode != 0:
        raise _failure(done)
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return dict(json.loads(line[len(RESULT_PREFIX) :]))
    raise RowFailedError("the workload printed no result")


def time_import(statement: str, env: Mapping[str, str]) -> dict[str, float]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", statement],
        env=env,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise _failure(done)
    return {"wall": wall}


def measure(row: plan.Row, server: str, env: Mapping[str, str]) -> dict[str, float]:
    if row.task["kind"] == "import":
        return time_import(row.task["statement"], env)
    return run_workload({**row.task, "server": server}, env)


# --------------------------------------------------------------------------- the run


def _rotated(rows: tuple[plan.Row, ...], by: int) -> list[plan.Row]:
    """A different order each round, so no row always runs right after the same one."""
    by %= max(len(rows), 1)
    return list(rows[by:] + rows[:by])


def run_rounds(
    sections: tuple[plan.Section, ...], server: str, env: Mapping[str, str]
) -> tuple[Samples, Errors]:
    samples: Samples = {s.key: {row.label: [] for row in s.rows} for s in sections}
    errors: Errors = {s.key: {} for s in sections}
    for round_ in range(max((s.rounds for s in sections), default=0)):
        for section in sections:
            if round_ >= section.rounds:
                continue
            for row in _rotated(section.rows, round_):
                if row.label in errors[section.key]:
                    continue
                progress = f"[{section.key} {round_ + 1}/{section.rounds}] {row.label}"
                try:
                    samples[section.key][row.label].append(measure(row, server, env))
                except (RowFailedError, subprocess.TimeoutExpired) as error:
                    errors[section.key][row.label] = str(error)
                    print(f"{progress}: FAILED: {error}", file=sys.stderr, flush=True)
                else:
                    print(progress, file=sys.stderr, flush=True)
    return samples, errors


def warm_imports(sections: tuple[plan.Section, ...], env: Mapping[str, str]) -> None:
    """One untimed run of each import statement, so that bytecode caches exist."""
    for section in sections:
        for row in section.rows:
            if row.task["kind"] == "import":
                with contextlib.suppress(RowFailedError):
                    time_import(row.task["statement"], env)


def tables(
    sections: tuple[plan.Section, ...], medians: Mapping[str, report.Medians], errors: Errors
) -> list[report.Table]:
    out = []
    for section in sections:
        out.append(report.section_table(section, medians[section.key], errors[section.key]))
        peers = report.peer_table(section, medians[section.key])
        if peers:
            out.append(peers)
    return out


def results_json(
    sections: tuple[plan.Section, ...],
    samples: Samples,
    medians: Mapping[str, report.Medians],
    errors: Errors,
) -> dict[str, Any]:
    return {
        section.key: {
            "title": section.title,
            "rounds": section.rounds,
            "rows": [
                {
                    "label": row.label,
                    "library": row.library,
                    "shape": row.shape,
                    "mode": row.mode,
                    "task": dict(row.task),
                    "samples": samples[section.key][row.label],
                    "median": medians[section.key].get(row.label),
                    "error": errors[section.key].get(row.label),
                }
                for row in section.rows
            ],
        }
        for section in sections
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 rounds, fewer chunks (~3 min)")
    where = "in bench/results/ for a full run, bench/results/scratch/ for a quick or partial one"
    parser.add_argument("--json", type=Path, help=f"the samples (default: latest.json {where})")
    parser.add_argument("--markdown", type=Path, help=f"the tables (default: latest.md {where})")
    parser.add_argument("--rounds", type=int, help="override the number of rounds")
    parser.add_argument(
        "--only", action="append", default=[], help="run only rows (or sections) containing TEXT"
    )
    return parser.parse_args(argv)


def is_full_run(args: argparse.Namespace) -> bool:
    """Every row, every round, every chunk: the only kind of run the committed results hold."""
    return not (args.quick or args.only or args.rounds)


def output_paths(args: argparse.Namespace) -> tuple[Path, Path]:
    """Where the JSON and the markdown go: the paths asked for, else `bench/results/` for a
    full run and the git-ignored `bench/results/scratch/` for a quick or partial one."""
    folder = RESULTS if is_full_run(args) else SCRATCH
    return (args.json or folder / "latest.json", args.markdown or folder / "latest.md")


def selected(config: plan.Config, only: list[str]) -> tuple[plan.Section, ...]:
    def wanted(section: plan.Section, row: plan.Row) -> bool:
        return not only or any(text in f"{section.key} {row.label}" for text in only)

    chosen = []
    for section in plan.sections(config):
        rows = tuple(row for row in section.rows if wanted(section, row))
        if rows:
            chosen.append(replace(section, rows=rows))
    return tuple(chosen)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = plan.QUICK if args.quick else plan.Config()
    if args.rounds:
        config = replace(config, rounds=args.rounds)
    sections = selected(config, args.only)
    env = child_env()
    machine = machine_info(env)
    started = time.perf_counter()
    warm_imports(sections, env)
    with bench_server(config) as server:
        samples, errors = run_rounds(sections, server, env)
    medians = {s.key: plan.summarize(s, samples[s.key]) for s in sections}
    machine["load_average_at_end"] = os.getloadavg()
    out = tables(sections, medians, errors)
    print("\n\n".join(report.render_text(table) for table in out))
    duration = time.perf_counter() - started
    document = {
        "machine": machine,
        "config": asdict(config) | {"quick": args.quick},
        "duration_s": duration,
        "sections": results_json(sections, samples, medians, errors),
    }
    json_path, markdown_path = output_paths(args)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(document, indent=2) + "\n")
    markdown_path.parent.mkdir(parents=True, exist_ok=True)
    markdown_path.write_text(markdown(out, machine, duration))
    print(f"\nresults written to {json_path} and {markdown_path}", file=sys.stderr)
    failed = sum(len(e) for e in errors.values())
    if failed:
        print(f"\n{failed} row(s) FAILED: see the tables above", file=sys.stderr)
    return 1 if failed else 0


def markdown(out: list[report.Table], machine: Mapping[str, Any], duration: float) -> str:
    versions = machine["libraries"] | {"modelwire": machine["modelwire"].get("version")}
    libraries = ", ".join(f"{name} {v}" for name, v in versions.items() if v)
    header = (
        f"Machine: {machine['cpu_model']}, {machine['cores']} cores, {machine['platform']}, "
        f"Python {machine['python'].split()[0]}. Libraries: {libraries}. "
        f"Run time {duration:.0f} s."
    )
    return "\n\n".join([header, *(report.render_markdown(table) for table in out)]) + "\n"


if __name__ == "__main__":
    sys.exit(main())
