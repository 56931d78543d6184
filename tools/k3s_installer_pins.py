"""Derive the k3s install-script pins (``upstream/k3s_installer.json``) from a k3s git checkout.

For each pinned k3s release the file names a git ref of github.com/k3s-io/k3s and the SHA-256 of
``install.sh`` at that ref. This script recomputes the digest from the checkout
(``git show <ref>:install.sh``) and requires it to equal upstream's own published checksum at the
same ref (``install.sh.sha256sum``, kept beside the script since k3s-io/k3s#8447): a pin is
upstream's statement, checked against the bytes. It also records whether those bytes read
``GITHUB_URL`` from the environment (``readsGithubUrl``: a mirror's binary base needs it).

The ref of a pin is kept as it is (a commit is as immutable as a tag); ``--retag`` moves every
pin to its release's own tag, ``--add VERSION[=REF]`` pins another release (default ref: its
tag). Every pinned version must be a release tag of the checkout.

Usage:
  K3S_SOURCE=/path/to/k3s python tools/k3s_installer_pins.py [--retag] [--add v1.35.5+k3s1]
  python tools/k3s_installer_pins.py --k3s-source DIR --check   # exit 1 when the file drifted
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from tools.lib.generated_file import write_or_check  # noqa: E402

OUTPUT = PROJECT_DIR / "upstream" / "k3s_installer.json"
SCRIPT = "install.sh"
PUBLISHED_SUM = "install.sh.sha256sum"
# How upstream's newer scripts take the releases base from the environment.
READS_GITHUB_URL = b"GITHUB_URL=${GITHUB_URL:-"
SCRIPT_URL = "https://raw.githubusercontent.com/k3s-io/k3s/{ref}/install.sh"
SOURCE = "github.com/k3s-io/k3s: install.sh and install.sh.sha256sum at each pin's ref"


class PinError(Exception):
    """The checkout cannot back a pin: say which and why."""


def git(source: Path, *args: str) -> bytes:
    result = subprocess.run(["git", "-C", str(source), *args], capture_output=True, timeout=120)
    if result.returncode != 0:
        raise PinError(f"git {' '.join(args)}: {result.stderr.decode().strip()}")
    return result.stdout


def pin(source: Path, version: str, ref: str) -> dict[str, Any]:
    """The pin of ``version``'s install script at ``ref``, checked against upstream's checksum."""
    try:
        git(source, "rev-parse", "--verify", "--quiet", f"refs/tags/{version}^{{commit}}")
    except PinError:
        raise PinError(f"{version} is not a release tag of {source}") from None
    script = git(source, "show", f"{ref}:{SCRIPT}")
    digest = hashlib.sha256(script).hexdigest()
    try:
        published = git(source, "show", f"{ref}:{PUBLISHED_SUM}").decode().split()
    except PinError:
        raise PinError(f"{ref} has no {PUBLISHED_SUM}: upstream published no checksum there "
                       "to pin against") from None
    if not published or published[0] != digest:
        raise PinError(f"{SCRIPT} at {ref} has SHA-256 {digest}, but {PUBLISHED_SUM} there says "
                       f"{published[0] if published else '(empty)'}")
    return {"ref": ref, "sha256": digest, "readsGithubUrl": READS_GITHUB_URL in script}


def generate(source: Path, current: dict[str, Any], *, retag: bool = False,
             add: dict[str, str | None] | None = None) -> dict[str, Any]:
    wanted: dict[str, str] = {}
    for version, entry in current.get("pins", {}).items():
        wanted[version] = version if retag else entry["ref"]
    for version, ref in (add or {}).items():
        wanted[version] = ref or version
    return {
        "generator": "tools/k3s_installer_pins.py",
        "pins": {version: pin(source, version, ref) for version, ref in sorted(wanted.items())},
        "scriptUrl": SCRIPT_URL,
        "source": SOURCE,
    }


def render(facts: dict[str, Any]) -> str:
    return json.dumps(facts, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--k3s-source", type=Path, default=os.environ.get("K3S_SOURCE"),
                        help="a k3s git checkout or mirror (default: $K3S_SOURCE)")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when the file differs from what the checkout gives")
    parser.add_argument("--retag", action="store_true",
                        help="pin each release to its own tag's install.sh")
    parser.add_argument("--add", action="append", default=[], metavar="VERSION[=REF]",
                        help="pin another release (default ref: its tag)")
    args = parser.parse_args(argv)
    if args.k3s_source is None:
        parser.error("give --k3s-source or set K3S_SOURCE to a k3s git checkout")
    current = json.loads(args.output.read_text()) if args.output.exists() else {}
    add = {}
    for item in args.add:
        version, _, ref = item.partition("=")
        add[version] = ref or None
    try:
        text = render(generate(args.k3s_source, current, retag=args.retag, add=add))
    except PinError as error:
        print(f"k3s_installer_pins: {error}", file=sys.stderr)
        return 1
    return write_or_check(args.output, text, check=args.check, source=str(args.k3s_source),
                          generator="tools/k3s_installer_pins.py")


if __name__ == "__main__":
    sys.exit(main())
