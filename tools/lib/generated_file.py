"""Write a generated facts file, or (``--check``) say whether the committed one is current.

The generators under ``tools/`` derive ``upstream/`` facts from upstream artifacts; each one's
``--check`` mode is what its drift test runs, so the comparison and its message live here once.
"""

from __future__ import annotations

import sys
from pathlib import Path


def write_or_check(path: Path, text: str, *, check: bool, source: str, generator: str) -> int:
    """0 when written (or current under ``check``), 1 when ``check`` finds ``path`` stale."""
    if check:
        if not path.exists() or path.read_text() != text:
            print(f"{path} differs from {source}; run {generator}", file=sys.stderr)
            return 1
        return 0
    path.write_text(text)
    print(f"wrote {path.name}", file=sys.stderr)
    return 0
