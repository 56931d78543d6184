"""The README gets a user started and links every page under docs/; links and commands resolve."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import PROJECT_DIR

README = PROJECT_DIR / "README.md"
DOCS = PROJECT_DIR / "docs"
MAX_README_LINES = 200
PAGES = sorted(DOCS.glob("*.md"))
LINK = re.compile(r"\]\(([^)\s]+)\)")
# `python tools/x.py`, `python bench/x.py` in prose and code blocks.
SCRIPT = re.compile(r"\bpython3? ((?:tools|bench)/[\w/]+\.py)")
# `make x` in a code span, or a code-block line starting with it.
MAKE = re.compile(r"(?:`|^)make ([a-z][\w-]*)", re.MULTILINE)
# Targets a page documents ahead of the Makefile change that adds them (strict xfail: the test
# fails once the target exists, so this list cannot go stale).
PENDING_TARGETS: dict[str, str] = {}


def heading_anchor(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {heading_anchor(line.lstrip("#")) for line in page.read_text().splitlines()
            if line.startswith("#")}


def test_readme_stays_short() -> None:
    lines = README.read_text().count("\n")
    assert lines <= MAX_README_LINES, (
        f"README.md has {lines} lines; keep it to what it is, the two commands, real use and "
        "links, and put the rest in a page under docs/")


def test_readme_links_every_docs_page() -> None:
    docs_list = README.read_text().split("\n## Docs\n", 1)[1].split("\n## ", 1)[0]
    linked = {target for target in LINK.findall(docs_list)}
    missing = [f"docs/{page.name}" for page in PAGES if f"docs/{page.name}" not in linked]
    assert not missing, f"add these pages to the README's Docs list: {missing}"


@pytest.mark.parametrize("page", [README, *PAGES], ids=lambda p: p.name)
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"^[a-z]+:", target):
            continue
        path_part, _, anchor = target.partition("#")
        linked = (page.parent / path_part).resolve() if path_part else page
        if not linked.exists():
            broken.append(target)
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(target)
    assert not broken, f"{page.name}: links to nothing: {broken}"


@pytest.mark.parametrize("page", [
    pytest.param(page, marks=pytest.mark.xfail(strict=True, reason=PENDING_TARGETS[page.name]))
    if page.name in PENDING_TARGETS else page for page in [README, *PAGES]],
    ids=lambda p: p.name)
def test_documented_commands_exist(page: Path) -> None:
    text = page.read_text()
    makefile = (PROJECT_DIR / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, re.MULTILINE))
    missing = [script for script in SCRIPT.findall(text) if not (PROJECT_DIR / script).is_file()]
    missing += [f"make {target}" for target in MAKE.findall(text) if target not in targets]
    assert not missing, f"{page.name} documents commands that do not exist: {missing}"


def test_the_checks_can_fail(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Title\n[a](missing.md) [b](#nowhere) [c](#title)\n")
    assert anchors(page) == {"title"}
    assert heading_anchor("What is verified here, and what only a real `pulumi up` shows") == (
        "what-is-verified-here-and-what-only-a-real-pulumi-up-shows")
    assert SCRIPT.findall("run python tools/nope.py --x") == ["tools/nope.py"]
    assert MAKE.findall("to make the chart; `make plan`\nmake test\n") == ["plan", "test"]
