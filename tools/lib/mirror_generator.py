"""The command line of a generator that derives one facts file from one upstream git mirror.

    python tools/<generator>.py --git-dir DIR [--check]   (or <VARIABLE>=DIR)

``--git-dir`` is a bare mirror (or a clone's ``.git``), read by ``tools/lib/git_mirror.py``;
``--check`` writes nothing and exits 1 when the committed file differs
(``tools/lib/generated_file.py``). A missing mirror, tag or file is an ``error:`` line and exit 1.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from tools.lib.generated_file import write_or_check
from tools.lib.git_mirror import GitReadError


def run(argv: list[str] | None, *, description: str, variable: str, repository: str,
        output: Path, derive: Callable[[str], str], source: str, generator: str) -> int:
    """Parse ``argv``, render ``derive(git_dir)`` and write or check ``output``.

    ``repository`` is the upstream owner/name (for help and errors); ``source`` says what in the
    mirror the text comes from (e.g. "the tag apisix-2.14.0"); ``generator`` is the command.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--git-dir", default=os.environ.get(variable),
                        help=f"a mirror or clone of {repository} (default: ${variable})")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when the committed file differs")
    args = parser.parse_args(argv)
    if args.git_dir is None:
        print(f"error: give --git-dir DIR or set {variable} (a mirror of {repository})",
              file=sys.stderr)
        return 1
    try:
        text = derive(args.git_dir)
    except GitReadError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return write_or_check(output, text, check=args.check, source=f"{source} of {args.git_dir}",
                          generator=generator)
