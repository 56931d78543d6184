"""The cache `make engine` filled holds exactly what upstream/engine_artifacts.json records, and
the binaries report the recorded versions."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tests.e2e.conftest import run
from tools import real_engine

RECORDED = real_engine.recorded_artifacts()
TOOL_VERSIONS = {t["binary"]: t["version"] for t in RECORDED["tools"]}


def test_fetched_artifacts_are_the_recorded_ones(artifacts: dict[str, Path]) -> None:
    manifest = real_engine.fetched_manifest()
    assert manifest is not None
    assert manifest["artifacts"] == RECORDED["artifacts"]
    for entry in RECORDED["artifacts"]:
        for into in entry["extract"]:
            folder = artifacts[entry["name"]] / into
            assert any(folder.rglob("*.yaml")), f"{folder} holds no YAML"


def test_cilium_charts_are_the_recorded_releases(artifacts: dict[str, Path]) -> None:
    for entry in RECORDED["artifacts"]:
        if entry["module"] == "github.com/cilium/cilium":
            chart = yaml.safe_load((artifacts[entry["name"]] / "chart" / "Chart.yaml").read_text())
            assert chart["version"] == entry["version"].lstrip("v")


def test_gateway_api_crds_are_the_recorded_bundles(artifacts: dict[str, Path]) -> None:
    for entry in RECORDED["artifacts"]:
        if entry["module"] == "sigs.k8s.io/gateway-api":
            crds = [doc for path in (artifacts[entry["name"]] / "standard").glob("*.yaml")
                    for doc in yaml.safe_load_all(path.read_text())
                    if doc and doc.get("kind") == "CustomResourceDefinition"]
            assert len(crds) >= 5, f"{entry['name']}: {len(crds)} CRDs"
            for crd in crds:
                annotations = crd["metadata"]["annotations"]
                assert annotations["gateway.networking.k8s.io/bundle-version"] == entry["version"]


def test_helm_is_the_recorded_release(helm: Path) -> None:
    result = run([helm, "version", "--short"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith(TOOL_VERSIONS["helm"]), result.stdout


def test_pulumi_cli_is_the_recorded_release(pulumi_cli: Path, tmp_path: Path) -> None:
    result = run([pulumi_cli, "version"], env={"PULUMI_HOME": str(tmp_path),
                                              "PULUMI_SKIP_UPDATE_CHECK": "true",
                                              "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(re.escape(TOOL_VERSIONS["pulumi"]), result.stdout.strip()), result.stdout
