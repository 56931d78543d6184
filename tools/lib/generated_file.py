"""Write a generated file, or (``--check``) say whether the committed one is current.

The generators under ``tools/`` derive ``upstream/`` facts from upstream artifacts (and the
configuration reference from the config models); each one's ``--check`` mode is what its drift
test or CI runs, so the comparison and its message live here once.
"""

from __future__ import annotations

import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]


def write_or_check(path: Path, text: str, *, check: bool, source: str, generator: str) -> int:
    """0 when written (or current under ``check``), 1 when ``check`` finds ``path`` stale.

    A missing file is stale, not an error: a new generator's first ``--check`` says to run it.
    ``source`` names what the text was derived from, ``generator`` the command that rewrites it.
    """
    shown = _shown(path)
    if check:
        if not path.exists() or path.read_text() != text:
            print(f"{shown} differs from {source}; run {generator}", file=sys.stderr)
            return 1
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"wrote {shown} from {source}", file=sys.stderr)
    return 0


def _shown(path: Path) -> str:
    """The path as a reader of the repository names it (relative when inside the project)."""
    try:
        return str(path.resolve().relative_to(PROJECT_DIR))
    except ValueError:
        return str(path)
