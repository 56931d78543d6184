"""Derive the APISIX chart facts the program needs from apache/apisix-helm-chart's own tags.

    python tools/apisix_chart_facts.py --git-dir DIR [--check]
    (or APISIX_CHART_GIT_DIR=DIR: a clone or bare mirror of apache/apisix-helm-chart)

Reads, at the pinned tag ``apisix-<CHART_VERSION>`` of a clone of
https://github.com/apache/apisix-helm-chart, and writes ``upstream/apisix_chart.json``:

- the ``apisix`` chart's version and appVersion, and its ``ingress-controller`` dependency (the
  apisix-ingress-controller chart vendored in ``charts/`` as a .tgz: what ``helm install`` uses);
- that controller chart's version, appVersion and default controller name;
- the CRDs it ships in ``crds/``: the APISIX kinds (``apisixic-crds.yaml``), which the program
  installs itself before the release, with the URL of the same bytes at the controller chart's own
  tag (the generator checks they are identical) and their SHA-256; and the Gateway API bundle it
  also ships (``gwapi-crds.yaml``), recorded so the program can skip it (``skipCrds``) — Cilium's
  line pins the Gateway API bundle the cluster gets;
- ``valueDefaults``: the chart default of every value path the program sets
  (``VALUE_PATHS``), so a test can refuse a path the chart does not have.

The Go module proxy does not serve this repository (403 for every version), so the source is a git
clone. The program itself never needs the clone. ``--check`` writes nothing and exits 1 when the
committed file differs from what the tag gives.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import tarfile
from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from tools.lib import mirror_generator  # noqa: E402
from tools.lib.git_mirror import show  # noqa: E402

OUTPUT = PROJECT_DIR / "upstream" / "apisix_chart.json"
GIT_DIR_VARIABLE = "APISIX_CHART_GIT_DIR"
REPOSITORY = "https://apache.github.io/apisix-helm-chart"
# The 2.x chart line: APISIX 3.x with apisix-ingress-controller 2.x, whose "apisix-standalone"
# provider drives APISIX's API-driven standalone mode (no etcd) and which implements Gateway API.
CHART_VERSION = "2.14.0"
CHART_DIR = "charts/apisix"
CONTROLLER_ALIAS = "ingress-controller"
APISIX_CRDS_FILE = "crds/apisixic-crds.yaml"
GATEWAY_API_CRDS_FILE = "crds/gwapi-crds.yaml"
RAW_URL = "https://raw.githubusercontent.com/apache/apisix-helm-chart/{tag}/{path}"

# Every value path the program sets (components/kubernetes/apisix_manifests.py). Paths under
# "ingress-controller." are read from the vendored controller chart's values.yaml.
VALUE_PATHS = (
    "service.type",
    "service.annotations",
    "service.http.servicePort",
    "apisix.deployment.mode",
    "apisix.deployment.role",
    "apisix.deployment.role_traditional.config_provider",
    "apisix.admin.enabled",
    "apisix.admin.type",
    "apisix.admin.externalIPs",
    "apisix.admin.ingress.enabled",
    "apisix.admin.credentials.admin",
    "apisix.admin.credentials.viewer",
    "apisix.admin.credentials.secretName",
    "apisix.admin.credentials.secretAdminKey",
    "apisix.admin.credentials.secretViewerKey",
    "control.service.type",
    "etcd.enabled",
    "externalEtcd.user",
    "ingress-controller.enabled",
    "ingress-controller.config.provider.type",
    "ingress-controller.config.disableGatewayAPI",
    "ingress-controller.config.kubernetes.ingressClass",
    "ingress-controller.config.kubernetes.defaultIngressClass",
    "ingress-controller.apisix.adminService.name",
    "ingress-controller.apisix.adminService.namespace",
    "ingress-controller.apisix.adminService.port",
    "ingress-controller.gatewayProxy.createDefault",
    "ingress-controller.gatewayProxy.provider.controlPlane.auth.adminKey.value",
    "ingress-controller.gatewayProxy.provider.controlPlane.auth.adminKey.valueFrom",
)
_MISSING = object()


def _vendored_controller(git_dir: str, tag: str, version: str) -> dict[str, bytes]:
    """The files of the controller chart .tgz vendored in the apisix chart, by path in the chart."""
    blob = show(git_dir, tag, f"{CHART_DIR}/charts/apisix-ingress-controller-{version}.tgz")
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as archive:
        for member in archive.getmembers():
            if member.isfile():
                handle = archive.extractfile(member)
                assert handle is not None
                files[member.name.split("/", 1)[1]] = handle.read()
    return files


def _lookup(tree: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(tree, dict) or part not in tree:
            return _MISSING
        tree = tree[part]
    return tree


def _crd_names(text: bytes) -> list[dict[str, Any]]:
    crds = []
    for document in yaml.safe_load_all(text):
        if not document or document.get("kind") != "CustomResourceDefinition":
            continue
        spec = document["spec"]
        crds.append({"name": document["metadata"]["name"], "kind": spec["names"]["kind"],
                     "served": sorted(v["name"] for v in spec["versions"] if v.get("served"))})
    return sorted(crds, key=lambda crd: crd["name"])


def derive(git_dir: str) -> dict[str, Any]:
    tag = f"apisix-{CHART_VERSION}"
    chart = yaml.safe_load(show(git_dir, tag, f"{CHART_DIR}/Chart.yaml"))
    dependency = next(d for d in chart["dependencies"] if d.get("alias") == CONTROLLER_ALIAS)
    controller = _vendored_controller(git_dir, tag, dependency["version"])
    controller_chart = yaml.safe_load(controller["Chart.yaml"])
    controller_values = yaml.safe_load(controller["values.yaml"])
    values = yaml.safe_load(show(git_dir, tag, f"{CHART_DIR}/values.yaml"))

    controller_tag = f"apisix-ingress-controller-{controller_chart['version']}"
    crds_path = f"charts/apisix-ingress-controller/{APISIX_CRDS_FILE}"
    crds = controller[APISIX_CRDS_FILE]
    if show(git_dir, controller_tag, crds_path) != crds:
        raise SystemExit(f"{crds_path} at {controller_tag} differs from the copy vendored in "
                         f"{tag}: the program could not install the CRDs the release expects")
    gateway_api = [d for d in yaml.safe_load_all(controller[GATEWAY_API_CRDS_FILE]) if d]
    labels = gateway_api[0]["metadata"].get("annotations", {})

    defaults: dict[str, Any] = {}
    for path in VALUE_PATHS:
        # The parent chart's values hold only the dependency's switch; the rest of the
        # subtree is the vendored chart's own defaults.
        found = _lookup(values, path)
        if found is _MISSING and path.startswith(f"{CONTROLLER_ALIAS}."):
            found = _lookup(controller_values, path.removeprefix(f"{CONTROLLER_ALIAS}."))
        if found is _MISSING and not _declared_optional(path):
            raise SystemExit(f"value path {path} is not in the {tag} chart's values")
        defaults[path] = None if found is _MISSING else found
    return {
        "source": f"{REPOSITORY.replace('apache.github.io/', 'github.com/apache/')} (tag {tag})",
        "generator": "tools/apisix_chart_facts.py",
        "chart": {"name": chart["name"], "repository": REPOSITORY, "version": chart["version"],
                  "appVersion": str(chart["appVersion"]), "tag": tag},
        "ingressController": {
            "alias": CONTROLLER_ALIAS, "version": controller_chart["version"],
            "appVersion": str(controller_chart["appVersion"]),
            "controllerName": controller_values["config"]["controllerName"],
            "crds": _crd_names(crds),
            "crdsUrl": RAW_URL.format(tag=controller_tag, path=crds_path),
            "crdsSha256": hashlib.sha256(crds).hexdigest(),
            "gatewayApiCrds": {
                "bundleVersion": labels.get("gateway.networking.k8s.io/bundle-version"),
                "channel": labels.get("gateway.networking.k8s.io/channel"),
                "kinds": sorted(d["spec"]["names"]["kind"] for d in gateway_api)},
        },
        "valueDefaults": defaults,
    }


def _declared_optional(path: str) -> bool:
    # Read by the templates but absent from values.yaml: service-gateway.yaml ranges over
    # .Values.service.annotations (recorded with the default null).
    return path in {"service.annotations"}


def render(facts: dict[str, Any]) -> str:
    return json.dumps(facts, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    return mirror_generator.run(argv, description=__doc__.splitlines()[0],
                                variable=GIT_DIR_VARIABLE, repository="apache/apisix-helm-chart",
                                output=OUTPUT, derive=lambda git_dir: render(derive(git_dir)),
                                source=f"the tag apisix-{CHART_VERSION}",
                                generator="tools/apisix_chart_facts.py")


if __name__ == "__main__":
    sys.exit(main())
