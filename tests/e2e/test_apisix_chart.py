"""`helm template` of the real ``apisix`` chart (the pinned tag, with its vendored
apisix-ingress-controller chart) with the values the program renders for the example stack, and
what the rendered objects must say: no etcd, standalone on both sides, the admin API ClusterIP
with its keys from the generated Secret, the gateway Service a Hetzner load balancer.

The chart source is the pinned tag of an apache/apisix-helm-chart clone
(``tools/apisix_chart_facts.py``'s ``APISIX_CHART_GIT_DIR``); the Go module proxy does not serve
that repository, so without a clone the test skips and says so. helm: as for the Cilium chart
(``tests/e2e/cilium_helm.py``: the `make engine` build, else the helm-bin cache, else PATH).
"""

from __future__ import annotations

import json
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.kubernetes.apisix_manifests import ADMIN_SECRET
from tests.e2e.cilium_helm import helm_binary
from tests.e2e.conftest import run
from tests.e2e.manifests import CrdIndex, documents, problems
from tests.helpers import apisix_chart_git_dir, plan_example
from tools import apisix_chart_facts
from upstream import apisix, hetzner
from upstream.k3s import DEFAULT_VERSION, K3sVersion

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"


@pytest.fixture(scope="module")
def chart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    git_dir = apisix_chart_git_dir()
    if not git_dir.exists():
        pytest.skip(f"no apache/apisix-helm-chart clone at {git_dir} (set APISIX_CHART_GIT_DIR; "
                    "the Go module proxy does not serve this repository)")
    folder = tmp_path_factory.mktemp("apisix-chart")
    archive = folder / "chart.tar"
    with archive.open("wb") as handle:
        subprocess.run(["git", "--git-dir", str(git_dir), "archive", apisix.facts()["chart"]["tag"],
                        apisix_chart_facts.CHART_DIR], stdout=handle, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    return folder / apisix_chart_facts.CHART_DIR


@pytest.fixture(scope="module")
def rendered(chart: Path, helm_env: dict[str, str],
             tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    helm = helm_binary()
    if helm is None:
        pytest.skip("no helm binary (build it: make engine, or GOBIN=~/.cache/k3s-hcloud/helm-bin "
                    "go install helm.sh/helm/v3/cmd/helm@v3.20.2)")
    plan = plan_example("apisix")
    [release] = [r for r in plan.by_type(HELM_RELEASE) if r.plain_inputs()["chart"] == "apisix"]
    inputs = release.plain_inputs()
    values = tmp_path_factory.mktemp("values") / "values.json"
    values.write_text(json.dumps(inputs["values"]))
    minor = K3sVersion.parse(DEFAULT_VERSION).kubernetes_minor
    result = run([helm, "template", inputs["name"], chart, "--namespace", inputs["namespace"],
                  "--kube-version", f"{minor[0]}.{minor[1]}.0", "--skip-crds", "-f", values],
                 env=helm_env)
    assert result.returncode == 0, result.stderr
    return documents(result.stdout)


def _one(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    [found] = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def test_no_etcd_and_apisix_reads_its_config_from_memory(rendered) -> None:
    assert not [o for o in rendered if "etcd" in o["metadata"]["name"]]
    config = yaml.safe_load(_one(rendered, "ConfigMap", "apisix")["data"]["config.yaml"])
    assert config["deployment"]["role"] == "traditional"
    assert config["deployment"]["role_traditional"]["config_provider"] == "yaml"
    controller = yaml.safe_load(_one(rendered, "ConfigMap", "apisix-ingress-config")
                                ["data"]["config.yaml"])
    assert controller["provider"]["type"] == apisix.STANDALONE_PROVIDER
    assert controller["disable_gateway_api"] is False


def test_the_admin_api_is_cluster_internal_with_keys_from_the_generated_secret(rendered) -> None:
    admin = _one(rendered, "Service", apisix.ADMIN_SERVICE)
    assert admin["spec"]["type"] == "ClusterIP" and "externalIPs" not in admin["spec"]
    assert not [o for o in rendered if o["kind"] == "Ingress"]
    text = json.dumps(rendered)
    defaults = apisix.facts()["valueDefaults"]
    assert defaults["apisix.admin.credentials.admin"] not in text
    assert defaults["apisix.admin.credentials.viewer"] not in text
    config = yaml.safe_load(_one(rendered, "ConfigMap", "apisix")["data"]["config.yaml"])
    assert [k["key"] for k in config["deployment"]["admin"]["admin_key"]] == [
        "${{APISIX_ADMIN_KEY}}", "${{APISIX_VIEWER_KEY}}"]
    deployment = _one(rendered, "Deployment", "apisix")
    env = {e["name"]: e.get("valueFrom") for c in deployment["spec"]["template"]["spec"]
           ["containers"] for e in c.get("env", [])}
    assert env["APISIX_ADMIN_KEY"] == {"secretKeyRef": {"name": ADMIN_SECRET, "key": "admin"}}
    proxy = _one(rendered, "GatewayProxy", apisix.GATEWAY_PROXY_NAME)
    control = proxy["spec"]["provider"]["controlPlane"]
    assert control["auth"]["adminKey"] == {
        "valueFrom": {"secretKeyRef": {"name": ADMIN_SECRET, "key": "admin"}}}
    assert control["service"] == {"name": apisix.ADMIN_SERVICE, "port": 9180}


def test_the_gateway_service_is_a_hetzner_load_balancer(rendered) -> None:
    service = _one(rendered, "Service", apisix.GATEWAY_SERVICE)
    assert service["spec"]["type"] == "LoadBalancer"
    annotations = service["metadata"]["annotations"]
    assert annotations[hetzner.LB_NAME] == "edge-apisix"
    assert annotations[hetzner.LB_LOCATION] == "fsn1"
    assert annotations[hetzner.LB_USE_PRIVATE_IP] == "true"
    assert _one(rendered, "IngressClass", "apisix")["spec"]["controller"] == \
        apisix.controller_name()


def test_every_rendered_object_validates(rendered, chart: Path) -> None:
    # The APISIX CRDs come from the vendored controller chart (.tgz), as the program installs them.
    controller = chart.parent / "controller-crds"
    if not controller.exists():
        controller.mkdir()
        with tarfile.open(chart / "charts" / f"apisix-ingress-controller-"
                          f"{apisix.facts()['ingressController']['version']}.tgz") as tar:
            member = tar.getmember("apisix-ingress-controller/crds/apisixic-crds.yaml")
            handle = tar.extractfile(member)
            assert handle is not None
            (controller / "apisixic-crds.yaml").write_bytes(handle.read())
    crds = CrdIndex.load([controller])
    minor = K3sVersion.parse(DEFAULT_VERSION).kubernetes_minor
    found = [p for obj in rendered for p in problems(obj, f"{minor[0]}.{minor[1]}", crds)]
    assert found == []
