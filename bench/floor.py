"""The fair floor: the program's resources, registered as the program registers them, with no logic.

Written as a Pulumi program (``__main__.py`` in a temp dir) that reads a manifest of the real
program's plan and registers exactly that under the same mocks:

- the same resources (type, name, custom or component, parent), in an order that respects parents
  and dependencies;
- the same **typed SDK classes** (``pulumi_hcloud.Server``, ``pulumi_command.remote.Command``,
  ``pulumi_kubernetes.helm.v3.Release``…), so the floor pays the providers' imports and argument
  handling as the program does — imported inside the timed region, as the program imports them;
- the program's **garbage-collector settings** (``components/runtime_tuning.py``);
- the same **edges** (``depends_on`` every recorded dependency), **secret inputs** (each secret
  input path wrapped in ``Output.secret`` again) and **resource options** (protect, ignore/replace
  on changes, delete before replace, additional secret outputs, custom timeouts, explicit
  providers), and the components' registered outputs.

What it does not have is the program's own work: the config model, address plan, renderers,
Output chains. So "program time / floor time" is the cost of that work alone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from components.runtime_tuning import GENERATION_THRESHOLDS
from tools.lib.engine import Plan, RecordedResource, is_secret, unwrap_secrets

FLOOR_PROGRAM = '''
import functools
import gc
import importlib
import inspect
import json

import pulumi

# The program's own collector settings (components/runtime_tuning.py), so the ratio compares
# the program's logic, not a runtime setting the floor could have too.
gc.freeze()
gc.set_threshold(*GENERATION_THRESHOLDS)

manifest = json.loads(open("manifest.json").read())


@functools.lru_cache(maxsize=None)
def sdk_class(token):
    """The generated SDK class of a resource type token (None: register it generically)."""
    if token.startswith("pulumi:providers:"):
        return getattr(importlib.import_module("pulumi_" + token.split(":")[2]), "Provider")
    package, module, name = token.split(":")
    path = ["pulumi_" + package]
    if package == "kubernetes":
        group, _, version = module.rpartition("/")
        group = {"helm.sh": "helm"}.get(group, group)
        if "." in group:  # custom resources of CRDs (cilium.io/v2...) have no generated class
            return None
        path += [group, version] if group else [version]
    elif module.split("/")[0] != "index":
        path.append(module.split("/")[0])
    return getattr(importlib.import_module(".".join(path)), name, None)


@functools.lru_cache(maxsize=None)  # once per class: the program pays no introspection
def python_names(cls):
    names = {}
    for parameter in inspect.signature(cls._internal_init).parameters:
        head, *rest = parameter.split("_")
        names[head + "".join(part[:1].upper() + part[1:] for part in rest)] = parameter
    return names


def with_secrets(value, path, secret_paths):
    if path in secret_paths:
        return pulumi.Output.secret(value)
    if isinstance(value, dict):
        return {k: with_secrets(v, f"{path}.{k}" if path else k, secret_paths) for k, v in value.items()}
    if isinstance(value, list):
        return [with_secrets(v, f"{path}[{i}]", secret_paths) for i, v in enumerate(value)]
    return value


def decoded(value):
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        return value if isinstance(parsed, str) else parsed
    return value


created = []
typed = 0
for entry in manifest:
    options = entry["options"]
    opts = pulumi.ResourceOptions(
        parent=created[entry["parent"]] if entry["parent"] is not None else None,
        depends_on=[created[i] for i in entry["dependencies"]],
        provider=created[entry["provider"]] if entry["provider"] is not None else None,
        protect=options["protect"] or None,
        ignore_changes=options["ignoreChanges"] or None,
        replace_on_changes=options["replaceOnChanges"] or None,
        delete_before_replace=options["deleteBeforeReplace"] or None,
        additional_secret_outputs=options["additionalSecretOutputs"] or None,
        custom_timeouts=pulumi.CustomTimeouts(**options["customTimeouts"])
        if options["customTimeouts"] else None)
    inputs = with_secrets(entry["inputs"], "", set(entry["secretPaths"]))
    if not entry["custom"]:
        component = pulumi.ComponentResource(entry["type"], entry["name"], inputs, opts)
        component.register_outputs(inputs)
        created.append(component)
        continue
    cls = sdk_class(entry["type"])
    if entry["type"].startswith("pulumi:providers:"):
        # Provider inputs travel JSON-encoded (booleans, numbers, objects); the typed class
        # encodes them itself, so hand it the decoded values.
        inputs = {k: decoded(v) for k, v in inputs.items()}
    names = python_names(cls) if cls is not None else {}
    if cls is not None and all(key in names for key in inputs):
        created.append(cls(entry["name"], opts=opts, **{names[k]: v for k, v in inputs.items()}))
        typed += 1
    elif entry["type"].startswith("pulumi:providers:"):
        created.append(pulumi.ProviderResource(entry["type"].split(":")[2], entry["name"], inputs, opts))
    else:
        created.append(pulumi.CustomResource(entry["type"], entry["name"], inputs, opts))
pulumi.export("typedResources", typed)
'''


def _order(plan: Plan) -> list[RecordedResource]:
    """Parents and dependencies before the resources that name them."""
    by_urn = plan.by_urn()
    order: list[RecordedResource] = []
    seen: set[str] = set()

    def visit(resource: RecordedResource) -> None:
        if resource.urn in seen:
            return
        seen.add(resource.urn)
        for urn in [resource.parent, resource.provider_urn, *resource.dependencies]:
            if urn and urn in by_urn:
                visit(by_urn[urn])
        order.append(resource)

    for resource in plan.resources:
        visit(resource)
    return order


def manifest_of(plan: Plan) -> list[dict[str, Any]]:
    order = _order(plan)
    index = {r.urn: i for i, r in enumerate(order)}
    return [{
        "type": r.type, "name": r.name, "custom": r.custom,
        "parent": index.get(r.parent) if r.parent else None,
        "provider": index.get(r.provider_urn) if r.provider_urn else None,
        "dependencies": sorted(index[d] for d in r.dependencies if d in index),
        "inputs": unwrap_secrets(r.inputs),
        "secretPaths": _secret_paths(r.inputs),
        "options": r.options,
    } for r in order]


def _secret_paths(value: Any, path: str = "") -> list[str]:
    # The floor program re-wraps these paths with Output.secret ("" is the whole input).
    if is_secret(value):
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _secret_paths(v, f"{path}.{k}" if path else k)]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _secret_paths(v, f"{path}[{i}]")]
    return []


def write_floor_program(plan: Plan, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "manifest.json").write_text(json.dumps(manifest_of(plan)))
    (directory / "__main__.py").write_text(
        FLOOR_PROGRAM.replace("*GENERATION_THRESHOLDS", ", ".join(map(str, GENERATION_THRESHOLDS))))
    return directory
