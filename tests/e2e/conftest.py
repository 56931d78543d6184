"""End-to-end and long-running tests: `make e2e` (`pytest -m e2e tests/e2e`).

Every test in this folder carries the ``e2e`` marker; `make test` deselects it (pytest.ini) and a
run that does not select it skips them. The real-engine tests use the fixtures below: under
`make e2e` a missing cache is a failure that says "run make engine", never a silent pass or skip.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tools import real_engine

HERE = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: long-running end-to-end test (make e2e)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)
    if "e2e" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="end-to-end test: run with `make e2e` (pytest -m e2e)")
    for item in items:
        if item.get_closest_marker("e2e"):
            item.add_marker(skip)


def _require(path: Path, what: str) -> Path:
    if not path.exists():
        pytest.fail(f"{what} is missing ({path}): run make engine", pytrace=False)
    return path


@pytest.fixture(scope="session")
def engine_bin() -> Path:
    return _require(real_engine.bin_dir(), "the real engine cache")


@pytest.fixture(scope="session")
def helm(engine_bin: Path) -> Path:
    return _require(engine_bin / "helm", "helm (built by make engine)")


@pytest.fixture(scope="session")
def pulumi_cli(engine_bin: Path) -> Path:
    return _require(engine_bin / "pulumi", "the Pulumi CLI (built by make engine)")


@pytest.fixture(scope="session")
def artifacts() -> dict[str, Path]:
    """Artifact name (e.g. ``cilium-1.20.0``) → its folder in the cache, per the fetched manifest."""
    manifest = real_engine.fetched_manifest()
    if manifest is None:
        pytest.fail(f"no fetched artifacts in {real_engine.artifacts_dir()}: run make engine",
                    pytrace=False)
    return {entry["name"]: real_engine.artifacts_dir() / entry["name"]
            for entry in manifest["artifacts"]}


@pytest.fixture(scope="session")
def helm_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """helm with its config, cache and data in a scratch folder: no repositories, no network."""
    home = tmp_path_factory.mktemp("helm-home")
    return {**os.environ, "HELM_CONFIG_HOME": str(home / "config"),
            "HELM_CACHE_HOME": str(home / "cache"), "HELM_DATA_HOME": str(home / "data")}


def run(args: list[Any], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, check=False,
                          timeout=600, **kwargs)
