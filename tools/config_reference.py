"""Write the configuration reference from the config models' field docstrings.

    python tools/config_reference.py           # updates docs/configuration.md and Pulumi.yaml
    python tools/config_reference.py --check   # exit 1 when either is out of date

A key's meaning lives in its field docstring under ``stack_config/`` and its default in the
model; the table in docs/configuration.md and the ``config:`` declarations of Pulumi.yaml are
rendered from them (``tools/lib/config_reference.py``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from tools.lib.config_reference import (  # noqa: E402
    block_of,
    render_table,
    undocumented,
    with_block,
    with_declarations,
)

PAGE = PROJECT_DIR / "docs" / "configuration.md"
PROJECT_FILE = PROJECT_DIR / "Pulumi.yaml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="only compare; exit 1 when a file is out of date")
    args = parser.parse_args(argv)
    missing = undocumented()
    if missing:
        print("keys without a field docstring (document them in stack_config/): "
              + ", ".join(missing), file=sys.stderr)
        return 1
    page, project = PAGE.read_text(), PROJECT_FILE.read_text()
    table = render_table()
    new_project = with_declarations(project)
    if args.check:
        stale = [str(path.relative_to(PROJECT_DIR)) for path, fresh in
                 ((PAGE, block_of(page) == table), (PROJECT_FILE, new_project == project))
                 if not fresh]
        if stale:
            print(f"out of date: {', '.join(stale)}: run python tools/config_reference.py",
                  file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(with_block(page, table))
    PROJECT_FILE.write_text(new_project)
    return 0


if __name__ == "__main__":
    sys.exit(main())
