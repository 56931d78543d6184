"""Plans of the K3sBootstrap test harness (tests/bootstrap_harness), cached per example stack."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from tests.helpers import PROJECT_DIR, write_stack_file
from tools.lib.engine import Plan, RecordedResource, run_program
from tools.lib.stack_files import load_stack_config

HARNESS_DIR = PROJECT_DIR / "tests" / "bootstrap_harness"
COMMAND = "command:remote:Command"
NODE = "k3s-hcloud:bootstrap:K3sNode"


def plan_harness(stack_file: Path, stack: str | None = None,
                 extra: dict[str, str] | None = None,
                 reveal: Callable[[dict[str, str]], None] | None = None) -> Plan:
    """``reveal`` may rewrite the loaded values (decrypting planted secrets as the CLI would)."""
    config = load_stack_config(PROJECT_DIR, stack_file, stack)
    if reveal is not None:
        reveal(config.values)
    config.values.update(extra or {})
    return run_program(HARNESS_DIR, config)


@cache
def example_plan(stack: str) -> Plan:
    """Read-only: shared by every test that plans this example stack."""
    return plan_harness(PROJECT_DIR / f"Pulumi.{stack}.yaml")


def plan_config(directory: Path, config: dict[str, Any], stack: str = "test",
                extra: dict[str, str] | None = None,
                reveal: Callable[[dict[str, str]], None] | None = None) -> Plan:
    directory.mkdir(parents=True, exist_ok=True)
    return plan_harness(write_stack_file(directory, config, stack), stack, extra, reveal)


def commands(plan: Plan) -> dict[str, RecordedResource]:
    return {r.name: r for r in plan.by_type(COMMAND)}


def longest_chain(plan: Plan, resource_type: str = COMMAND) -> int:
    """Length of the longest dependency path through resources of ``resource_type``."""
    by_urn = plan.by_urn()
    memo: dict[str, int] = {}

    def depth(urn: str) -> int:
        if urn not in memo:
            resource = by_urn[urn]
            below = [depth(dep) for dep in resource.dependencies if dep in by_urn]
            own = 1 if resource.type == resource_type else 0
            memo[urn] = own + max(below, default=0)
        return memo[urn]

    return max(depth(r.urn) for r in plan.resources)


def depends_on(plan: Plan, resource: RecordedResource, other: RecordedResource) -> bool:
    """True when ``resource`` waits for ``other``, directly or through other resources."""
    by_urn = plan.by_urn()
    seen: set[str] = set()
    todo = list(resource.dependencies)
    while todo:
        urn = todo.pop()
        if urn == other.urn:
            return True
        if urn in seen or urn not in by_urn:
            continue
        seen.add(urn)
        todo.extend(by_urn[urn].dependencies)
    return False
