"""Linux kernels of Hetzner node images against what the enabled Cilium features need.

Minimums per feature come from Cilium's own docs and agent source, per line
(``upstream/cilium_charts/kernel-requirements.json``, written by
``tools/cilium_kernel_requirements.py``). The images' kernels are the small table below, each
with its source; an image not in it is not judged (its kernel is unknown here).

One implementation, two callers: the config validator checks every server image of a stack, the
policy pack every ``hcloud.Server`` image of a stack with a Cilium release.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from upstream.cilium import CiliumLine
from upstream.cilium_helm_values import HelmValues, helm_string

FACTS_FILE = Path(__file__).resolve().parent / "cilium_charts" / "kernel-requirements.json"

Kernel = tuple[int, int]


@dataclass(frozen=True)
class ImageKernel:
    kernel: Kernel
    source: str
    assumed: bool
    """True where the version is read from release notes, not from the image's package data."""


# Hetzner system images (name as in `hcloud image list --type system`) → the kernel they boot.
# Refreshed by hand; tests/test_cilium_kernel.py re-reads debian-12 from the Debian archive.
NODE_IMAGE_KERNELS: dict[str, ImageKernel] = {
    "debian-12": ImageKernel((6, 1), "Debian archive: bookworm linux-image-amd64 6.1.x "
                                     "(apt-cache policy linux-image-amd64)", assumed=False),
    "debian-13": ImageKernel((6, 12), "Debian 13 (trixie) release notes: Linux 6.12 LTS; not "
                                      "readable from this machine's archive", assumed=True),
    "ubuntu-22.04": ImageKernel((5, 15), "Ubuntu 22.04 LTS release notes: GA kernel 5.15 (the "
                                         "image may later move to HWE; not verified)",
                                assumed=True),
    "ubuntu-24.04": ImageKernel((6, 8), "Ubuntu 24.04 LTS release notes: GA kernel 6.8",
                                assumed=True),
}


@dataclass(frozen=True)
class Feature:
    """How a documented feature is turned on in the chart's values (None: it is not)."""

    path: str
    enabled: Callable[[HelmValues], bool]


def _on(path: str) -> Feature:
    return Feature(path, lambda v: v.on(path))


_NETKIT = Feature("bpf.datapathMode",
                  lambda v: helm_string(v.get("bpf.datapathMode")).startswith("netkit"))
# Feature rows of the docs' table and the agent's kernel refusals → the values that enable them.
FEATURES: dict[str, Feature | None] = {
    "IPv6 BIG TCP support": _on("enableIPv6BIGTCP"),
    "IPv4 BIG TCP support": _on("enableIPv4BIGTCP"),
    ":ref:`netkit`": _NETKIT,
    "initEnv: netkit devices need kernel 6.7.0 or newer and CONFIG_NETKIT": _NETKIT,
    "manager.probe: cannot enable --%s, needs kernel 5.18 or newer": Feature(
        "bandwidthManager.bbr", lambda v: v.on("bandwidthManager.enabled")
        and v.on("bandwidthManager.bbr")),
    # Multicast is enabled through the cilium CLI / agent flags; the chart has no value for it.
    ":ref:`enable_multicast` (AMD64)": None,
    ":ref:`enable_multicast` (AArch64)": None,
}


@cache
def _requirements() -> dict[str, Any]:
    return json.loads(FACTS_FILE.read_text())["lines"]


def requirements(line: CiliumLine) -> dict[str, Kernel]:
    """Feature → minimum kernel, of the docs' table and the agent's refusals, for ``line``."""
    facts = _requirements()[line.minor]
    return {name: (kernel[0], kernel[1])
            for name, kernel in {**facts["features"], **facts["agent"]}.items()}


def base_requirement(line: CiliumLine) -> Kernel:
    base = _requirements()[line.minor]["base"]
    return base[0], base[1]


@dataclass(frozen=True)
class KernelProblem:
    path: str
    """The Helm value that turns the feature on ('' for the agent's own minimum)."""
    needs: Kernel
    image: str
    has: ImageKernel

    def text(self, line: CiliumLine) -> str:
        what = f"{self.path} needs" if self.path else f"the Cilium {line.minor} agent needs"
        assumed = ", assumed from release notes" if self.has.assumed else ""
        return (f"{what} Linux {_shown(self.needs)} or newer; image '{self.image}' boots "
                f"{_shown(self.has.kernel)} ({self.has.source}{assumed}).")


def _shown(kernel: Kernel) -> str:
    return f"{kernel[0]}.{kernel[1]}"


def kernel_problems(v: HelmValues, image: str) -> list[KernelProblem]:
    """What the enabled features need that ``image``'s kernel lacks (nothing for an image whose
    kernel is not in ``NODE_IMAGE_KERNELS``)."""
    known = NODE_IMAGE_KERNELS.get(image)
    if known is None:
        return []
    line = v.line
    problems = []
    if known.kernel < base_requirement(line):
        problems.append(KernelProblem("", base_requirement(line), image, known))
    for name, needs in requirements(line).items():
        feature = FEATURES.get(name)
        if feature is not None and feature.enabled(v) and known.kernel < needs:
            problems.append(KernelProblem(feature.path, needs, image, known))
    return problems


def newest_known_image() -> str:
    return max(NODE_IMAGE_KERNELS, key=lambda name: NODE_IMAGE_KERNELS[name].kernel)
