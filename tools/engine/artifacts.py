"""Upstream artifacts through the Go module proxy: record their versions, fetch them into the cache.

    python3 tools/engine/artifacts.py record        # probe the proxy, rewrite upstream/engine_artifacts.json
    python3 tools/engine/artifacts.py fetch DIR     # download what is recorded, check sums, copy into DIR

What is wanted follows the project's own facts (``upstream/``): the Cilium patch of every supported
line, the Gateway API bundle of every line, the CCM/CSI chart versions, the system-upgrade-controller
release, and the provider plugins at the versions of the Python SDKs. ``record`` asks the proxy for
each; what it serves is recorded with its go.sum ``h1:`` hash, what it refuses with the error the Go
command printed. ``fetch`` downloads only what is recorded as served and fails when a hash differs,
so the cache holds exactly the recorded bytes (the Go command also checks each module against the
checksum database on first download).

Standard library plus ``upstream`` (itself standard library only): runs with the system Python.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from tools.lib.go_modules import go_sum_hashes  # noqa: E402
from upstream.cilium import SUPPORTED_LINES  # noqa: E402
from upstream.hetzner import CCM_CHART_VERSION, CSI_CHART_VERSION  # noqa: E402
from upstream.k3s import SYSTEM_UPGRADE_CONTROLLER_VERSION  # noqa: E402

ARTIFACTS_FILE = PROJECT_DIR / "upstream" / "engine_artifacts.json"
WRAPPERS_DIR = PROJECT_DIR / "tools" / "engine"

CILIUM_MODULE = "github.com/cilium/cilium"
# Inside the cilium/cilium module: the chart source the published chart is packed from, and the
# CRDs the operator installs (embedded there with //go:embed).
CILIUM_EXTRACT = {"chart": "install/kubernetes/cilium", "crds": "pkg/k8s/apis/cilium.io/client/crds"}
GATEWAY_API_MODULE = "sigs.k8s.io/gateway-api"
GATEWAY_API_EXTRACT = {"standard": "config/crd/standard", "experimental": "config/crd/experimental"}

# A patch the proxy refuses, and the nearest patch of the same line it serves: the chart templates
# of one line change little between patches, so rendering the neighbour still tests the values.
CILIUM_SUBSTITUTES = {"1.18.12": "1.18.11"}


@dataclass(frozen=True)
class Wanted:
    name: str
    module: str
    version: str
    wanted_for: str
    extract: dict[str, str]


def wanted_artifacts() -> list[Wanted]:
    wanted: list[Wanted] = []
    for line in SUPPORTED_LINES.values():
        patch = line.newest_verified_patch
        wanted.append(Wanted(f"cilium-{patch}", CILIUM_MODULE, f"v{patch}",
                             f"Cilium {patch} chart source and CRDs (line {line.minor})",
                             CILIUM_EXTRACT))
    bundles = sorted({line.gateway_api.version for line in SUPPORTED_LINES.values()},
                     key=lambda v: tuple(int(x) for x in v.lstrip("v").split(".")))
    for version in bundles:
        wanted.append(Wanted(f"gateway-api-{version}", GATEWAY_API_MODULE, version,
                             f"Gateway API {version} CRDs", GATEWAY_API_EXTRACT))
    wanted += [
        Wanted("cilium-charts", "github.com/cilium/charts",
               "v0.0.0-20260803194932-009b5e958217",
               "the published cilium-X.Y.Z.tgz charts (helm.cilium.io)", {".": "."}),
        Wanted(f"hcloud-ccm-{CCM_CHART_VERSION}",
               "github.com/hetznercloud/hcloud-cloud-controller-manager", f"v{CCM_CHART_VERSION}",
               f"hcloud-cloud-controller-manager chart {CCM_CHART_VERSION}", {"chart": "chart"}),
        Wanted(f"hcloud-csi-{CSI_CHART_VERSION}", "github.com/hetznercloud/csi-driver",
               "v1.6.1-0.20260211162554-ef367432da29",
               f"hcloud-csi chart {CSI_CHART_VERSION} (tag commit; the v2 tags are not module "
               "versions)", {"chart": "chart"}),
        Wanted(f"system-upgrade-controller-{SYSTEM_UPGRADE_CONTROLLER_VERSION}",
               "github.com/rancher/system-upgrade-controller", SYSTEM_UPGRADE_CONTROLLER_VERSION,
               "system-upgrade-controller Plan CRD and manifests",
               {"crds": "pkg/crds/yaml/generated"}),
    ]
    return wanted


# The Go binaries a real `pulumi preview` of this program needs beyond the two wrappers that build:
# each probed at the version the Python SDK in requirements.txt pins (its release commit as a
# pseudo-version where the module has no tags of its own).
WANTED_PLUGINS: list[tuple[str, str, str]] = [
    ("pulumi-language-python", "github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3",
     "v3.0.0-20260820084410-a05d88f24d05"),
    ("pulumi-resource-hcloud", "github.com/pulumi/pulumi-hcloud/provider",
     "v0.0.0-20260716044713-043b3476c7c5"),
    ("pulumi-resource-random", "github.com/pulumi/pulumi-random/provider/v4",
     "v4.0.0-20260722185042-f2d8b029d0f7"),
    ("pulumi-resource-tls", "github.com/pulumi/pulumi-tls/provider/v5",
     "v5.0.0-20260722185624-c3b9a61e7075"),
    ("pulumi-resource-kubernetes", "github.com/pulumi/pulumi-kubernetes/provider/v4",
     "v4.0.0-20260608201737-a03ff6ba58d2"),
    ("pulumi-resource-command", "github.com/pulumi/pulumi-command/provider",
     "v0.0.0-20260303235922-7f3eb6f3b77c"),
]
PLUGIN_NOTES = {
    "pulumi-language-python": "no tag carries this module's prefix; tried the pseudo-version of "
                              "the pkg/v3.259.0 commit (the newest commit known here: the proxy "
                              "gives no Origin hash for pkg/v3 v3.274.1)",
    "pulumi-resource-hcloud": "pseudo-version of the v1.39.1 release commit (the 1.43.3 commit "
                              "is unknown here)",
    "pulumi-resource-random": "pseudo-version of the v4.21.1 release commit (the 4.21.4 commit "
                              "is unknown here)",
    "pulumi-resource-tls": "pseudo-version of the v5.5.1 release commit (the 5.6.2 commit is "
                           "unknown here)",
    "pulumi-resource-kubernetes": "pseudo-version of the v4.32.0 release commit; the one "
                                  "pseudo-version the proxy lists "
                                  "(v4.0.0-20260115033456-f47bc2d6f199) is the v4.25.0 release, nine "
                                  "minors older than the SDK: not built",
    "pulumi-resource-command": "pseudo-version of the v1.2.1 release commit (the root module "
                               "v1.2.1 holds no provider code: provider/ is its own module)",
}

# Wrapper modules under tools/engine/: binary name → (wrapper folder, module it builds from).
TOOL_WRAPPERS = {
    "pulumi": ("pulumi", "github.com/pulumi/pulumi/pkg/v3"),
    "helm": ("helm", "helm.sh/helm/v3"),
}

_HOST = re.compile(r"https?://[^/\s]+")


def _scrub(error: str) -> str:
    """The Go command's error without host names (the proxy is whatever GOPROXY names)."""
    lines = [re.sub(r"\s+", " ", line).strip() for line in error.strip().splitlines()]
    return _HOST.sub("$GOPROXY", " ".join(line for line in lines if line))


def _go_json(args: list[str]) -> dict[str, Any]:
    """Run a `go ... -json` command outside any module; the parsed object or {"Error": text}."""
    with tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, "GOFLAGS": "-mod=mod", "GO111MODULE": "on"}
        proc = subprocess.run(["go", *args], cwd=scratch, env=env, capture_output=True,
                              text=True, check=False)
    try:
        data = json.loads(proc.stdout) if proc.stdout.strip() else {}
    except json.JSONDecodeError:
        data = {}
    if proc.returncode != 0 and not data.get("Error"):
        data["Error"] = proc.stderr or proc.stdout
    return data


def download(module: str, version: str) -> dict[str, Any]:
    return _go_json(["mod", "download", "-json", f"{module}@{version}"])


def _served(module: str, version: str) -> tuple[dict[str, Any] | None, str | None]:
    data = download(module, version)
    if data.get("Error"):
        return None, _scrub(str(data["Error"]))
    return data, None


def _go_sum_hash(wrapper: str, module: str) -> tuple[str, str]:
    """(version, h1 hash) of ``module`` in a wrapper's go.sum (the zip hash, not /go.mod)."""
    for (path, version), digest in go_sum_hashes(WRAPPERS_DIR / wrapper / "go.sum").items():
        if path == module:
            return version, digest
    raise SystemExit(f"{module} is not in tools/engine/{wrapper}/go.sum: run go mod tidy there")


def record() -> dict[str, Any]:
    artifacts: list[dict[str, Any]] = []
    refused: list[dict[str, str]] = []
    for want in wanted_artifacts():
        data, error = _served(want.module, want.version)
        entry = {"name": want.name, "module": want.module, "version": want.version,
                 "wanted_for": want.wanted_for, "extract": want.extract}
        if error is not None:
            refused.append({"module": want.module, "version": want.version,
                            "wanted_for": want.wanted_for, "error": error})
            substitute = CILIUM_SUBSTITUTES.get(want.version.lstrip("v"))
            if want.module != CILIUM_MODULE or substitute is None:
                continue
            data, error = _served(want.module, f"v{substitute}")
            if error is not None:
                refused.append({"module": want.module, "version": f"v{substitute}",
                                "wanted_for": want.wanted_for, "error": error})
                continue
            entry.update(name=f"cilium-{substitute}", version=f"v{substitute}",
                         substitutes=want.version.lstrip("v"))
        assert data is not None
        entry["sum"] = data["Sum"]
        artifacts.append(entry)
    for binary, module, version in WANTED_PLUGINS:
        data, error = _served(module, version)
        if error is not None:
            refused.append({"module": module, "version": version,
                            "wanted_for": f"{binary}; {PLUGIN_NOTES.get(binary, 'release commit')}",
                            "error": error})
    tools = []
    for binary, (wrapper, module) in TOOL_WRAPPERS.items():
        version, digest = _go_sum_hash(wrapper, module)
        tools.append({"binary": binary, "wrapper": f"tools/engine/{wrapper}", "module": module,
                      "version": version, "sum": digest})
    return {
        "_comment": "Written by `python3 tools/engine/artifacts.py record`; do not edit by hand.",
        "tools": tools,
        "artifacts": artifacts,
        "refused": refused,
    }


def fetch(dest: Path) -> None:
    recorded = json.loads(ARTIFACTS_FILE.read_text())
    manifest_path = dest / "manifest.json"
    if manifest_path.is_file() and json.loads(manifest_path.read_text()).get(
            "artifacts") == recorded["artifacts"]:
        print(f"artifacts: up to date in {dest}")
        return
    dest.mkdir(parents=True, exist_ok=True)
    for entry in recorded["artifacts"]:
        data = download(entry["module"], entry["version"])
        if data.get("Error"):
            raise SystemExit(f"artifacts: {entry['module']}@{entry['version']}: "
                             f"{_scrub(str(data['Error']))}")
        if data["Sum"] != entry["sum"]:
            raise SystemExit(f"artifacts: {entry['module']}@{entry['version']} has hash "
                             f"{data['Sum']}, upstream/engine_artifacts.json records "
                             f"{entry['sum']}: refusing to use it")
        target = dest / entry["name"]
        if target.exists():
            shutil.rmtree(target)
        for into, subpath in entry["extract"].items():
            # Module cache files are read-only; copies in the cache need not be.
            shutil.copytree(Path(data["Dir"]) / subpath, target / into,
                            copy_function=shutil.copyfile)
        print(f"artifacts: {entry['name']} <- {entry['module']}@{entry['version']}")
    manifest_path.write_text(json.dumps({"artifacts": recorded["artifacts"]}, indent=2) + "\n")


def main(argv: list[str]) -> int:
    if argv[:1] == ["record"]:
        ARTIFACTS_FILE.write_text(json.dumps(record(), indent=2) + "\n")
        print(f"wrote {ARTIFACTS_FILE.relative_to(PROJECT_DIR)}")
        return 0
    if len(argv) == 2 and argv[0] == "fetch":
        fetch(Path(argv[1]))
        return 0
    sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
