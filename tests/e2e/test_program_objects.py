"""The Kubernetes objects the program registers itself (not through a chart or a manifest URL),
validated for the stack's Kubernetes minor: built-in kinds against the Kubernetes schemas,
custom resources against the real CRDs of the stack's Cilium release and Gateway API bundle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.manifests import CrdIndex, problems
from tests.helpers import EXAMPLE_STACKS, example_config, plan_example
from upstream.cilium import DEFAULT_VERSION as CILIUM_DEFAULT
from upstream.cilium import line_of
from upstream.k3s import DEFAULT_VERSION as K3S_DEFAULT
from upstream.k3s import K3sVersion

# Types that are not API objects: they install charts and manifests (tested with helm elsewhere).
NOT_OBJECTS = {"helm.sh/v3:Release", "helm.sh/v4:Chart", "yaml/v2:ConfigFile", "yaml/v2:ConfigGroup",
               "yaml:ConfigFile"}


def api_object(resource_type: str, inputs: dict[str, Any]) -> dict[str, Any] | None:
    """``kubernetes:apps/v1:Deployment`` inputs → the object the provider would send."""
    _, _, token = resource_type.partition(":")
    if token in NOT_OBJECTS or token == "providers:kubernetes":
        return None
    group_version, _, kind = token.partition(":")
    group, _, version = group_version.partition("/")
    api_version = version if group == "core" else group_version
    return {**inputs, "apiVersion": api_version, "kind": kind}


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_program_objects_validate(stack: str, artifacts: dict[str, Path]) -> None:
    config = example_config(stack)
    line = line_of(config.get("k3s-hcloud:cilium", {}).get("version", CILIUM_DEFAULT))
    assert line is not None
    k3s = K3sVersion.parse(config.get("k3s-hcloud:k3s", {}).get("version", K3S_DEFAULT))
    cilium = sorted(n for n in artifacts if n.startswith(f"cilium-{line.minor}."))[-1]
    crds = CrdIndex.load([artifacts[cilium] / "crds",
                          artifacts[f"gateway-api-{line.gateway_api.version}"] / "standard"])
    plan = plan_example(stack)
    objects = [o for r in plan.resources if r.type.startswith("kubernetes:")
               if (o := api_object(r.type, r.plain_inputs())) is not None]
    assert objects, "the program registers no Kubernetes object of its own"
    found = [p for o in objects for p in problems(o, f"{k3s.major}.{k3s.minor}", crds)]
    assert found == [], "\n".join(found)
