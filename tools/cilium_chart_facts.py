"""Derive the Cilium chart facts the program checks at plan time from the real chart.

    python tools/cilium_chart_facts.py [--check] [--line 1.20] [--reference DIR]

For every supported line (``upstream.cilium.SUPPORTED_LINES``) it reads the chart of the pinned
patch (``newest_verified_patch``) and writes ``upstream/cilium_charts/<line>.json``:

- ``schema``: the chart's ``values.schema.json`` (the schema ``helm template``/``install``
  validates the merged values against), reduced to the keywords that constrain values. A keyword
  the offline validator (``upstream.cilium_schema``) does not implement stops the generator, so a
  new upstream construct cannot be dropped silently.
- ``defaults``: the chart's ``values.yaml`` (what Helm coalesces the user's values onto), without
  image digests: the published chart pins them, the release tag's source leaves them empty, and no
  check reads them.
- ``templateRules``: every ``fail`` and ``required`` in the chart's templates (file and message),
  so a test can require that each one is mirrored in ``upstream.cilium_chart``. ``null`` when only
  the schema of that chart version was available (no templates).

Where the chart comes from, first match wins (the program itself never needs any of these):
1. the real-toolchain cache of ``make engine``,
   ``${XDG_CACHE_HOME:-~/.cache}/k3s-hcloud/engine-*/artifacts/cilium-<version>/chart``;
2. the Go module cache, ``$GOMODCACHE/github.com/cilium/cilium@v<version>/install/kubernetes/cilium``
   (``go mod download github.com/cilium/cilium@v<version>``: the release tag's chart source);
3. ``<DIR>/cilium-chart-<version>/`` for ``--reference DIR`` (or ``$CILIUM_CHART_REFERENCE_DIR``):
   copies of the published chart's schema and values (no templates).

``--check`` writes nothing and exits 1 when a committed file differs from what the chart gives.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from tools.lib.generated_file import write_or_check  # noqa: E402
from upstream.cilium import SUPPORTED_LINES  # noqa: E402
from upstream.cilium_schema import FACTS_DIR, SCHEMA_KEYWORDS  # noqa: E402

REFERENCE_DIR_VARIABLE = "CILIUM_CHART_REFERENCE_DIR"
# Keywords that only describe (no effect on validation).
_DESCRIPTIVE = {"$schema", "title", "description", "default", "examples", "$comment"}


class ChartSourceMissing(LookupError):
    """No copy of the chart of this version on this machine."""


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "k3s-hcloud"


def go_module_cache() -> Path:
    if os.environ.get("GOMODCACHE"):
        return Path(os.environ["GOMODCACHE"])
    gopath = os.environ.get("GOPATH") or str(Path.home() / "go")
    return Path(gopath.split(os.pathsep)[0]) / "pkg" / "mod"


def chart_candidates(version: str, reference: Path | None = None) -> list[Path]:
    reference = reference or (Path(os.environ[REFERENCE_DIR_VARIABLE])
                              if os.environ.get(REFERENCE_DIR_VARIABLE) else None)
    return [
        # `make engine` (tools/real_engine.py): engine-<hash>/artifacts/cilium-<version>/chart
        *sorted(cache_dir().glob(f"engine-*/artifacts/cilium-{version}/chart")),
        cache_dir() / "charts" / f"cilium-{version}",
        go_module_cache() / "github.com" / "cilium" / f"cilium@v{version}" / "install" /
        "kubernetes" / "cilium",
        *([reference / f"cilium-chart-{version}"] if reference else []),
    ]


# The Go module proxy refuses github.com/cilium/cilium@v1.18.12 ("not available") but serves
# v1.18.11: 1.18's template calls are read from that patch's chart source (its values.schema.json
# is identical to 1.18.12's; a patch release does not add or remove validation).
TEMPLATE_SUBSTITUTES = {"1.18.12": "1.18.11"}


def template_chart(version: str) -> tuple[str, Path] | None:
    """The chart whose templates stand for ``version``'s (its own, else the substitute's)."""
    for candidate_version in (version, TEMPLATE_SUBSTITUTES.get(version)):
        if candidate_version is None:
            continue
        for candidate in chart_candidates(candidate_version):
            if (candidate / "templates").is_dir():
                return candidate_version, candidate
    return None


def find_chart(version: str, reference: Path | None = None) -> Path:
    for candidate in chart_candidates(version, reference):
        if (candidate / "values.schema.json").is_file():
            return candidate
    raise ChartSourceMissing(f"no Cilium chart {version} here (looked in "
                             f"{', '.join(map(str, chart_candidates(version, reference)))})")


def compact_schema(node: Any, where: str = "#") -> Any:
    """The schema with descriptive keywords removed; refuses keywords we do not validate."""
    if isinstance(node, list):
        return [compact_schema(item, f"{where}/{i}") for i, item in enumerate(node)]
    if not isinstance(node, dict):
        return node
    unknown = set(node) - SCHEMA_KEYWORDS - _DESCRIPTIVE
    if unknown:
        raise ValueError(f"{where}: schema keyword(s) {', '.join(sorted(unknown))} are not "
                         "implemented by upstream/cilium_schema.py; implement them first")
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DESCRIPTIVE:
            continue
        if key == "properties":
            out[key] = {name: compact_schema(sub, f"{where}/properties/{name}")
                        for name, sub in value.items()}
        elif key in ("items", "anyOf", "oneOf", "allOf", "not", "additionalProperties"):
            out[key] = compact_schema(value, f"{where}/{key}")
        else:
            out[key] = value
    return out


# Template actions, comments excluded; inside them the calls that stop a render.
_ACTION = re.compile(r"\{\{-?(?!\s*/\*)(.*?)-?\}\}", re.DOTALL)
_STRING = r'"((?:[^"\\]|\\.)*)"'
_FAIL_OR_REQUIRED = re.compile(rf"\b(fail|required)\s+(?:\(\s*printf\s+)?{_STRING}")


def template_rules(chart: Path) -> list[dict[str, str]] | None:
    """Every ``fail``/``required`` message in the chart's templates, or None without templates."""
    templates = chart / "templates"
    if not templates.is_dir():
        return None
    found: set[tuple[str, str, str]] = set()
    for path in sorted(templates.rglob("*")):
        if not path.is_file() or path.suffix not in (".yaml", ".tpl", ".yml", ".txt"):
            continue
        for action in _ACTION.finditer(path.read_text()):
            for call in _FAIL_OR_REQUIRED.finditer(action.group(1)):
                message = json.loads(f'"{call.group(2)}"').strip()
                found.add((str(path.relative_to(chart)), call.group(1), message))
    return [{"file": f, "kind": k, "message": m} for f, k, m in sorted(found)]


def _without_digests(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _without_digests(value) for key, value in node.items()
                if not key.lower().endswith("digest")}
    if isinstance(node, list):
        return [_without_digests(item) for item in node]
    return node


def chart_facts(version: str, chart: Path) -> dict[str, Any]:
    schema = json.loads((chart / "values.schema.json").read_text())
    defaults = yaml.safe_load((chart / "values.yaml").read_text())
    return {
        "chart": "cilium",
        "version": version,
        "schema": compact_schema(schema),
        "defaults": _without_digests(defaults),
        **_template_facts(version, chart),
    }


def _template_facts(version: str, chart: Path) -> dict[str, Any]:
    found = (version, chart) if (chart / "templates").is_dir() else template_chart(version)
    if found is None:
        return {"templateSource": None, "templateRules": None}
    return {"templateSource": found[0], "templateRules": template_rules(found[1])}


def render(facts: dict[str, Any]) -> str:
    # One line per top-level key keeps diffs of a regeneration readable and the file small.
    lines = [f"  {json.dumps(key)}: {json.dumps(value, sort_keys=True, separators=(',', ':'))}"
             for key, value in facts.items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def facts_path(minor: str) -> Path:
    return FACTS_DIR / f"{minor}.json"


def line_facts(version: str, chart: Path, target: Path) -> dict[str, Any]:
    """The facts ``target`` should hold for ``chart``. A source without templates (the reference
    copy) keeps the rules committed earlier from a fuller copy of the same chart version: it
    cannot contradict them."""
    derived = chart_facts(version, chart)
    if derived["templateRules"] is None and target.exists():
        committed = json.loads(target.read_text())
        if committed.get("version") == version:
            derived["templateSource"] = committed.get("templateSource")
            derived["templateRules"] = committed.get("templateRules")
    return derived


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    parser.add_argument("--line", action="append", help="only this line (repeatable)")
    parser.add_argument("--reference", type=Path, metavar="DIR",
                        help="a folder of cilium-chart-<version>/ copies (schema and values)")
    args = parser.parse_args(argv)
    status = 0
    for minor in args.line or SUPPORTED_LINES:
        version = SUPPORTED_LINES[minor].newest_verified_patch
        try:
            chart = find_chart(version, args.reference)
        except ChartSourceMissing as missing:
            print(f"skip {minor}: {missing}", file=sys.stderr)
            continue
        target = facts_path(minor)
        text = render(line_facts(version, chart, target))
        line_status = write_or_check(target, text, check=args.check, source=f"the chart at {chart}",
                                     generator=f"tools/cilium_chart_facts.py --line {minor}")
        status = max(status, line_status)
    return status


if __name__ == "__main__":
    sys.exit(main())
