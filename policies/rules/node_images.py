"""Server images under Cilium: images known to misbehave (``upstream.cilium.DISCOURAGED_NODE_IMAGES``,
advisory: the image works until k3s restarts, which is exactly when nobody is watching), and
kernels that lack what an enabled Cilium feature needs (``upstream.cilium_kernel``, mandatory).
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
from upstream.cilium_kernel import kernel_problems, newest_known_image

# The program labels its bastion (no k3s, no Cilium) with this role (components/infrastructure).
_NOT_A_NODE = {"role": "bastion"}


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



def _kernels_run_the_features(args: StackValidationArgs, report: ReportViolation) -> None:
    releases = [r for r in cilium_releases(args.resources) if r.line is not None]
    for server in args.resources:
        if server.resource_type != HCLOUD_SERVER:
            continue
        labels = server.props.get("labels") or {}
        if all(labels.get(key) == value for key, value in _NOT_A_NODE.items()):
            continue
        image = server.props.get("image")
        if not isinstance(image, str):
            continue
        for release in releases:
            assert release.line is not None
            for problem in kernel_problems(release.helm_values, image):
                off = f", or turn {problem.path} off" if problem.path else ""
                report(f"Server '{server.name}' runs Cilium of {release.label}: "
                       f"{problem.text(release.line)} Fix: use an image with a newer kernel "
                       f"(e.g. {newest_known_image()}){off}.", server.urn)


node_kernels_run_the_features = StackValidationPolicy(
    name="cilium-node-kernel-supports-features",
    description="Every server's image boots a kernel with what the enabled Cilium features need "
                "(per Cilium's system requirements and agent source, per line).",
    validate=_kernels_run_the_features,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps="Use an image with a newer kernel, or turn the feature off "
                      "(controlPlane.image and workerPools[].image in k3s-hcloud).",
    url="https://docs.cilium.io/en/stable/operations/system_requirements/")

POLICIES = [ubuntu_2204_nodes, node_kernels_run_the_features]
