"""mkdocs hook: the repository files that pages link to outside docs/ (provider specs,
bench/README.md, the bench results) are put into the site under `repository/`, and the
links are pointed at them, so that every link of the site works offline. Markdown files
pulled in this way are pages, and their own links are followed the same way.

A link to a file that does not exist is left as it is: `mkdocs build --strict` then fails
on it, as on any broken link.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page

# where, in the site, the files from outside docs/ go
REPOSITORY = "repository"
# an inline Markdown link's target: [text](target) or [text](target#anchor)
LINK = re.compile(r"(?<=\]\()([^)\s#]+)(?=[)#])")
FENCE = re.compile(r"^ *(```|~~~)")


def _repository_root(config: MkDocsConfig) -> Path:
    return Path(config.docs_dir).resolve().parent


def _repository_path(src_uri: str) -> str:
    """Where a site file comes from, relative to the repository root."""
    if src_uri.startswith(f"{REPOSITORY}/"):
        return src_uri.removeprefix(f"{REPOSITORY}/")
    return f"docs/{src_uri}"


def _site_path(repository_path: str) -> str:
    """Where a repository file is in the site."""
    if repository_path.startswith("docs/"):
        return repository_path.removeprefix("docs/")
    return f"{REPOSITORY}/{repository_path}"


def _link_targets(text: str) -> list[str]:
    """The relative link targets of a Markdown text, outside fenced code blocks."""
    targets: list[str] = []
    fenced = False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            targets += [t for t in LINK.findall(line) if "://" not in t and ":" not in t]
    return targets


def _linked_file(src_uri: str, target: str, root: Path) -> str | None:
    """The repository path of the existing file a link from `src_uri` points at, if any."""
    folder = posixpath.dirname(_repository_path(src_uri))
    joined = posixpath.normpath(posixpath.join(folder, target))
    if joined.startswith("../") or not (root / joined).is_file():
        return None
    return joined


def on_files(files: Files, config: MkDocsConfig) -> Files:
    root = _repository_root(config)
    pending = [page.src_uri for page in files.documentation_pages()]
    while pending:
        src_uri = pending.pop()
        text = (root / _repository_path(src_uri)).read_text(encoding="utf-8")
        for target in _link_targets(text):
            linked = _linked_file(src_uri, target, root)
            if linked is None or linked.startswith("docs/"):
                continue
            site_path = _site_path(linked)
            if files.get_file_from_path(site_path) is not None:
                continue
            files.append(
                File.generated(
                    config,
                    site_path,
                    abs_src_path=str(root / linked),
                    inclusion=InclusionLevel.NOT_IN_NAV,
                )
            )
            if site_path.endswith(".md"):
                pending.append(site_path)
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    root = _repository_root(config)
    src_uri = page.file.src_uri

    def point_into_site(match: re.Match[str]) -> str:
        target = match.group(1)
        linked = _linked_file(src_uri, target, root)
        if linked is None:
            return target
        here = posixpath.dirname(src_uri)
        return posixpath.relpath(_site_path(linked), here or ".")

    out: list[str] = []
    fenced = False
    for line in markdown.splitlines(keepends=True):
        if FENCE.match(line):
            fenced = not fenced
        out.append(line if fenced else LINK.sub(point_into_site, line))
    return "".join(out)
