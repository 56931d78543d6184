"""`helm template` of the real Cilium chart with the values the program renders, for every example
stack and every supported Cilium line, and validation of what it renders.

The values are the Cilium ``helm.v3.Release`` inputs of the offline plan, unmodified: helm reads a
values file through YAML→JSON, so every number is a float64 there as in the provider, whatever
Python wrote. The chart is upstream's chart source from the cilium/cilium module at the line's
patch (docs/real-engine.md: the published .tgz differs only in image digests and Chart.yaml
annotations). Rendered objects are validated for the stack's Kubernetes minor; custom resources
against the CRDs of the same Cilium release and of the line's Gateway API bundle.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import run
from tests.e2e.manifests import CrdIndex, documents, problems
from tests.helpers import EXAMPLE_STACKS, example_config, plan_config
from tools.lib.engine import Plan
from upstream.cilium import DEFAULT_VERSION as CILIUM_DEFAULT
from upstream.cilium import SUPPORTED_LINES, CiliumLine, line_of
from upstream.k3s import DEFAULT_VERSION, K3sVersion

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
CASES = [(stack, minor) for stack in EXAMPLE_STACKS for minor in SUPPORTED_LINES]


@cache
def planned(stack: str, minor: str, scratch: Path) -> tuple[Plan, K3sVersion]:
    """The example stack moved to Cilium line ``minor``; on another line than the stack's own,
    k3s moves to the newest Kubernetes minor that line is tested with (the config refuses others).
    """
    config = example_config(stack)
    line = SUPPORTED_LINES[minor]
    cilium = config.setdefault("k3s-hcloud:cilium", {})
    k3s = config.setdefault("k3s-hcloud:k3s", {})
    if minor != _line_of_stack(config).minor:
        cilium["version"] = line.newest_verified_patch
        newest = line.tested_kubernetes[1]
        k3s["version"] = f"v{newest[0]}.{newest[1]}.1+k3s1"
        # No pinned install script for that release: a digest is given, as a user must.
        k3s["install"] = {"scriptSha256": "ab" * 32}
    version = K3sVersion.parse(k3s.get("version", DEFAULT_VERSION))
    folder = scratch / f"{stack}-{minor}"
    folder.mkdir(parents=True, exist_ok=True)
    return plan_config(folder, config, stack), version


def _line_of_stack(config: dict[str, Any]) -> CiliumLine:
    line = line_of(config.get("k3s-hcloud:cilium", {}).get("version", CILIUM_DEFAULT))
    assert line is not None
    return line


def cilium_values(plan: Plan) -> dict[str, Any]:
    releases = [r for r in plan.by_type(HELM_RELEASE) if r.plain_inputs().get("chart") == "cilium"]
    assert len(releases) == 1, f"expected one Cilium release, found {len(releases)}"
    return releases[0].plain_inputs()["values"]


def chart_artifact(line: CiliumLine, artifacts: dict[str, Path]) -> Path:
    """The fetched chart of the line: its own patch, or the recorded substitute patch."""
    candidates = sorted(name for name in artifacts
                        if name.startswith(f"cilium-{line.minor}."))
    assert candidates, f"no Cilium {line.minor} chart was fetched: run make engine"
    return artifacts[candidates[-1]]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stacks")


@pytest.mark.parametrize(("stack", "minor"), CASES, ids=[f"{s}-cilium{m}" for s, m in CASES])
def test_cilium_chart_renders_and_validates(stack: str, minor: str, scratch: Path, helm: Path,
                                            helm_env: dict[str, str],
                                            artifacts: dict[str, Path], tmp_path: Path) -> None:
    plan, k3s = planned(stack, minor, scratch)
    line = SUPPORTED_LINES[minor]
    values = cilium_values(plan)
    values_file = tmp_path / "values.json"
    values_file.write_text(json.dumps(values))
    chart = chart_artifact(line, artifacts)
    kube_version = f"v{k3s.major}.{k3s.minor}.{k3s.patch}"
    args = [helm, "template", "cilium", chart / "chart", "--namespace", "kube-system",
            "--kube-version", kube_version, "--values", values_file]
    if values.get("gatewayAPI", {}).get("enabled"):
        # The program installs the Gateway API CRDs before Cilium, so the API server serves them
        # when the chart is installed; helm template only knows what it is told.
        args += ["--api-versions", "gateway.networking.k8s.io/v1",
                 "--api-versions", "gateway.networking.k8s.io/v1/GatewayClass"]
    result = run(args, env=helm_env)
    assert result.returncode == 0, f"helm template failed:\n{result.stderr}"
    objects = documents(result.stdout)
    kinds = {o["kind"] for o in objects}
    assert {"DaemonSet", "Deployment", "ConfigMap"} <= kinds, sorted(kinds)

    crds = CrdIndex.load([chart / "crds",
                          artifacts[f"gateway-api-{line.gateway_api.version}"] / "standard"])
    found = [p for o in objects for p in problems(o, f"{k3s.major}.{k3s.minor}", crds)]
    assert found == [], "\n".join(found)
