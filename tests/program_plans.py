"""Plans of the whole program (``__main__.py`` through the offline engine), cached per example
stack, and the questions bootstrap tests ask of them.

Every plan here is of the real program: the addresses, handles and dependencies the tests see are
the ones ``pulumi up`` would register, not a stand-in's.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from stack_config import ClusterSpec, validate_cluster_spec
from tests.helpers import PROJECT_DIR, example_config, write_stack_file
from tools.lib.engine import Plan, RecordedResource, run_program
from tools.lib.stack_files import load_stack_config
from upstream.k3s import API_PORT

PROJECT = "k3s-hcloud"
COMMAND = "command:remote:Command"
NODE = "k3s-hcloud:bootstrap:K3sNode"


def plan_stack(stack_file: Path, stack: str | None = None,
               extra: dict[str, str] | None = None,
               reveal: Callable[[dict[str, str]], None] | None = None) -> Plan:
    """``reveal`` may rewrite the loaded values (decrypting planted secrets as the CLI would);
    ``extra`` adds config values (``namespace:key``) the stack file does not hold."""
    config = load_stack_config(PROJECT_DIR, stack_file, stack)
    if reveal is not None:
        reveal(config.values)
    config.values.update(extra or {})
    return run_program(PROJECT_DIR, config)


@cache
def example_plan(stack: str) -> Plan:
    """Read-only: shared by every test of the session that plans this example stack."""
    return plan_stack(PROJECT_DIR / f"Pulumi.{stack}.yaml")


def plan_config(directory: Path, config: dict[str, Any], stack: str = "test",
                extra: dict[str, str] | None = None,
                reveal: Callable[[dict[str, str]], None] | None = None) -> Plan:
    directory.mkdir(parents=True, exist_ok=True)
    return plan_stack(write_stack_file(directory, config, stack), stack, extra, reveal)


def commands(plan: Plan) -> dict[str, RecordedResource]:
    return {r.name: r for r in plan.by_type(COMMAND)}


def one(plan: Plan, resource_type: str, suffix: str) -> RecordedResource:
    """The one resource of ``resource_type`` whose name ends with ``suffix``."""
    [found] = [r for r in plan.by_type(resource_type) if r.name.endswith(suffix)]
    return found


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


@cache
def example_spec(stack: str) -> ClusterSpec:
    """The validated model of an example stack: what the program derives its plan from."""
    config = example_config(stack)
    return validate_cluster_spec({key.removeprefix(f"{PROJECT}:"): value
                                  for key, value in config.items()
                                  if key.startswith(f"{PROJECT}:")})


def api_url(address: str) -> str:
    return f"https://{address}:{API_PORT}"
