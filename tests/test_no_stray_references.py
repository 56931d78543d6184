"""Product code and docs cite upstream sources or the project's own pages, never project-internal
labels: no "issue 12" or bare "#13" (a tracker the reader cannot see), no documents that are not
in the repository (working notes, a folder beside the checkout).

Upstream issue and pull-request numbers stay allowed when the repository is named
("hetzner-k3s #124", "cilium PR #32828") or given as a URL. Tests may read data beside the
checkout (``tests/helpers.py``), so ``tests/`` is not scanned.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import PROJECT_DIR

PRODUCT = ("components", "stack_config", "cluster_plan", "upstream", "policies", "tools", "docs",
           "bench", "deploy", "examples")
SINGLE_FILES = ("README.md", "__main__.py", "Makefile", "Pulumi.yaml")
SUFFIXES = {".py", ".md", ".yaml", ".yml", ".sh", ".json", ".j2", ".txt", ".toml", ""}

# "issue 12", "issues #12", "Issue-12": a project tracker's number.
ISSUE_NUMBER = re.compile(r"\bissues?[ -]?#?\d+", re.IGNORECASE)
# "#13" not preceded by a repository name, "PR", "issue(s)/" (a URL) or "&" (HTML entity), and
# not a colour ("#222222") or a Markdown heading.
BARE_NUMBER = re.compile(r"(?<![\w&/#])#(\d{1,4})\b(?![0-9a-fA-F])")
# A repository (owner/name, a hyphenated name, a known project) or "PR" right before the number.
NAMED_UPSTREAM = re.compile(
    r"(\b[\w.]+[-/][\w./-]+|\b(cilium|k3s|pulumi|kubernetes|helm|containerd)|\bPR|\bissues?)[ ,]*"
    r"(#\d+[, ]*)+$", re.IGNORECASE)
ABSENT_DOCUMENTS = re.compile(
    r"domain[ -]notes|\.\./shared\b|/work/|shared/docs|shared/reference|\bstyle\.md\b|"
    r"\bguide\.md\b|\bseed (material|guidance)\b|\bthe brief\b|\b(both|the) anchors\b",
    re.IGNORECASE)


def product_files() -> list[Path]:
    files = [PROJECT_DIR / name for name in SINGLE_FILES if (PROJECT_DIR / name).is_file()]
    for folder in PRODUCT:
        for path in sorted((PROJECT_DIR / folder).rglob("*")):
            if (path.is_file() and path.suffix in SUFFIXES and "__pycache__" not in path.parts
                    and not path.name.endswith(".lock")):
                files.append(path)
    return files


def stray_issue_numbers(text: str) -> list[str]:
    found = [m.group(0) for m in ISSUE_NUMBER.finditer(text)
             if not text[max(0, m.start() - 1):m.start()] == "/"]   # .../issues/173 is a URL
    for match in BARE_NUMBER.finditer(text):
        line_start = text.rfind("\n", 0, match.start()) + 1
        before = text[line_start:match.end()]
        if NAMED_UPSTREAM.search(before):
            continue
        found.append(match.group(0))
    return found


def test_a_project_issue_number_is_caught() -> None:
    assert stray_issue_numbers("# see issue 12 for why") == ["issue 12"]
    assert stray_issue_numbers("fixed in #13") == ["#13"]
    assert stray_issue_numbers("(issues #4, #5)") == ["issues #4"]


def test_an_upstream_citation_is_not_caught() -> None:
    for text in ("hetzner-k3s #124", "hetzner-k3s #173, #295", "kube-hetzner PR #1097",
                 "terraform-provider-hcloud #372", "cilium PR #32828", "cilium #18706",
                 "https://github.com/vitobotta/hetzner-k3s/issues/173", 'colour="#222222"',
                 "&#39;", "GitHub refuses issue comments longer than 65536 characters."):
        assert stray_issue_numbers(text) == [], text


def test_an_absent_document_is_caught() -> None:
    for text in ("see domain notes §5", "Ref: ../shared/reference/x", "seed material",
                 "both anchors default to it"):
        assert ABSENT_DOCUMENTS.search(text), text


@pytest.mark.parametrize("path", product_files(), ids=lambda p: str(p.relative_to(PROJECT_DIR)))
def test_product_code_cites_what_a_reader_can_open(path: Path) -> None:
    text = path.read_text(errors="replace")
    where = path.relative_to(PROJECT_DIR)
    assert stray_issue_numbers(text) == [], (
        f"{where}: cite the upstream source (URL or repository and number) or a docs/ page, "
        "not a project tracker number")
    absent = sorted({m.group(0) for m in ABSENT_DOCUMENTS.finditer(text)})
    assert absent == [], f"{where}: {absent} name a document not in the repository"
