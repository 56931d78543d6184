"""Compare two offline plans: what a config change would create, delete, update or replace.

Replacement is predicted from what is visible offline: the program's own ``replaceOnChanges`` and
``triggers`` inputs (pulumi-command replaces a command when its triggers change), and the provider
facts in ``tools.lib.replacement_rules`` (properties a provider cannot update in place, when the
Kubernetes provider itself is replaced). Changed paths listed in ``ignoreChanges`` are dropped,
as the engine drops them. A replaced provider replaces every resource it manages (the engine
re-creates them through the new provider instance).

Two views of one change:
- ``preview=False`` (default): what ``pulumi up`` does. Every input is known by the time a
  resource is registered, so only real value changes count — and the outputs of a provider
  resource that is replaced (a new id at least: a new network, a new server) are new values, so
  every input that depends on them changes too (a subnet's ``networkId``, a server's
  ``networks``), which may replace those in turn.
- ``preview=True``: what ``pulumi preview`` shows. Outputs of resources that are created or
  replaced, and of remote commands that run again, are unknown until they ran; every input that
  depends on them (recorded ``property_dependencies``) counts as changed. Approximation: updated
  resources other than commands keep known outputs (bridged providers keep unchanged computed
  attributes).

For remote commands a change also says which of its scripts would run (``scripts``): an update
runs ``update`` (or ``create`` again when there is none); a replacement runs the new ``create``
and the old ``delete``; a deletion runs ``delete``.
Ref: https://www.pulumi.com/registry/packages/command/api-docs/remote/command/
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from tools.lib.engine import Plan, RecordedResource
from tools.lib.replacement_rules import COMMAND_TYPES, RENEWED, UNKNOWN, rules_for, under

Kind = Literal["create", "delete", "update", "replace"]
KINDS: tuple[Kind, ...] = ("create", "update", "replace", "delete")


@dataclass
class ResourceChange:
    urn: str
    type: str
    name: str
    kind: Kind
    changed_paths: list[str] = field(default_factory=list)
    replace_reasons: list[str] = field(default_factory=list)
    custom: bool = True
    """False for component resources: they hold no state in a provider; a change to their
    inputs is bookkeeping, not an action."""
    scripts: tuple[str, ...] = ()
    """Remote/local commands only: which of the command's scripts this change runs."""


@dataclass
class PlanDiff:
    changes: list[ResourceChange]

    def of_kind(self, kind: Kind) -> list[ResourceChange]:
        return [c for c in self.changes if c.kind == kind]

    @property
    def created(self) -> list[ResourceChange]:
        return self.of_kind("create")

    @property
    def deleted(self) -> list[ResourceChange]:
        return self.of_kind("delete")

    @property
    def updated(self) -> list[ResourceChange]:
        return self.of_kind("update")

    @property
    def replaced(self) -> list[ResourceChange]:
        return self.of_kind("replace")

    def counts(self) -> dict[str, int]:
        return {kind: len(self.of_kind(kind)) for kind in KINDS}

    def actions(self) -> list[ResourceChange]:
        """Changes of custom resources: what a provider would actually do."""
        return [c for c in self.changes if c.custom]

    def commands_run(self) -> list[ResourceChange]:
        return [c for c in self.changes if c.scripts]


def changed_paths(before: Any, after: Any, path: str = "") -> list[str]:
    """Leaf paths whose values differ (dicts by key, lists by index)."""
    if isinstance(before, dict) and isinstance(after, dict):
        paths: list[str] = []
        for key in sorted(set(before) | set(after)):
            sub = f"{path}.{key}" if path else str(key)
            if key not in before or key not in after:
                paths.append(sub)
            else:
                paths.extend(changed_paths(before[key], after[key], sub))
        return paths
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        paths = []
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            paths.extend(changed_paths(old, new, f"{path}[{index}]"))
        return paths
    return [] if before == after else [path]


def _scripts(kind: Kind, old: RecordedResource | None, new: RecordedResource | None
             ) -> tuple[str, ...]:
    resource = new or old
    if resource is None or resource.type not in COMMAND_TYPES:
        return ()

    def has(r: RecordedResource | None, script: str) -> bool:
        return r is not None and bool(r.inputs.get(script))

    if kind == "create":
        return ("create",) if has(new, "create") else ()
    if kind == "delete":
        return ("delete",) if has(old, "delete") else ()
    if kind == "update":
        return ("update",) if has(new, "update") else (("create",) if has(new, "create") else ())
    return tuple(script for script, r in (("create", new), ("delete", old)) if has(r, script))


def _known_inputs(resource: RecordedResource, unknown: set[str], marker: str) -> dict[str, Any]:
    """Plain inputs, with every property that depends on an unknown (or renewed) output marked."""
    inputs = resource.plain_inputs()
    for prop, deps in resource.property_dependencies.items():
        if prop in inputs and unknown.intersection(deps):
            inputs[prop] = marker
    return inputs


def _resource_change(old: RecordedResource, new: RecordedResource,
                     unknown: set[str], marker: str) -> ResourceChange | None:
    ignored = new.options.get("ignoreChanges", [])
    old_inputs = old.plain_inputs()
    new_inputs = _known_inputs(new, unknown, marker)
    paths = [p for p in changed_paths(old_inputs, new_inputs)
             if not any(under(p, prefix) for prefix in ignored)]
    if not paths:
        return None
    shown = _with_unknowns(new, new_inputs)
    reasons = [reason for rule in rules_for(new) for reason in rule(old, shown, paths)]
    kind: Kind = "replace" if reasons else "update"
    return ResourceChange(new.urn, new.type, new.name, kind, paths, reasons, new.custom,
                          _scripts(kind, old, new))


def _with_unknowns(resource: RecordedResource, inputs: dict[str, Any]) -> RecordedResource:
    """The resource as the rules should see it: unknown inputs stay unknown when unwrapped."""
    if inputs == resource.plain_inputs():
        return resource
    return RecordedResource(resource.urn, resource.type, resource.name, resource.parent,
                            resource.custom, inputs, resource.dependencies,
                            resource.property_dependencies, resource.provider, resource.options)


def _provider_urn(reference: str | None) -> str | None:
    # Provider references are "<provider urn>::<provider id>".
    return reference.rsplit("::", 1)[0] if reference else None


def _cascade_provider_replacements(changes: dict[str, ResourceChange],
                                   new: dict[str, RecordedResource]) -> None:
    replaced_providers = {urn for urn, c in changes.items()
                          if c.kind == "replace" and c.type.startswith("pulumi:providers:")}
    for urn, resource in new.items():
        provider = _provider_urn(resource.provider)
        if provider not in replaced_providers:
            continue
        change = changes.get(urn)
        if change is not None and change.kind == "create":
            continue
        reason = f"provider replaced: {new[provider].name}"
        if change is None:
            change = changes[urn] = ResourceChange(urn, resource.type, resource.name, "replace",
                                                   custom=resource.custom)
        change.kind = "replace"
        change.replace_reasons.append(reason)


def _diff(old: dict[str, RecordedResource], new: dict[str, RecordedResource],
          unknown: set[str], marker: str = UNKNOWN) -> dict[str, ResourceChange]:
    changes: dict[str, ResourceChange] = {}
    for urn in sorted(set(old) | set(new)):
        if urn not in old:
            r = new[urn]
            changes[urn] = ResourceChange(urn, r.type, r.name, "create", custom=r.custom,
                                          scripts=_scripts("create", None, r))
        elif urn not in new:
            r = old[urn]
            changes[urn] = ResourceChange(urn, r.type, r.name, "delete", custom=r.custom,
                                          scripts=_scripts("delete", r, None))
        else:
            change = _resource_change(old[urn], new[urn], unknown, marker)
            if change:
                changes[urn] = change
    _cascade_provider_replacements(changes, new)
    return changes


def _unknown_after(changes: dict[str, ResourceChange]) -> set[str]:
    """Resources whose outputs a preview cannot know: new, replaced, or a command run again."""
    return {urn for urn, c in changes.items()
            if c.kind in ("create", "replace") or (c.kind == "update" and c.scripts)}


def _renewed_after(changes: dict[str, ResourceChange]) -> set[str]:
    """Provider resources replaced: their id (and computed outputs) are new after ``up``."""
    return {urn for urn, c in changes.items()
            if c.kind == "replace" and c.custom and c.type not in COMMAND_TYPES}


def diff_plans(before: Plan, after: Plan, *, preview: bool = False) -> PlanDiff:
    old, new = before.by_urn(), after.by_urn()
    grow, marker = (_unknown_after, UNKNOWN) if preview else (_renewed_after, RENEWED)
    unknown: set[str] = set()
    changes = _diff(old, new, unknown, marker)
    while True:
        # New or unknown outputs make dependents change, which may renew their outputs too.
        grown = grow(changes)
        if grown <= unknown:
            break
        unknown |= grown
        changes = _diff(old, new, unknown, marker)
    return PlanDiff([changes[urn] for urn in sorted(changes)])


SERVER = "hcloud:index/server:Server"


def node_addressing(server: RecordedResource) -> dict[str, Any]:
    """What addresses a server: its private IPs and whether it has public ones."""
    inputs = server.plain_inputs()
    nets = inputs.get("publicNets") or [{}]
    return {"private": [n.get("ip") for n in inputs.get("networks") or []],
            "public": [(n.get("ipv4Enabled", True), n.get("ipv6Enabled", True)) for n in nets]}


def readdressed_servers(before: Plan, after: Plan) -> dict[str, list[str]]:
    """Servers kept by name whose addresses change: every etcd member and kubelet that knew
    them must learn the new ones (k3s ``node-ip``/``node-external-ip``, etcd peer URLs)."""
    old = {r.name: r for r in before.by_type(SERVER)}
    found: dict[str, list[str]] = {}
    for server in after.by_type(SERVER):
        if server.name not in old:
            continue
        was, now = node_addressing(old[server.name]), node_addressing(server)
        what = [kind for kind in ("private", "public") if was[kind] != now[kind]]
        if what:
            found[server.name] = what
    return found
