"""upstream/engine_artifacts.json, the one versions file of `make engine`, against the project's
own facts and the wrapper modules (no Go or network needed; tests/e2e checks the fetched cache).

It is written by ``python3 tools/engine/artifacts.py record``; these tests fail when a supported
Cilium line, a Gateway API bundle or a wrapper's pinned version moves without re-recording.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tools import real_engine
from tools.lib.go_modules import go_mod_requires, go_sum_hashes
from upstream.cilium import SUPPORTED_LINES

RECORDED = real_engine.recorded_artifacts()
H1 = re.compile(r"^h1:[A-Za-z0-9+/]{43}=$")


def test_every_supported_cilium_line_has_a_chart_or_a_recorded_refusal() -> None:
    fetched = {a["version"].lstrip("v"): a for a in RECORDED["artifacts"]
               if a["module"] == "github.com/cilium/cilium"}
    substituted = {a["substitutes"]: a for a in fetched.values() if "substitutes" in a}
    refused = {r["version"].lstrip("v") for r in RECORDED["refused"]
               if r["module"] == "github.com/cilium/cilium"}
    for line in SUPPORTED_LINES.values():
        patch = line.newest_verified_patch
        if patch in fetched:
            continue
        assert patch in refused and patch in substituted, (
            f"Cilium {patch} is neither fetched nor recorded as refused with a substitute: "
            "run python3 tools/engine/artifacts.py record")
        assert substituted[patch]["version"].lstrip("v").startswith(f"{line.minor}.")


def test_every_gateway_api_bundle_is_fetched() -> None:
    fetched = {a["version"] for a in RECORDED["artifacts"]
               if a["module"] == "sigs.k8s.io/gateway-api"}
    assert {line.gateway_api.version for line in SUPPORTED_LINES.values()} <= fetched


def test_every_fetched_artifact_has_a_go_sum_hash() -> None:
    for artifact in RECORDED["artifacts"]:
        assert H1.match(artifact["sum"]), artifact


@pytest.mark.parametrize("tool", RECORDED["tools"], ids=[t["binary"] for t in RECORDED["tools"]])
def test_tools_match_their_wrapper_modules(tool: dict[str, str]) -> None:
    wrapper = real_engine.PROJECT_DIR / tool["wrapper"]
    assert go_mod_requires(wrapper / "go.mod")[tool["module"]] == tool["version"]
    assert go_sum_hashes(wrapper / "go.sum")[(tool["module"], tool["version"])] == tool["sum"]


def test_refusals_name_no_proxy_host() -> None:
    for entry in RECORDED["refused"]:
        assert "://" not in entry["error"], entry
        assert "403" in entry["error"] or "not available" in entry["error"], entry


def test_cache_folder_follows_the_wrapper_files(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert real_engine.engine_dir().parent == tmp_path / "k3s-hcloud"
    assert real_engine.engine_dir().name == f"engine-{real_engine.wrappers_hash()}"
    hashed = {p.relative_to(real_engine.PROJECT_DIR).as_posix() for p in real_engine.wrapper_files()}
    assert {"tools/engine/build.sh", "tools/engine/pulumi/go.mod", "tools/engine/helm/go.sum",
            "upstream/engine_artifacts.json"} <= hashed
