"""The deployment program's settings, typed and checked once: which push-to-deploy path, and
where each cluster stack's runner lives.

Two paths deliver a push to ``main`` into a private cluster without opening SSH or the
Kubernetes API to the internet (docs/delivery.md):
- ``pulumi-deployments``: Pulumi Deployments with a customer-managed agent pool per stack
  (Pulumi Cloud Enterprise / Business Critical: customer-managed runners are not in Team);
- ``github-actions``: a self-hosted GitHub Actions runner per stack that runs ``pulumi up`` on
  push (.github/workflows/deploy.yml); any Pulumi Cloud edition, any GitHub plan.

Each stack's runner is either ``bastion`` (this program installs it on the cluster's bastion,
inside the private network) or ``self-managed`` (you run it on a host whose egress address is in
the stack's ``access.sshAllowedCidrs`` and ``access.apiAllowedCidrs``; this program registers it
but cannot reach that host). Pure: no Pulumi.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

Path = Literal["pulumi-deployments", "github-actions"]
Placement = Literal["bastion", "self-managed"]
PATHS: tuple[Path, ...] = ("pulumi-deployments", "github-actions")
PLACEMENTS: tuple[Placement, ...] = ("bastion", "self-managed")
_STACK = re.compile(r"^[A-Za-z0-9_.-]+$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class SettingsError(ValueError):
    """A deployment setting that cannot work; the message names the key and the fix."""


@dataclass(frozen=True)
class RunnerRelease:
    version: str
    sha256: dict[str, str]
    """Per architecture (``x64``, ``arm64``); empty: the installer checks the release's own
    published digest instead (same origin as the download, so weaker)."""


@dataclass(frozen=True)
class StackDelivery:
    stack: str
    runner: Placement

    @property
    def label(self) -> str:
        """The runner label (GitHub) and agent pool name (Pulumi) of this stack."""
        return f"k3s-hcloud-{self.stack}"


@dataclass(frozen=True)
class DeliverySettings:
    organization: str
    repository: str
    branch: str
    path: Path
    stacks: list[StackDelivery]
    runner_release: RunnerRelease


def parse_settings(raw: dict[str, Any]) -> DeliverySettings:
    organization = _required_text(raw, "organization")
    repository = _required_text(raw, "repository")
    if not _REPOSITORY.match(repository):
        raise SettingsError(f"repository: {repository!r} is not 'owner/name' (the GitHub "
                            "repository holding this project)")
    path = raw.get("path", "github-actions")
    if path not in PATHS:
        raise SettingsError(f"path: {path!r} is not one of {', '.join(PATHS)}")
    stacks_raw = raw.get("stacks")
    if not isinstance(stacks_raw, dict) or not stacks_raw:
        raise SettingsError("stacks: give a mapping of cluster stack name to its runner, e.g. "
                            "{private-ha: {runner: bastion}}")
    stacks = []
    for stack, options in stacks_raw.items():
        if not _STACK.match(str(stack)):
            raise SettingsError(f"stacks.{stack}: not a stack name")
        placement = (options or {}).get("runner")
        if placement not in PLACEMENTS:
            raise SettingsError(f"stacks.{stack}.runner: {placement!r} is not one of "
                                f"{', '.join(PLACEMENTS)}")
        stacks.append(StackDelivery(str(stack), placement))
    return DeliverySettings(organization=organization, repository=repository,
                            branch=str(raw.get("branch") or "main"), path=path,
                            stacks=sorted(stacks, key=lambda s: s.stack),
                            runner_release=_release(raw.get("runnerRelease") or {}, path))


def _required_text(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise SettingsError(f"{key}: required (pulumi config set {key} ...)")
    return value


def _release(raw: dict[str, Any], path: Path) -> RunnerRelease:
    # The GitHub runner and the Pulumi agent are both installed from a pinned release.
    key = "runnerRelease"
    version = str(raw.get("version", ""))
    if not _VERSION.match(version):
        what = "actions/runner" if path == "github-actions" else \
            "pulumi/customer-managed-deployment-agent"
        raise SettingsError(f"{key}.version: {version!r} is not a release number X.Y.Z of "
                            f"{what}; pin the release to install")
    sha256 = {str(k): str(v).lower() for k, v in (raw.get("sha256") or {}).items()}
    for arch, digest in sha256.items():
        if arch not in ("x64", "arm64") or not _SHA256.match(digest):
            raise SettingsError(f"{key}.sha256.{arch}: expected an architecture x64 or arm64 "
                                "and a 64-hex-digit SHA-256 from the release page")
    return RunnerRelease(version=version, sha256=sha256)
