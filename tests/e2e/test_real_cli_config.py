"""The real Pulumi CLI reads every example stack: it accepts Pulumi.yaml's declared config types
against the stack file, and the config it would hand the program is the one the offline loader
(tools/lib/stack_files.py) builds. No language host is needed: `pulumi config` runs no program.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import run
from tests.helpers import EXAMPLE_STACKS, PROJECT_DIR
from tools.lib.stack_files import load_stack_config


def _parsed(value: str) -> object:
    """Config values are strings; structured ones are JSON text (the language host parses it)."""
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_real_cli_reads_the_stack_as_the_offline_loader_does(stack: str, pulumi_cli: Path,
                                                             tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copyfile(PROJECT_DIR / "Pulumi.yaml", project / "Pulumi.yaml")
    shutil.copyfile(PROJECT_DIR / f"Pulumi.{stack}.yaml", project / f"Pulumi.{stack}.yaml")
    (tmp_path / "state").mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PULUMI_HOME": str(tmp_path / "home"),
           "PULUMI_BACKEND_URL": f"file://{tmp_path / 'state'}",
           "PULUMI_CONFIG_PASSPHRASE": "e2e-throwaway", "PULUMI_SKIP_UPDATE_CHECK": "true",
           "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true"}
    init = run([pulumi_cli, "stack", "init", stack, "--non-interactive"], cwd=project, env=env)
    assert init.returncode == 0, init.stdout + init.stderr
    shown = run([pulumi_cli, "config", "--stack", stack, "--json"], cwd=project, env=env)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    real = {key: _parsed(entry["value"]) for key, entry in json.loads(shown.stdout).items()}

    offline = load_stack_config(PROJECT_DIR, PROJECT_DIR / f"Pulumi.{stack}.yaml", stack,
                                token_placeholder=False)
    assert real == {key: _parsed(value) for key, value in offline.values.items()}
