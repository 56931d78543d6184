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
    render_table,
    undocumented,
    with_block,
    with_declarations,
)
from tools.lib.generated_file import write_or_check  # noqa: E402

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
    rendered = {PAGE: with_block(PAGE.read_text(), render_table()),
                PROJECT_FILE: with_declarations(PROJECT_FILE.read_text())}
    # Every file is compared (a list, not any()), so --check names each stale one.
    return max([write_or_check(path, text, check=args.check,
                               source="the field docstrings under stack_config/",
                               generator="tools/config_reference.py")
                for path, text in rendered.items()])


if __name__ == "__main__":
    sys.exit(main())
