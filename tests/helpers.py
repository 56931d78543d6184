"""Shared helpers: plan a stack (example file or a dict) through the real offline engine."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from stack_config import ConfigError, validate_cluster_spec
from tools.lib.engine import Plan, run_program
from tools.lib.stack_files import load_stack_config

PROJECT_DIR = Path(__file__).resolve().parent.parent
SHARED_DIR = PROJECT_DIR.parent / "shared"
REFERENCE_DIR = SHARED_DIR / "reference"
# Bare git mirrors of upstream repositories (<owner>+<repo>/repo), present in the development
# workspace; the generators that read them take the folder as an argument.
GIT_MIRROR_DIR = Path(os.environ.get("GIT_MIRROR_DIR") or "/work/.mirror")
EXAMPLE_STACKS = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml")
                        for p in PROJECT_DIR.glob("Pulumi.*.yaml"))


def requires_reference(*parts: str) -> Path:
    """Path under ../shared/reference, or skip: a user's clone has no ../shared."""
    path = REFERENCE_DIR.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"upstream reference data {path} is absent (only present beside the repo "
                    "in the development workspace and CI)")
    return path


def example_config(stack: str) -> dict[str, Any]:
    """The `config:` mapping of an example stack file, to mutate in tests."""
    return copy.deepcopy(yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())["config"])


def write_stack_file(directory: Path, config: dict[str, Any], stack: str = "test") -> Path:
    path = directory / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    return path


def plan_stack_file(stack_file: Path, stack: str | None = None) -> Plan:
    return run_program(PROJECT_DIR, load_stack_config(PROJECT_DIR, stack_file, stack))


def plan_example(stack: str) -> Plan:
    return plan_stack_file(PROJECT_DIR / f"Pulumi.{stack}.yaml")


def plan_config(directory: Path, config: dict[str, Any], stack: str = "test") -> Plan:
    return plan_stack_file(write_stack_file(directory, config, stack), stack)


def config_problems(raw: dict[str, Any]) -> list[str]:
    """The problems (``key: message``) the config model reports for ``raw``; fails if it accepts it."""
    with pytest.raises(ConfigError) as caught:
        validate_cluster_spec(raw)
    return [str(p) for p in caught.value.problems]


def minimal_config(**overrides: Any) -> dict[str, Any]:
    """The smallest valid config tree (``clusterName`` only), with ``overrides`` on top."""
    return {"clusterName": "dev", **overrides}


def with_dotted_changes(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of ``base`` with ``{"a.b.c": value}`` changes applied (Helm-value style)."""
    result = copy.deepcopy(base)
    for dotted, value in changes.items():
        node = result
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return result


def apisix_chart_git_dir() -> Path:
    """An apache/apisix-helm-chart clone: ``$APISIX_CHART_GIT_DIR``, else the workspace mirror."""
    return Path(os.environ.get("APISIX_CHART_GIT_DIR")
                or GIT_MIRROR_DIR / "apache+apisix-helm-chart" / "repo")
