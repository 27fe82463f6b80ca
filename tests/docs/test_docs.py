"""Every Python block of docs/**/*.md and README.md runs, so the docs cannot rot.

Blocks run for real, each as its own `__main__` module (pytest-examples), from the
repository root:

- against a `modelwire.testing.MockProvider`, or a recorded cassette through
  `replay_cassette` (what needs a cloud key is written that way, never skipped). A block
  replaying a `cassettes/...` path runs from a folder laid out like a checkout after
  `nox -s import_cassettes -- cassettes`: the session's conversion of the shared
  recordings as `cassettes/`, beside the repository's `spec/`;
- or against the real local llama.cpp server: the plugin's session fixture
  `modelwire_local_server` (SmolLM2-135M), started only if a block needs it, its URL in
  LLAMACPP_BASE_URL, which `modelwire.LlamaCpp()` and `modelwire.client("llamacpp")` read.

Cloud API keys are set to placeholders so that `modelwire.OpenAI()` can be constructed
(nothing is ever sent with them), and the providers' *_BASE_URL variables are cleared.
A block that defines `test_*` functions (docs/testing.md) has them called too, with the
fixtures they name.
"""

from __future__ import annotations

import asyncio
import inspect
import linecache
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from modelwire.local import LocalServer
from modelwire.testing import AsyncMockProvider, MockProvider
from pytest_examples import CodeExample, EvalExample, find_examples

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README = ROOT / "README.md"

PAGES = [
    "index.md",
    "quickstart.md",
    "streaming.md",
    "messages.md",
    "cli.md",
    "errors.md",
    "resilience.md",
    "tools-and-structured-output.md",
    "conversations.md",
    "reasoning.md",
    "spec-format.md",
    "adding-a-provider.md",
    "testing.md",
    "local.md",
    "architecture.md",
    "observability.md",
    "auth.md",
    "cost.md",
    "limits-and-batches.md",
    *(
        f"providers/{name}.md"
        for name in (
            "openai",
            "anthropic",
            "openrouter",
            "ollama",
            "lmstudio",
            "llamacpp",
            "groq",
            "mistral",
            "deepseek",
            "xai",
            "together",
            "fireworks",
            "cerebras",
            "huggingface",
            "vllm",
            "zai",
            "gemini",
            "azure-openai",
            "bedrock",
        )
    ),
]
# a block naming one of these talks to the session's local server
NEEDS_SERVER = ("LlamaCpp", '"llamacpp', "LLAMACPP_BASE_URL", "modelwire_local_server")
# a block naming one of these starts a server of its own
STARTS_SERVER = ("local_server(", "LocalServer(")
# a block naming this replays converted shared recordings
REPLAYS = '"cassettes/'
PLACEHOLDER_KEYS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY", "GROQ_API_KEY")
# endpoints, local keys and the CLI default of the machine running the tests are ignored
CLEARED_VARIABLES = (
    "OPENAI_BASE_URL",
    "ANTHROPIC_BASE_URL",
    "OPENROUTER_BASE_URL",
    "GROQ_BASE_URL",
    "OLLAMA_HOST",
    "LMSTUDIO_BASE_URL",
    "LLAMACPP_BASE_URL",
    "LLAMACPP_API_KEY",
    *(
        f"{name}_BASE_URL"
        for name in ("MISTRAL", "DEEPSEEK", "XAI", "TOGETHER", "FIREWORKS", "CEREBRAS", "HF", "ZAI")
    ),
    "VLLM_BASE_URL",
    "VLLM_API_KEY",
    "MODELWIRE_PROVIDER",
)


def _examples() -> list[CodeExample]:
    found = [*find_examples(DOCS), *find_examples(README)]
    return sorted(found, key=lambda e: (str(e.path), e.start_line))


def _id(example: CodeExample) -> str:
    return f"{example.path.relative_to(ROOT)}:{example.start_line}"


EXAMPLES = _examples()


@pytest.fixture
def example_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    environ = dict(os.environ)
    monkeypatch.chdir(ROOT)
    for name in CLEARED_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name in PLACEHOLDER_KEYS:
        monkeypatch.setenv(name, f"placeholder-{name.lower()}-never-sent")
    main = sys.modules.get("__main__")
    yield
    # what a block set in the environment (docs/adding-a-provider.md does) goes away
    os.environ.clear()
    os.environ.update(environ)
    # pytest-examples runs each block as `__main__`: give the real one back
    if main is not None:
        sys.modules["__main__"] = main


def describe_failure(exc: BaseException) -> str:
    """The exception and where it was raised: the frames in the example (rewritten by
    pytest-examples to its Markdown file and line) and below."""
    lines = [f"{type(exc).__name__}: {exc}"]
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        where = f"{code.co_filename}:{tb.tb_lineno}"
        text = linecache.getline(code.co_filename, tb.tb_lineno).strip()
        lines.append(f"  {where} in {code.co_name}: {text}")
        tb = tb.tb_next
    return "\n".join(lines)


def checkout_with_cassettes(folder: Path, converted: Path) -> Path:
    """A folder laid out like the root of a checkout where `nox -s import_cassettes --
    cassettes` ran: `cassettes/` (the session's conversion) and the repository's `spec/`."""
    root = folder / "checkout"
    root.mkdir()
    (root / "cassettes").symlink_to(converted, target_is_directory=True)
    (root / "spec").symlink_to(ROOT / "spec", target_is_directory=True)
    return root


def _skip_without_local_extra(source: str) -> None:
    """Skip a block whose server is not installed (fail, under MODELWIRE_LIVE_REQUIRED)."""
    from modelwire.local import (
        LocalDependencyError,
        check_local_extra,
        find_llama_server,
        find_model_path,
    )

    try:
        if 'engine="llama-server"' in source:
            find_llama_server()
        else:
            check_local_extra()
        find_model_path()
    except LocalDependencyError as exc:
        if os.environ.get("MODELWIRE_LIVE_REQUIRED"):
            pytest.fail(f"MODELWIRE_LIVE_REQUIRED is set, but {exc.message}")
        pytest.skip(f"modelwire local server unavailable: {exc.message}")


def _call_defined_tests(module: dict[str, Any], fixtures: dict[str, Callable[[], Any]]) -> int:
    """Calls the `test_*` functions a block defined, with the fixtures they name."""
    called = 0
    for name, value in module.items():
        if not (name.startswith("test_") and inspect.isfunction(value)):
            continue
        kwargs = {param: fixtures[param]() for param in inspect.signature(value).parameters}
        result = value(**kwargs)
        if inspect.iscoroutine(result):
            asyncio.run(result)
        called += 1
    return called


@pytest.mark.usefixtures("example_env")
@pytest.mark.parametrize("example", EXAMPLES, ids=_id)
def test_example_runs(
    example: CodeExample,
    eval_example: EvalExample,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    source = example.source
    if any(word in source for word in NEEDS_SERVER):
        # the plugin's session server: one for all the blocks (and any other test) needing it
        server: LocalServer = request.getfixturevalue("modelwire_local_server")
        monkeypatch.setenv("LLAMACPP_BASE_URL", server.base_url)
    elif any(word in source for word in STARTS_SERVER):
        _skip_without_local_extra(source)
    if REPLAYS in source:
        converted: Path = request.getfixturevalue("converted_cassettes")
        monkeypatch.chdir(checkout_with_cassettes(tmp_path, converted))
    try:
        module = eval_example.run(example)
    except Exception as exc:
        # pytest-examples rewrites the traceback to point into the Markdown file; on
        # Python 3.11 pytest's reporter cannot render such frames, so report it here
        raise AssertionError(describe_failure(exc)) from None
    fixtures: dict[str, Callable[[], Any]] = {
        "mock_provider": MockProvider,
        "async_mock_provider": AsyncMockProvider,
        "modelwire_local_server": lambda: request.getfixturevalue("modelwire_local_server"),
        "tmp_path": lambda: tmp_path,
    }
    called = _call_defined_tests(module, fixtures)
    assert called == len(re.findall(r"^(?:async )?def test_", source, re.M))


@pytest.mark.parametrize("example", EXAMPLES, ids=_id)
def test_example_is_clean(example: CodeExample, eval_example: EvalExample) -> None:
    """ruff, with the project's settings: what a reader copies is clean code."""
    # nested `with` blocks read better in examples than one long `with a, b:`
    eval_example.set_config(ruff_line_length=100, target_version="py310", ruff_ignore=["SIM117"])
    eval_example.lint_ruff(example)


def test_every_page_exists_and_has_a_running_example() -> None:
    in_docs = [e for e in EXAMPLES if e.path != README]
    pages_with_examples = {e.path.relative_to(DOCS).as_posix() for e in in_docs}
    missing = [page for page in PAGES if not (DOCS / page).is_file()]
    assert not missing, f"missing pages: {missing}"
    without = [page for page in PAGES if page not in pages_with_examples]
    assert not without, f"pages without a Python example: {without}"
    assert any(e.path == README for e in EXAMPLES)


def fence_languages(text: str) -> list[str]:
    """The language of every fenced block (the word after its opening fence)."""
    languages: list[str] = []
    inside = False
    for line in text.splitlines():
        match = re.match(r"^ *```(\S*)", line)
        if match is None:
            continue
        if not inside:
            languages.append(match.group(1))
        inside = not inside
    return languages


def test_blocks_say_their_language() -> None:
    """Every block names its language: python blocks run, the others (bash, text, yaml)
    are shown only."""
    for path in [*DOCS.rglob("*.md"), README]:
        languages = set(fence_languages(path.read_text(encoding="utf-8")))
        if path == README:
            languages.discard("")  # its Layout block predates these docs
        unknown = languages - {"python", "bash", "text", "yaml", "json", "toml"}
        assert not unknown, f"{path.relative_to(ROOT)}: fence languages {unknown}"


LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(path: Path) -> set[str]:
    """The anchors a forge makes of a page's headings (GitHub's rules)."""
    text = re.sub(r"^ *```.*?^ *```", "", path.read_text(encoding="utf-8"), flags=re.M | re.S)
    found = set()
    for heading in re.findall(r"^#+ (.+)$", text, re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        found.add(slug)
    return found


def test_relative_links_resolve() -> None:
    for path in DOCS.rglob("*.md"):
        for link in LINK.findall(path.read_text(encoding="utf-8")):
            if "://" in link or link.startswith("mailto:"):
                continue
            target, _, anchor = link.partition("#")
            page = (path.parent / target) if target else path
            where = f"{path.relative_to(ROOT)}: {link}"
            assert page.exists(), where
            if anchor:
                assert anchor in anchors(page), where


def test_testing_page_tests_pass_when_copied_into_a_fresh_project(tmp_path: Path) -> None:
    """docs/testing.md's test functions, as a file in a project with no pytest settings of
    its own (pytest-asyncio in its default strict mode): the mock tests pass as written."""
    [block] = [
        e
        for e in EXAMPLES
        if e.path == DOCS / "testing.md" and re.search(r"^def test_", e.source, re.M)
    ]
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (tmp_path / "test_copied.py").write_text(block.source, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "greeting"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout, done.stdout
