"""`helm template` of the real Cilium chart of a supported line, for the Cilium e2e tests.

helm: ``$K3S_HCLOUD_HELM``, else the `make engine` build, else
``${XDG_CACHE_HOME:-~/.cache}/k3s-hcloud/helm-bin/helm``, else ``helm`` on PATH; the chart source:
tools/cilium_chart_facts.py's search (make-engine cache, Go module cache). Without either the
tests skip and say which is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tools import cilium_chart_facts
from upstream.cilium import SUPPORTED_LINES


def helm_binary() -> Path | None:
    candidates = [os.environ.get("K3S_HCLOUD_HELM")]
    try:
        from tools import real_engine  # noqa: PLC0415 (present once `make engine` exists)
        candidates.append(str(real_engine.bin_dir() / "helm"))
    except ImportError:
        pass
    candidates += [str(cilium_chart_facts.cache_dir() / "helm-bin" / "helm"), shutil.which("helm")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


@dataclass(frozen=True)
class Render:
    ok: bool
    error: str


class CiliumChart:
    """One line's real chart, rendered offline (no cluster: ``helm template``)."""

    def __init__(self, helm: Path, chart: Path, minor: str) -> None:
        self.helm = helm
        self.chart = chart
        self.line = SUPPORTED_LINES[minor]
        newest = self.line.tested_kubernetes[1]
        # helm built without its release ldflags assumes Kubernetes 1.20; say which one.
        self.kube_version = f"{newest[0]}.{newest[1]}.0"
        self._home = Path(tempfile.mkdtemp(prefix="helm-home-"))

    def render(self, values: dict[str, Any]) -> Render:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump(values, handle)
        try:
            result = subprocess.run(
                [str(self.helm), "template", "cilium", str(self.chart), "--namespace",
                 "kube-system", "--kube-version", self.kube_version, "-f", handle.name],
                capture_output=True, text=True, check=False, timeout=300,
                env={**os.environ, "HELM_CONFIG_HOME": str(self._home / "config"),
                     "HELM_CACHE_HOME": str(self._home / "cache"),
                     "HELM_DATA_HOME": str(self._home / "data")})
        finally:
            os.unlink(handle.name)
        return Render(result.returncode == 0, result.stderr.strip())


def cilium_chart(minor: str) -> CiliumChart:
    helm = helm_binary()
    if helm is None:
        pytest.skip("no helm binary (build it: make engine, or GOBIN=~/.cache/k3s-hcloud/helm-bin "
                    "go install helm.sh/helm/v3/cmd/helm@v3.20.2)")
    version = SUPPORTED_LINES[minor].newest_verified_patch
    found = cilium_chart_facts.template_chart(version)
    if found is None:
        pytest.skip(f"no chart source with templates for Cilium {version} (go mod download "
                    f"github.com/cilium/cilium@v{version}, or make engine)")
    return CiliumChart(helm, found[1], minor)
