"""Compare two offline plans: what a config change would create, delete, update or replace.

Replacement is predicted from what is visible offline: the program's own ``replaceOnChanges`` and
``triggers`` inputs (pulumi-command replaces a command when its triggers change), plus provider
facts listed in ``PROVIDER_FORCE_NEW`` (properties the provider cannot update in place). Changed
paths listed in ``ignoreChanges`` are dropped, as the engine drops them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from tools.engine import Plan, RecordedResource

# Ref: terraform-provider-hcloud internal/server/resource.go (ForceNew: image, location,
# datacenter, user_data, ssh_keys); server_type changes in place (power off, change type).
PROVIDER_FORCE_NEW: dict[str, tuple[str, ...]] = {
    "hcloud:index/server:Server": ("image", "location", "datacenter", "userData", "sshKeys"),
}
# Ref: pulumi-command docs: "triggers: changes to this value cause a replacement".
TRIGGER_INPUTS: dict[str, tuple[str, ...]] = {
    "command:remote:Command": ("triggers",),
    "command:local:Command": ("triggers",),
}

Kind = Literal["create", "delete", "update", "replace"]


@dataclass
class ResourceChange:
    urn: str
    type: str
    name: str
    kind: Kind
    changed_paths: list[str] = field(default_factory=list)
    replace_reasons: list[str] = field(default_factory=list)


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
        return {kind: len(self.of_kind(kind)) for kind in ("create", "update", "replace", "delete")}


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


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith((prefix + ".", prefix + "["))


def _resource_change(old: RecordedResource, new: RecordedResource) -> ResourceChange | None:
    ignored = new.options.get("ignoreChanges", [])
    paths = [p for p in changed_paths(old.plain_inputs(), new.plain_inputs())
             if not any(_under(p, prefix) for prefix in ignored)]
    if not paths:
        return None
    reasons = []
    for source, prefixes in (("replaceOnChanges", new.options.get("replaceOnChanges", [])),
                             ("provider", PROVIDER_FORCE_NEW.get(new.type, ())),
                             ("triggers", TRIGGER_INPUTS.get(new.type, ()))):
        for prefix in prefixes:
            hits = [p for p in paths if _under(p, prefix)]
            if hits:
                reasons.append(f"{source}: {prefix}")
    return ResourceChange(new.urn, new.type, new.name, "replace" if reasons else "update",
                          paths, reasons)


def diff_plans(before: Plan, after: Plan) -> PlanDiff:
    old, new = before.by_urn(), after.by_urn()
    changes: list[ResourceChange] = []
    for urn in sorted(set(old) | set(new)):
        if urn not in old:
            changes.append(ResourceChange(urn, new[urn].type, new[urn].name, "create"))
        elif urn not in new:
            changes.append(ResourceChange(urn, old[urn].type, old[urn].name, "delete"))
        else:
            change = _resource_change(old[urn], new[urn])
            if change:
                changes.append(change)
    return PlanDiff(changes)
