"""Derive k3s's config.yaml keys (flags, aliases, which command reads them) from k3s's own source.

    python tools/k3s_flags.py <k3s source>            # print the table as JSON
    python tools/k3s_flags.py <k3s source> --write    # rewrite upstream/k3s_flags.json
    python tools/k3s_flags.py <k3s source> --check    # exit 1 when the committed table differs

``<k3s source>`` is a k3s checkout, or the staged files of one (the default cache:
``${XDG_CACHE_HOME:-~/.cache}/k3s-hcloud/k3s-source/<version>/pkg/cli/cmds/*.go``, with a
``SOURCE.json`` saying where the files came from, which is copied into the table).

k3s reads ``config.yaml`` as command-line flags (pkg/configfilearg: each key becomes ``--key``,
a one-letter key ``-k``), so the keys a node accepts are exactly the flags of its command: the
``server`` command's flag list (``ServerFlags`` / ``NewServerCommand``) and the ``agent``
command's (``NewAgentCommand``), both in ``pkg/cli/cmds``. Flags are urfave/cli literals:
``Name: "token,t"`` (v1: the name, then its aliases) or ``Name: "token", Aliases: []string{"t"}``
(v2/v3). A list names a flag either inline or by the variable that holds it.
tests/test_k3s_flags.py regenerates the table when the staged source is present.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.lib.generated_file import write_or_check  # noqa: E402

TABLE = ROOT / "upstream" / "k3s_flags.json"
COMMANDS = ("server", "agent")

_FLAG_LITERAL = re.compile(r"&?cli\.(?P<kind>\w+)Flag\{")
_VAR_FLAG = re.compile(r"\b(?P<var>\w+)\s*=\s*&?cli\.(?P<kind>\w+)Flag\{")
_FLAG_LIST = re.compile(r"\b(?P<var>\w+)\s*=\s*\[\]cli\.Flag\{")
_NAME = re.compile(r'\bName:\s*"(?P<names>[^"]+)"')
_ALIASES = re.compile(r"\bAliases:\s*\[\]string\{(?P<aliases>[^}]*)\}")
_HIDDEN = re.compile(r"\bHidden:\s*true\b")


@dataclass(frozen=True)
class Flag:
    name: str
    aliases: tuple[str, ...]
    kind: str
    """urfave/cli flag type without ``Flag``: ``String``, ``StringSlice``, ``Bool``, …"""
    hidden: bool


def default_source_root() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "k3s-hcloud" / "k3s-source"


def staged_sources(root: Path | None = None) -> list[Path]:
    """Staged k3s sources (directories holding pkg/cli/cmds), oldest name first."""
    base = root or default_source_root()
    if not base.is_dir():
        return []
    return sorted(p for p in base.iterdir() if (p / "pkg" / "cli" / "cmds").is_dir())


def _block_end(text: str, open_brace: int) -> int:
    """Index just past the brace matching ``text[open_brace]``; Go string literals skipped."""
    depth, i = 0, open_brace
    while i < len(text):
        char = text[i]
        if char in "\"`":
            close = "`" if char == "`" else '"'
            i += 1
            while i < len(text) and text[i] != close:
                i += 2 if close == '"' and text[i] == "\\" else 1
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ValueError("unbalanced braces in Go source")


def _top_level_items(body: str) -> list[str]:
    """The comma-separated elements of a Go composite literal's body (comments dropped)."""
    body = re.sub(r"//[^\n]*", "", body)
    items, depth, start, i = [], 0, 0, 0
    while i < len(body):
        char = body[i]
        if char in "\"`":
            close = "`" if char == "`" else '"'
            i += 1
            while i < len(body) and body[i] != close:
                i += 2 if close == '"' and body[i] == "\\" else 1
        elif char in "{([":
            depth += 1
        elif char in "})]":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(body[start:i].strip())
            start = i + 1
        i += 1
    items.append(body[start:].strip())
    return [item for item in items if item]


def _flag_from_literal(kind: str, body: str) -> Flag | None:
    name = _NAME.search(body)
    if name is None:
        return None
    names = [part.strip() for part in name.group("names").split(",") if part.strip()]
    extra = _ALIASES.search(body)
    if extra:
        names += re.findall(r'"([^"]+)"', extra.group("aliases"))
    return Flag(names[0], tuple(names[1:]), kind, bool(_HIDDEN.search(body)))


def _literal_at(text: str, match: re.Match[str]) -> Flag | None:
    brace = match.end() - 1
    return _flag_from_literal(match.group("kind"), text[brace + 1:_block_end(text, brace) - 1])


def aliases_in(go_source: str) -> dict[str, str]:
    """{alias: flag name} for every flag literal in one Go file."""
    found: dict[str, str] = {}
    for match in _FLAG_LITERAL.finditer(go_source):
        flag = _literal_at(go_source, match)
        for alias in flag.aliases if flag else ():
            found[alias] = flag.name
    return found


class _Package:
    """The Go files of pkg/cli/cmds: flag variables, flag lists, command constructors."""

    def __init__(self, cmds: Path) -> None:
        self.text = "\n".join(p.read_text() for p in sorted(cmds.glob("*.go"))
                              if not p.name.endswith("_test.go"))
        self.variables: dict[str, Flag] = {}
        for match in _VAR_FLAG.finditer(self.text):
            flag = _literal_at(self.text, match)
            if flag:
                self.variables[match.group("var")] = flag

    def _list_body(self, brace: int) -> str:
        return self.text[brace + 1:_block_end(self.text, brace) - 1]

    def command_flags(self, command: str) -> dict[str, Flag]:
        constructor = re.search(rf"func New{command.capitalize()}Command\b", self.text)
        if constructor is None:
            raise ValueError(f"no New{command.capitalize()}Command in pkg/cli/cmds")
        flags_field = re.compile(r"\bFlags:\s*(?:(?P<inline>\[\]cli\.Flag\{)|(?P<var>\w+))")
        field = flags_field.search(self.text, constructor.end())
        if field is None:
            raise ValueError(f"New{command.capitalize()}Command has no Flags")
        if field.group("inline"):
            body = self._list_body(field.end() - 1)
        else:
            lists = {m.group("var"): m for m in _FLAG_LIST.finditer(self.text)}
            body = self._list_body(lists[field.group("var")].end() - 1)
        flags: dict[str, Flag] = {}
        for item in _top_level_items(body):
            literal = _FLAG_LITERAL.match(item)
            flag = (_literal_at(item, literal) if literal
                    else self.variables.get(item.lstrip("&")))
            if flag is None:
                raise ValueError(f"{command}: flag {item[:40]!r} is not defined in pkg/cli/cmds")
            flags[flag.name] = flag
        return flags


def flag_table(k3s_root: Path) -> dict[str, Any]:
    """{command: {flag: {aliases, kind, hidden}}} plus {alias: flag} over both commands."""
    package = _Package(k3s_root / "pkg" / "cli" / "cmds")
    table: dict[str, Any] = {}
    aliases: dict[str, str] = {}
    for command in COMMANDS:
        flags = package.command_flags(command)
        table[command] = {name: {"aliases": list(flag.aliases), "kind": flag.kind,
                                 "hidden": flag.hidden} for name, flag in sorted(flags.items())}
        for flag in flags.values():
            aliases.update({alias: flag.name for alias in flag.aliases})
    table["aliases"] = dict(sorted(aliases.items()))
    return table


def short_aliases(k3s_root: Path) -> dict[str, str]:
    """One-letter aliases of server and agent flags (the ones config.yaml users meet)."""
    return {alias: flag for alias, flag in flag_table(k3s_root)["aliases"].items()
            if len(alias) == 1}


def source_record(k3s_root: Path) -> dict[str, Any]:
    """Where the source came from: its SOURCE.json (staged files) or the checkout's path name."""
    record = k3s_root / "SOURCE.json"
    if record.is_file():
        return json.loads(record.read_text())
    return {"checkout": k3s_root.name}


def derived(k3s_root: Path) -> dict[str, Any]:
    return {"generated_by": "tools/k3s_flags.py", "source": source_record(k3s_root),
            **flag_table(k3s_root)}


def main(argv: list[str]) -> int:
    args = [a for a in argv if a not in ("--write", "--check")]
    if len(args) != 1 or not (Path(args[0]) / "pkg" / "cli" / "cmds").is_dir():
        print("usage: python tools/k3s_flags.py <k3s source with pkg/cli/cmds> [--write|--check]",
              file=sys.stderr)
        return 1
    text = json.dumps(derived(Path(args[0])), indent=1, sort_keys=False) + "\n"
    if "--write" in argv or "--check" in argv:
        return write_or_check(TABLE, text, check="--check" in argv, source=args[0],
                              generator="tools/k3s_flags.py <k3s source> --write")
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
