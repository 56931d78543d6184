"""Derive k3s's config-key aliases from k3s's own CLI definitions.

    python tools/k3s_flags.py <k3s checkout>      # prints {alias: flag} for upstream/k3s.py

k3s defines its flags in ``pkg/cli/cmds/*.go`` with urfave/cli: ``Name: "token,t"`` (v1 style:
the name, then aliases) or ``Name: "token", Aliases: []string{"t"}`` (v2 style). config.yaml
keys may use any of them. tests/test_k3s_flags.py compares the result with
``upstream.k3s.FLAG_ALIASES`` when a k3s checkout is given in ``K3S_SOURCE``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

_FLAG = re.compile(r"&?cli\.\w+Flag\{(?P<body>.*?)\n\s*\}", re.S)
_NAME = re.compile(r'\bName:\s*"(?P<names>[^"]+)"')
_ALIASES = re.compile(r"\bAliases:\s*\[\]string\{(?P<aliases>[^}]*)\}")


def aliases_in(go_source: str) -> dict[str, str]:
    """{alias: flag name} for every flag literal in one Go file."""
    found: dict[str, str] = {}
    for flag in _FLAG.finditer(go_source):
        body = flag.group("body")
        name = _NAME.search(body)
        if name is None:
            continue
        names = [part.strip() for part in name.group("names").split(",") if part.strip()]
        extra = _ALIASES.search(body)
        if extra:
            names += re.findall(r'"([^"]+)"', extra.group("aliases"))
        for alias in names[1:]:
            found[alias] = names[0]
    return found


def short_aliases(k3s_root: Path) -> dict[str, str]:
    """One-letter aliases of server and agent flags (the ones config.yaml users meet)."""
    found: dict[str, str] = {}
    for path in sorted((k3s_root / "pkg" / "cli" / "cmds").glob("*.go")):
        found.update(aliases_in(path.read_text()))
    return {alias: flag for alias, flag in sorted(found.items()) if len(alias) == 1}


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not (Path(argv[0]) / "pkg" / "cli" / "cmds").is_dir():
        print("usage: python tools/k3s_flags.py <k3s checkout>", file=sys.stderr)
        return 1
    print(short_aliases(Path(argv[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
