"""Derive which Gateway API release each Cilium release passed, from upstream's conformance reports.

    python tools/cilium_gateway_conformance.py [--check]

The Gateway API project publishes, per Gateway API release, the conformance reports of each
implementation (``conformance/reports/<gateway-api>/<implementation>/*-report.yaml``, shipped in
the ``sigs.k8s.io/gateway-api/conformance`` Go module). This reads every Cilium report of the
newest such module in the Go module cache (``go mod download
sigs.k8s.io/gateway-api/conformance@<version>``) and writes
``upstream/cilium_charts/gateway-api-conformance.json``: per report, the Cilium version tested
(``main`` for a development snapshot), the Gateway API version and channel, and whether every
conformance test it ran succeeded. ``upstream.cilium`` lets a line accept the Gateway API minor
its releases passed, besides the bundle it installs.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from tools.cilium_chart_facts import go_module_cache  # noqa: E402
from tools.lib.generated_file import write_or_check  # noqa: E402
from upstream.cilium_schema import FACTS_DIR  # noqa: E402

TARGET = FACTS_DIR / "gateway-api-conformance.json"
_MODULE = re.compile(r"^conformance@v(\d+)\.(\d+)\.(\d+)$")


class ReportsMissing(LookupError):
    """No conformance module in the Go module cache."""


def reports_dir() -> Path:
    root = go_module_cache() / "sigs.k8s.io" / "gateway-api"
    modules = [(tuple(map(int, m.groups())), p) for p in root.glob("conformance@v*")
               if (m := _MODULE.match(p.name)) and (p / "reports").is_dir()]
    if not modules:
        raise ReportsMissing(f"no sigs.k8s.io/gateway-api/conformance module under {root}")
    return max(modules)[1] / "reports"


def _passed(report: dict[str, Any]) -> bool:
    results = [profile.get("core", {}).get("result") for profile in report.get("profiles") or []]
    return bool(results) and all(result == "success" for result in results)


def cilium_reports(reports: Path) -> list[dict[str, Any]]:
    found = []
    for path in sorted(reports.glob("*/*/*-report.yaml")):
        report = yaml.safe_load(path.read_text())
        implementation = report.get("implementation") or {}
        if implementation.get("project") != "cilium":
            continue
        found.append({
            "report": path.relative_to(reports).as_posix(),
            "cilium": str(implementation.get("version", "")).removeprefix("v"),
            "gatewayAPIVersion": report.get("gatewayAPIVersion"),
            "gatewayAPIChannel": report.get("gatewayAPIChannel"),
            "corePassed": _passed(report),
        })
    return found


def render(reports: list[dict[str, Any]], source: str) -> str:
    return json.dumps({"source": source, "reports": reports}, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    try:
        reports = reports_dir()
    except ReportsMissing as missing:
        print(f"skip: {missing}", file=sys.stderr)
        return 0
    text = render(cilium_reports(reports), f"sigs.k8s.io/gateway-api/{reports.parent.name}")
    return write_or_check(TARGET, text, check=args.check, source=str(reports),
                          generator="tools/cilium_gateway_conformance.py")


if __name__ == "__main__":
    sys.exit(main())
