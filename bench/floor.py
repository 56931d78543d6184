"""The floor: register the same number and types of resources as a real plan, with no logic.

Written as a Pulumi program (``__main__.py`` in a temp dir) that reads a manifest of (type, name,
custom, parent index, inputs) and registers exactly that under the same mocks, so the ratio
"our time / floor" isolates the cost of the program's own logic.
"""

from __future__ import annotations

import json
from pathlib import Path

from tools.lib.engine import Plan

FLOOR_PROGRAM = '''
import json
import pulumi

manifest = json.loads(open("manifest.json").read())
created = []
for entry in manifest:
    parent = created[entry["parent"]] if entry["parent"] is not None else None
    opts = pulumi.ResourceOptions(parent=parent)
    if entry["type"].startswith("pulumi:providers:"):
        package = entry["type"].split(":")[-1]
        created.append(pulumi.ProviderResource(package, entry["name"], entry["inputs"], opts))
    elif entry["custom"]:
        created.append(pulumi.CustomResource(entry["type"], entry["name"], entry["inputs"], opts))
    else:
        created.append(pulumi.ComponentResource(entry["type"], entry["name"], None, opts))
'''


def write_floor_program(plan: Plan, directory: Path) -> Path:
    """Parents first, so every entry's parent index points backwards."""
    order: list = []
    seen: set[str] = set()
    by_urn = plan.by_urn()

    def visit(resource) -> None:
        if resource.urn in seen:
            return
        if resource.parent and resource.parent in by_urn:
            visit(by_urn[resource.parent])
        seen.add(resource.urn)
        order.append(resource)

    for resource in plan.resources:
        visit(resource)
    index = {r.urn: i for i, r in enumerate(order)}
    manifest = [{"type": r.type, "name": r.name, "custom": r.custom,
                 "parent": index.get(r.parent) if r.parent else None,
                 "inputs": r.plain_inputs() if r.custom else None} for r in order]
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "manifest.json").write_text(json.dumps(manifest))
    (directory / "__main__.py").write_text(FLOOR_PROGRAM)
    return directory
