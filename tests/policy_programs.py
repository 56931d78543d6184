"""Which program to check stack files against, while the layers are not yet wired together.

The pack's Cilium policies need a registered Cilium release. Until ``K3sCluster`` wires the
Kubernetes layer in, only the layer harness (``tests/kubernetes_harness.py``: the real
``KubernetesLayer`` plus a Hetzner network, from the same stack file) registers one. Tests ask
for "the program that registers X" and get the whole program as soon as it does, with no edit
needed when the wiring lands.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from policies.rules.cilium_release import cilium_release
from policies.rules.types import HCLOUD_SERVER
from tests.helpers import PROJECT_DIR, plan_example
from tests.kubernetes_harness import harness_dir
from tools.lib.engine import Plan


def registers_cilium(plan: Plan) -> bool:
    return any(cilium_release(r.type, r.plain_inputs(), r.name, r.urn) for r in plan.resources)


def registers_servers(plan: Plan) -> bool:
    return bool(plan.by_type(HCLOUD_SERVER))


@cache
def _whole_program_plan() -> Plan:
    return plan_example("dev")


def program_registering_cilium() -> Path:
    """The whole program once it registers the Cilium release, else the layer harness."""
    return PROJECT_DIR if registers_cilium(_whole_program_plan()) else harness_dir()


def whole_program_registers_servers_and_cilium() -> bool:
    plan = _whole_program_plan()
    return registers_cilium(plan) and registers_servers(plan)
