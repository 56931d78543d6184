"""tools/preview.py without a built toolchain: exit 4, naming `make engine`, each missing binary
and, for those the Go module proxy refuses, the module and the refusal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import PROJECT_DIR
from tools import preview


def run_preview(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "empty-cache")}
    return subprocess.run([sys.executable, str(PROJECT_DIR / "tools" / "preview.py"), *args],
                          capture_output=True, text=True, env=env, check=False, timeout=300)


def test_missing_toolchain_exits_4_and_says_make_engine(tmp_path: Path) -> None:
    result = run_preview(tmp_path, "--stack", "dev")
    assert result.returncode == preview.EXIT_TOOLCHAIN
    assert "run `make engine`" in result.stderr
    assert "Traceback" not in result.stderr
    for binary in preview.REQUIRED:
        assert f"  - {binary}: " in result.stderr


def test_json_report_gives_the_proxy_refusal_behind_the_language_host(tmp_path: Path) -> None:
    result = run_preview(tmp_path, "--stack", "dev", "--json")
    assert result.returncode == preview.EXIT_TOOLCHAIN
    missing = {m["binary"]: m["reason"] for m in json.loads(result.stdout)["toolchain"]["missing"]}
    assert missing["pulumi"] == "not built yet: run make engine"
    assert missing[preview.LANGUAGE_HOST].startswith(
        "the Go module proxy refuses github.com/pulumi/pulumi/sdk/python/cmd/"
        "pulumi-language-python/v3@")


def test_unknown_stack_is_a_config_error(tmp_path: Path) -> None:
    result = run_preview(tmp_path, "--stack", "no-such-stack")
    assert result.returncode == preview.EXIT_CONFIG
    assert "Pulumi.no-such-stack.yaml" in result.stderr
