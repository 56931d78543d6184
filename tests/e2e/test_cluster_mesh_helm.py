"""The Cluster Mesh values of the example pair, rendered by the real Cilium chart (`helm template`).

For every supported Cilium line, the values are the ones the program registers for each Cilium
release after the pair has been planned against each other offline (mesh-a, then mesh-b reading mesh-a, then mesh-a reading
mesh-b: tests/test_cluster_mesh.py). Only the shared CA is swapped: offline, ``pulumi_tls`` is
mocked and its PEM is a stand-in, so the test makes a real ECDSA P-256 CA with openssl (what
``pulumi_tls`` makes on `pulumi up`) and gives the same one to both releases, as the program does.

What the chart must turn them into, per cluster: the clustermesh-apiserver and its Service of the
configured type (mesh-a: a private Hetzner LB pinned to its planned address; mesh-b: NodePort
32379), the peer's connection config (endpoint, port, the addresses it published) and the TLS
material, signed by the shared CA so each cluster's client certificate is trusted by the other.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.cilium_helm import CiliumChart, cilium_chart
from tests.test_cluster_mesh import MESH_DIR, cilium_values, plan_mesh
from upstream.cilium import SUPPORTED_LINES

pytestmark = pytest.mark.e2e

MESH_DOMAIN = "mesh.cilium.io"  # the chart's default clustermesh.config.domain


def openssl_ca(directory: Path) -> dict[str, str]:
    """A real CA like the program's (ECDSA P-256, self-signed), base64 PEM as in ``tls.ca``."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("openssl is needed to make a real CA for the chart to sign with",
                    pytrace=False)
    key, cert = directory / "ca.key", directory / "ca.crt"
    subprocess.run([openssl, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out",
                    str(key)], check=True, capture_output=True)
    subprocess.run([openssl, "req", "-x509", "-new", "-key", str(key), "-days", "30", "-subj",
                    "/CN=mesh Cluster Mesh CA", "-out", str(cert)], check=True,
                   capture_output=True)
    return {"cert": base64.b64encode(cert.read_bytes()).decode(),
            "key": base64.b64encode(key.read_bytes()).decode()}


def render(chart: CiliumChart, values: dict[str, Any], workdir: Path) -> list[dict[str, Any]]:
    values_file = workdir / "values.json"
    values_file.write_text(json.dumps(values))
    home = workdir / "helm-home"
    result = subprocess.run(
        [str(chart.helm), "template", "cilium", str(chart.chart), "--namespace", "kube-system",
         "--kube-version", chart.kube_version, "-f", str(values_file)],
        capture_output=True, text=True, check=False, timeout=300,
        env={**os.environ, "HELM_CONFIG_HOME": str(home / "config"),
             "HELM_CACHE_HOME": str(home / "cache"), "HELM_DATA_HOME": str(home / "data")})
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def find(manifests: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [m for m in manifests if m["kind"] == kind and m["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} rendered"
    return found[0]


def secret_text(secret: dict[str, Any], key: str) -> str:
    return base64.b64decode(secret["data"][key]).decode()


def line_stack_files(directory: Path, version: str) -> dict[str, Path]:
    """The example pair on Cilium ``version`` (the examples use the default line)."""
    files = {}
    for stack in ("mesh-a", "mesh-b"):
        config = yaml.safe_load((MESH_DIR / f"Pulumi.{stack}.yaml").read_text())
        cilium = config["config"]["k3s-hcloud:cilium"]
        cilium["version"] = version
        # Older lines have not been tested with the examples' k3s minor: a warning, not a stop.
        cilium["allowUntestedKubernetes"] = True
        files[stack] = directory / f"Pulumi.{stack}.yaml"
        files[stack].write_text(yaml.safe_dump(config))
    return files


@pytest.fixture(scope="module", params=sorted(SUPPORTED_LINES))
def rendered(request: pytest.FixtureRequest,
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    minor: str = request.param
    chart = cilium_chart(minor)
    workdir = tmp_path_factory.mktemp(f"mesh-helm-{minor}")
    files = line_stack_files(workdir, SUPPORTED_LINES[minor].newest_verified_patch)
    plans = {"mesh-a": plan_mesh("mesh-a", stack_file=files["mesh-a"])}
    plans["mesh-b"] = plan_mesh("mesh-b", {"mesh-a": plans["mesh-a"]}, files["mesh-b"])
    plans["mesh-a"] = plan_mesh("mesh-a", {"mesh-b": plans["mesh-b"]}, files["mesh-a"])
    ca = openssl_ca(workdir)
    out: dict[str, Any] = {"ca": ca, "dir": workdir}
    for stack, plan in plans.items():
        values, _ = cilium_values(plan)
        assert values["tls"]["ca"].keys() == {"cert", "key"}  # the program's shared CA slot
        values["tls"]["ca"] = ca
        stack_dir = workdir / stack
        stack_dir.mkdir()
        out[stack] = {"values": values, "manifests": render(chart, values, stack_dir),
                      "facts": plan.outputs["clusterMesh"].value}
    return out


@pytest.mark.parametrize(("stack", "service_type"), [("mesh-a", "LoadBalancer"),
                                                     ("mesh-b", "NodePort")])
def test_apiserver_and_its_service_of_the_configured_type(rendered: dict[str, Any], stack: str,
                                                          service_type: str) -> None:
    manifests = rendered[stack]["manifests"]
    find(manifests, "Deployment", "clustermesh-apiserver")
    service = find(manifests, "Service", "clustermesh-apiserver")["spec"]
    assert service["type"] == service_type
    config = find(manifests, "ConfigMap", "cilium-config")["data"]
    facts = rendered[stack]["facts"]
    assert (config["cluster-name"], int(config["cluster-id"])) == (facts["name"],
                                                                   facts["clusterId"])
    if service_type == "NodePort":
        assert [p["nodePort"] for p in service["ports"]] == [facts["apiserverPort"]]


def test_the_load_balancer_is_private_at_the_published_address(rendered: dict[str, Any]) -> None:
    service = find(rendered["mesh-a"]["manifests"], "Service", "clustermesh-apiserver")
    annotations = service["metadata"]["annotations"]
    assert annotations["load-balancer.hetzner.cloud/private-ipv4"] == \
        rendered["mesh-a"]["facts"]["apiserverAddresses"][0]
    assert annotations["load-balancer.hetzner.cloud/disable-public-network"] == "true"
    assert [p["port"] for p in service["spec"]["ports"]] == [
        rendered["mesh-a"]["facts"]["apiserverPort"]]


@pytest.mark.parametrize(("stack", "peer"), [("mesh-a", "mesh-b"), ("mesh-b", "mesh-a")])
def test_the_peer_is_configured_at_what_it_published(rendered: dict[str, Any], stack: str,
                                                     peer: str) -> None:
    manifests = rendered[stack]["manifests"]
    published = rendered[peer]["facts"]
    # KVStoreMesh (the chart's default) connects to the peers; the agents read its local copy.
    names = {m["metadata"]["name"] for m in manifests if m["kind"] == "Secret"}
    kvstoremesh = "cilium-kvstoremesh" in names
    secret = find(manifests, "Secret", "cilium-kvstoremesh" if kvstoremesh else "cilium-clustermesh")
    assert set(secret["data"]) == {peer}
    config = yaml.safe_load(secret_text(secret, peer))
    host = f"{published['name']}.{MESH_DOMAIN}"
    assert config["endpoints"] == [f"https://{host}:{published['apiserverPort']}"]
    # The endpoint's name resolves to the published addresses in the pods that connect: host
    # aliases of the clustermesh-apiserver (KVStoreMesh) or of the agents.
    workload = (find(manifests, "Deployment", "clustermesh-apiserver") if kvstoremesh
                else find(manifests, "DaemonSet", "cilium"))
    assert workload["spec"]["template"]["spec"]["hostAliases"] == [
        {"ip": ip, "hostnames": [host]} for ip in published["apiserverAddresses"]]
    if "cilium-host-aliases" in config:  # newer lines also carry them in the config itself
        assert config["cilium-host-aliases"] == [{"hostname": host,
                                                  "ips": published["apiserverAddresses"]}]


def test_both_clusters_trust_each_others_client_certificates(rendered: dict[str, Any]) -> None:
    openssl = shutil.which("openssl")
    assert openssl is not None
    workdir: Path = rendered["dir"]
    ca_pem = base64.b64decode(rendered["ca"]["cert"]).decode()
    for stack, peer in (("mesh-a", "mesh-b"), ("mesh-b", "mesh-a")):
        manifests = rendered[stack]["manifests"]
        # The chart installs the shared CA, not one of its own.
        assert secret_text(find(manifests, "Secret", "cilium-ca"), "ca.crt") == ca_pem
        remote = secret_text(find(manifests, "Secret", "clustermesh-apiserver-remote-cert"),
                             "tls.crt")
        # The peer's apiserver trusts its own ca.crt: the shared CA must have signed the client
        # certificate this cluster presents to it.
        peer_ca = workdir / f"{peer}-ca.crt"
        peer_ca.write_text(secret_text(find(rendered[peer]["manifests"], "Secret", "cilium-ca"),
                                       "ca.crt"))
        client = workdir / f"{stack}-remote.crt"
        client.write_text(remote)
        check = subprocess.run([openssl, "verify", "-CAfile", str(peer_ca), str(client)],
                               capture_output=True, text=True, check=False)
        assert check.returncode == 0, check.stdout + check.stderr
        server = secret_text(find(manifests, "Secret", "clustermesh-apiserver-server-cert"),
                             "tls.crt")
        assert server.startswith("-----BEGIN CERTIFICATE-----")


def test_a_foreign_ca_would_be_refused(rendered: dict[str, Any], tmp_path: Path) -> None:
    # The trust check above can fail: a certificate from another CA does not verify.
    openssl = shutil.which("openssl")
    assert openssl is not None
    other = openssl_ca(tmp_path)
    other_ca = tmp_path / "other.crt"
    other_ca.write_bytes(base64.b64decode(other["cert"]))
    client = tmp_path / "remote.crt"
    client.write_text(secret_text(find(rendered["mesh-a"]["manifests"], "Secret",
                                       "clustermesh-apiserver-remote-cert"), "tls.crt"))
    check = subprocess.run([openssl, "verify", "-CAfile", str(other_ca), str(client)],
                           capture_output=True, text=True, check=False)
    assert check.returncode != 0
