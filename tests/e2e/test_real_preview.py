"""A real `pulumi preview` of every example stack (tools/preview.py), when the toolchain exists.

The Python language host and the five provider plugins come from modules the Go module proxy
refuses on this platform (upstream/engine_artifacts.json, `refused`). While every missing binary is
such a refusal, these tests are skipped and say which; a binary missing for any other reason
(`make engine` not run) fails them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import EXAMPLE_STACKS, PROJECT_DIR
from tools import preview, real_engine


def _blocked_by_refusal() -> str | None:
    report = preview.toolchain_report(real_engine.bin_dir())
    if not report["missing"]:
        return None
    not_refused = [m["binary"] for m in report["missing"] if "refuses" not in m["reason"]]
    if not_refused:
        pytest.fail(f"missing {', '.join(not_refused)}: run make engine", pytrace=False)
    return "; ".join(f"{m['binary']}: {m['reason']}" for m in report["missing"])


def test_preview_names_each_missing_binary_and_why(engine_bin: Path) -> None:
    """Exit 4 while the toolchain is incomplete, naming the refusal behind each missing binary."""
    if _blocked_by_refusal() is None:
        pytest.skip("the toolchain is complete: the previews below run")
    result = subprocess.run([sys.executable, str(PROJECT_DIR / "tools" / "preview.py"),
                             "--stack", "dev", "--json"],
                            capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == preview.EXIT_TOOLCHAIN, result.stderr
    report = json.loads(result.stdout)
    assert report["engine"]["pulumi"] == real_engine.recorded_artifacts()["tools"][0]["version"]
    missing = {m["binary"] for m in report["toolchain"]["missing"]}
    assert preview.LANGUAGE_HOST in missing
    assert "make engine" in result.stderr


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_example_stack_previews_with_the_real_engine(stack: str, engine_bin: Path) -> None:
    blocked = _blocked_by_refusal()
    if blocked:
        pytest.skip(f"blocked by the Go module proxy: {blocked}")
    code = preview.main(["--stack", stack, "--json"])
    assert code == preview.EXIT_OK
