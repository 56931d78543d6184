"""Derive the cluster-autoscaler facts the program needs from a kubernetes/autoscaler git clone.

Writes ``upstream/cluster_autoscaler.json``:
- ``releases``: the newest ``cluster-autoscaler-X.Y.Z`` tag of each minor (the autoscaler is
  released per Kubernetes minor, and a cluster runs the release of its own minor);
- ``image``: the image repository from the chart's ``values.yaml``;
- ``rbac``: per minor, the ClusterRole and Role rules of the newest chart for that minor or older
  (``templates/clusterrole.yaml``/``role.yaml``), with every ``{{ if }}`` block dropped: those
  blocks are for other cloud providers, PodSecurityPolicy, the priority expander and namespaced
  RBAC, none of which the program uses;
- ``hetzner``: for each release, the environment variables the Hetzner provider reads and the
  fields of its cluster-config JSON (``HCLOUD_CLUSTER_CONFIG``), from ``hetzner_manager.go``.

The chart is not published on any package registry reachable here (nor is the Go module), so the
program renders the Deployment itself; these facts keep it honest against upstream.

Usage: python tools/cluster_autoscaler_upstream.py --git-dir DIR [--check]
(or AUTOSCALER_GIT_DIR=DIR: a clone or bare mirror of kubernetes/autoscaler)
``--check`` exits 1 when the committed file differs from what the clone gives.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from tools.lib import mirror_generator  # noqa: E402
from tools.lib.git_mirror import show_if_present, tags  # noqa: E402

OUTPUT = PROJECT_DIR / "upstream" / "cluster_autoscaler.json"
GIT_DIR_VARIABLE = "AUTOSCALER_GIT_DIR"
OLDEST_MINOR = (1, 32)
_RELEASE_TAG = re.compile(r"^cluster-autoscaler-(\d+)\.(\d+)\.(\d+)$")
_CHART_TAG = re.compile(r"^cluster-autoscaler-chart-(\d+)\.(\d+)\.(\d+)$")
CHART_DIRS = ("cluster-autoscaler/charts/cluster-autoscaler", "charts/cluster-autoscaler")
MANAGER = "cluster-autoscaler/cloudprovider/hetzner/hetzner_manager.go"


def show(git_dir: str, ref: str, path: str) -> str | None:
    """The text of ``path`` at ``ref``; None where that tag has no such file (the chart moved
    between releases, an old release has no Hetzner provider)."""
    found = show_if_present(git_dir, ref, path)
    return None if found is None else found.decode()


def releases(tags: list[str]) -> dict[str, str]:
    newest: dict[tuple[int, int], tuple[int, int, int]] = {}
    for tag in tags:
        match = _RELEASE_TAG.match(tag)
        if not match:
            continue
        version = tuple(int(part) for part in match.groups())
        minor = version[:2]
        if minor >= OLDEST_MINOR and version > newest.get(minor, (0, 0, -1)):
            newest[minor] = version  # type: ignore[assignment]
    return {f"{m[0]}.{m[1]}": ".".join(map(str, v)) for m, v in sorted(newest.items())}


def template_rules(template: str) -> list[dict[str, Any]]:
    """The ``rules:`` list of an RBAC template with every conditional block left out."""
    lines = template.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("rules:"))
    kept, depth = [], 0
    for line in lines[start + 1:]:
        action = re.match(r"^\s*\{\{-?\s*(if|with|range|end)\b", line)
        if action and action.group(1) in ("if", "with", "range"):
            depth += 1
            continue
        if action and action.group(1) == "end":
            depth -= 1
            if depth < 0:  # the end of the file-wide rbac.create condition
                break
            continue
        if depth == 0:
            if "{{" in line:
                raise ValueError(f"unexpected template expression in rules: {line!r}")
            kept.append(line)
    return yaml.safe_load("\n".join(kept)) or []


def charts(git_dir: str, tags: list[str]) -> list[tuple[tuple[int, int], str, str]]:
    """(app minor, chart tag, chart dir), oldest chart first."""
    found = []
    for tag in sorted((t for t in tags if _CHART_TAG.match(t)),
                      key=lambda t: tuple(int(p) for p in _CHART_TAG.match(t).groups())):
        for directory in CHART_DIRS:
            chart = show(git_dir, tag, f"{directory}/Chart.yaml")
            if chart:
                app = str(yaml.safe_load(chart)["appVersion"]).split(".")
                minor = (int(app[0]), int(app[1]))
                if minor >= OLDEST_MINOR:
                    found.append((minor, tag, directory))
                break
    return found


def rbac(git_dir: str, tags: list[str], minors: list[str]) -> tuple[dict[str, Any], str]:
    found = charts(git_dir, tags)
    out: dict[str, Any] = {}
    image = ""
    for minor_text in minors:
        minor = tuple(int(p) for p in minor_text.split("."))
        usable = [entry for entry in found if entry[0] <= minor]
        if not usable:
            continue
        _, tag, directory = usable[-1]
        out[minor_text] = {
            "chart": tag,
            "clusterRole": template_rules(show(git_dir, tag, f"{directory}/templates/clusterrole.yaml")),
            "role": template_rules(show(git_dir, tag, f"{directory}/templates/role.yaml")),
        }
    if found:
        _, tag, directory = found[-1]
        image = yaml.safe_load(show(git_dir, tag, f"{directory}/values.yaml"))["image"]["repository"]
    return out, image


def go_struct_fields(source: str, struct: str) -> list[str]:
    match = re.search(rf"type {struct} struct \{{(.*?)\n\}}", source, re.S)
    if not match:
        raise ValueError(f"struct {struct} not found")
    return sorted(re.findall(r"^\s+([A-Z][A-Za-z0-9]*)\s", match.group(1), re.M))


def hetzner_facts(git_dir: str, versions: dict[str, str]) -> dict[str, Any]:
    out = {}
    for minor, version in versions.items():
        source = show(git_dir, f"cluster-autoscaler-{version}", MANAGER)
        if source is None:
            continue
        out[minor] = {
            "environment": sorted(set(re.findall(r'os\.Getenv\("([A-Z0-9_]+)"\)', source))),
            "clusterConfig": go_struct_fields(source, "ClusterConfig"),
            "nodeConfig": go_struct_fields(source, "NodeConfig"),
            "imageList": go_struct_fields(source, "ImageList"),
        }
    return out


def derive(git_dir: str) -> dict[str, Any]:
    every_tag = tags(git_dir)
    versions = releases(every_tag)
    rules, image = rbac(git_dir, every_tag, list(versions))
    return {"source": "https://github.com/kubernetes/autoscaler (tags)",
            "generator": "tools/cluster_autoscaler_upstream.py",
            "image": image, "releases": versions, "rbac": rules,
            "hetzner": hetzner_facts(git_dir, versions)}


def render(facts: dict[str, Any]) -> str:
    return json.dumps(facts, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    return mirror_generator.run(argv, description=__doc__.splitlines()[0],
                                variable=GIT_DIR_VARIABLE, repository="kubernetes/autoscaler",
                                output=OUTPUT, derive=lambda git_dir: render(derive(git_dir)),
                                source="the tags", generator="tools/cluster_autoscaler_upstream.py")


if __name__ == "__main__":
    sys.exit(main())
