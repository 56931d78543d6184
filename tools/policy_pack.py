"""Assemble the policy pack as `pulumi policy publish` ships it: one folder, nothing outside it.

    python3 tools/policy_pack.py DIR        # e.g. out/policy-pack (make policy-pack)
    pulumi policy publish DIR               # then publish that folder

In the repository the pack's rules (``policies/``) import the upstream facts they share with the
program from ``upstream/`` beside them; a published pack holds only its own folder. The assembled
folder is the pack's metadata and entry point at its root, with the ``policies`` package and a copy
of ``upstream/`` inside, so the single source stays ``upstream/`` in the repository and the copy
is made at publish time. Standard library only.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
POLICIES_DIR = PROJECT_DIR / "policies"
UPSTREAM_DIR = PROJECT_DIR / "upstream"
# The pack's own files that `pulumi policy publish` reads at the root of the folder it packs.
ROOT_FILES = ("PulumiPolicy.yaml", "requirements.txt", "__main__.py", "config.example.json")
ENGINE_ARTIFACTS = "engine_artifacts.json"
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "venv", *ROOT_FILES)


def assemble(dest: Path) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name in ROOT_FILES:
        shutil.copyfile(POLICIES_DIR / name, dest / name)
    shutil.copytree(POLICIES_DIR, dest / "policies", ignore=_SKIP)
    # All of upstream/ (its modules read data files beside them), but the engine's artifact list,
    # which is for `make engine`, not the pack.
    shutil.copytree(UPSTREAM_DIR, dest / "upstream", ignore=shutil.ignore_patterns(
        "__pycache__", "*.pyc", ENGINE_ARTIFACTS))
    return dest


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python3 tools/policy_pack.py DIR\n")
        return 2
    dest = assemble(Path(argv[0]))
    print(f"policy pack assembled in {dest}: publish with `pulumi policy publish {dest}`")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
