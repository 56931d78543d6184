"""Server images known to misbehave under Cilium (``upstream.cilium.DISCOURAGED_NODE_IMAGES``).

Advisory: the image works until k3s restarts, which is exactly when nobody is watching.
"""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.rules.cilium_release import cilium_releases
from policies.rules.types import HCLOUD_SERVER
from upstream.cilium import DISCOURAGED_NODE_IMAGES


def _discouraged_images(args: StackValidationArgs, report: ReportViolation) -> None:
    releases = cilium_releases(args.resources)
    if not releases:
        return
    release_names = ", ".join(f"'{r.name}'" for r in releases)
    for server in args.resources:
        if server.resource_type != HCLOUD_SERVER:
            continue
        image = server.props.get("image")
        for prefix, reason in DISCOURAGED_NODE_IMAGES.items():
            if isinstance(image, str) and image.startswith(prefix):
                report(f"Server '{server.name}' runs image '{image}' in a stack that installs "
                       f"Cilium (Helm release {release_names}): {reason}. Fix: use ubuntu-24.04 "
                       "or openSUSE MicroOS for Cilium nodes.", server.urn)


ubuntu_2204_nodes = StackValidationPolicy(
    name="cilium-node-image-ubuntu-22-04",
    description="Servers of a stack with Cilium do not run Ubuntu 22.04 (a k3s restart can drop "
                "node networking).",
    validate=_discouraged_images,
    enforcement_level=EnforcementLevel.ADVISORY,
    severity=Severity.MEDIUM,
    remediation_steps="Use ubuntu-24.04 (k3s-hcloud's default) or openSUSE MicroOS: "
                      "controlPlane.image and workerPools[].image.",
    url="https://docs.cilium.io/en/stable/operations/system_requirements/")

POLICIES = [ubuntu_2204_nodes]
