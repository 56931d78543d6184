"""A pull request's change, as a reviewer reads it: two stack files planned and compared.

    python tools/plan.py --stack-file HEAD_FILE --diff BASE_FILE [--markdown FILE]

Both files are planned offline under the same stack name (the stack the head file names), and
``tools.lib.plan_diff.diff_plans`` decides what ``pulumi up`` would create, update in place,
replace and delete (provider replacement facts, ``ignoreChanges``, triggers). This module adds
what a reviewer needs on top:
- the changed values of every update and replacement, secrets masked (a changed secret shows
  as changed, never its value), long multi-line inputs (scripts, k3s config) as a line diff;
- flags: **destructive** (something is deleted or re-created: a server's disk, a network, a
  key, a load balancer's address) and **disruptive** (a running thing is touched: a script runs
  on a node, a Helm release rolls its pods, a server is powered off to change its type);
- the cluster summary of both plans (``tools.lib.plan_report``) compared line by line.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from policies.rules.cluster_autoscaler import hetzner_autoscalers
from policies.rules.cluster_autoscaler import node_groups as autoscaler_node_groups
from tools.lib.engine import SECRET_MASK, Plan, RecordedResource
from upstream.cluster_autoscaler import NODE_GROUP_LABEL
from tools.lib.plan_diff import KINDS, PlanDiff, ResourceChange, diff_plans
from tools.lib.plan_report import STAND_IN_NOTICE, summarize, summary_lines
from tools.lib.replacement_rules import COMMAND_TYPES, under

Severity = Literal["destructive", "disruptive"]
MAX_VALUE_CHARS = 120
MAX_DIFF_LINES = 40
# GitHub refuses issue comments longer than 65536 characters.
MAX_COMMENT_CHARS = 60_000

SERVER = "hcloud:index/server:Server"
BASTION_SUFFIX = "-bastion"
KIND_TITLES = {"create": "Created", "update": "Updated in place", "replace": "Replaced",
               "delete": "Deleted"}
MARKS = {"create": "+", "update": "~", "replace": "+-", "delete": "-"}

# Why losing (deleting or re-creating) a resource of this type hurts. Any other custom resource
# that is deleted or replaced is destructive too, with a generic reason.
LOSS_REASONS: dict[str, str] = {
    "hcloud:index/server:Server": "the server and its disk are destroyed (a control-plane "
                                  "server also leaves etcd)",
    "hcloud:index/network:Network": "the private network is re-created: every server and load "
                                    "balancer is detached",
    "hcloud:index/networkSubnet:NetworkSubnet": "the subnet is re-created: attached servers "
                                                "lose their private addresses",
    "hcloud:index/loadBalancer:LoadBalancer": "the load balancer is re-created: its public "
                                              "address changes",
    "hcloud:index/firewall:Firewall": "the firewall is re-created: its rules are briefly absent",
    "tls:index/privateKey:PrivateKey": "a new key pair: pinned host keys and SSH logins change",
    "random:index/randomPassword:RandomPassword": "a new random secret (a k3s token): nodes "
                                                  "joined with the old one stop matching",
    "hcloud:index/sshKey:SshKey": "the SSH key is re-uploaded",
}


@dataclass(frozen=True)
class ValueChange:
    path: str
    before: str
    after: str
    line_diff: tuple[str, ...] = ()
    """For multi-line text: the unified diff of the lines (no context)."""


@dataclass(frozen=True)
class Flag:
    severity: Severity
    reason: str


@dataclass
class ReviewedChange:
    change: ResourceChange
    values: list[ValueChange] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)


@dataclass
class Review:
    stack: str
    diff: PlanDiff
    changes: list[ReviewedChange]
    shape_removed: list[str]
    shape_added: list[str]

    def flagged(self, severity: Severity) -> list[ReviewedChange]:
        return [c for c in self.changes if any(f.severity == severity for f in c.flags)]

    def counts(self) -> dict[str, int]:
        return {kind: sum(1 for c in self.changes if c.change.kind == kind) for kind in KINDS}


def review(before: Plan, after: Plan) -> Review:
    diff = diff_plans(before, after)
    old, new = before.by_urn(), after.by_urn()
    reviewed = []
    for change in diff.actions():
        entry = ReviewedChange(change)
        if change.kind in ("update", "replace") and change.urn in old and change.urn in new:
            entry.values = value_changes(old[change.urn], new[change.urn], change.changed_paths)
        entry.flags = flags_for(change, entry.values)
        entry.flags += node_group_flags(old.get(change.urn), new.get(change.urn))
        reviewed.append(entry)
    before_lines, after_lines = summary_lines(summarize(before)), summary_lines(summarize(after))
    return Review(stack=after.stack, diff=diff, changes=reviewed,
                  shape_removed=[line for line in before_lines if line not in after_lines],
                  shape_added=[line for line in after_lines if line not in before_lines])


# ---- changed values --------------------------------------------------------------------------

def value_changes(old: RecordedResource, new: RecordedResource,
                  reported: list[str]) -> list[ValueChange]:
    """Leaf values that differ, as plan_diff reported them, with secrets masked."""
    found: list[ValueChange] = []
    _walk(old.plain_inputs(), new.plain_inputs(), old.masked_inputs(), new.masked_inputs(), "",
          found)
    return [v for v in found
            if not reported or any(under(p, v.path) or under(v.path, p) for p in reported)]


_MISSING = object()


def _walk(old: Any, new: Any, old_masked: Any, new_masked: Any, path: str,
          into: list[ValueChange]) -> None:
    if old == new:
        return
    if old_masked == SECRET_MASK or new_masked == SECRET_MASK:
        # A secret is compared by value but never shown.
        into.append(ValueChange(path, _secret_or(old, old_masked), _secret_or(new, new_masked)
                                + (" (changed)" if old is not _MISSING and new is not _MISSING
                                   else "")))
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            sub = f"{path}.{key}" if path else str(key)
            _walk(old.get(key, _MISSING), new.get(key, _MISSING),
                  old_masked.get(key, _MISSING), new_masked.get(key, _MISSING), sub, into)
        return
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, pair in enumerate(zip(old, new, old_masked, new_masked, strict=True)):
            _walk(*pair, f"{path}[{index}]", into)
        return
    into.append(ValueChange(path, _show(old_masked), _show(new_masked), _line_diff(old, new)))


def _secret_or(value: Any, masked: Any) -> str:
    return "(absent)" if value is _MISSING else (SECRET_MASK if masked == SECRET_MASK
                                                   else _show(masked))


def _show(value: Any) -> str:
    if value is _MISSING:
        return "(absent)"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    if "\n" in text:
        return f"({text.count(chr(10)) + 1} lines)"
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS - 1] + "…"


def _line_diff(old: Any, new: Any) -> tuple[str, ...]:
    if not (isinstance(old, str) and isinstance(new, str) and ("\n" in old or "\n" in new)):
        return ()
    lines = [line for line in difflib.unified_diff(old.splitlines(), new.splitlines(),
                                                   lineterm="", n=0)
             if not line.startswith(("---", "+++", "@@"))]
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"… {len(lines) - MAX_DIFF_LINES} more line(s)"]
    return tuple(lines)


# ---- flags -----------------------------------------------------------------------------------

def flags_for(change: ResourceChange, values: list[ValueChange]) -> list[Flag]:
    flags: list[Flag] = []
    if change.type in COMMAND_TYPES:
        # A command created with its (new) server runs on a machine nothing uses yet.
        if change.scripts and change.kind != "create":
            runs = " and ".join(f"`{s}`" for s in change.scripts)
            flags.append(Flag("disruptive", f"runs the command's {runs} script on its host"))
        return flags
    if change.kind in ("delete", "replace"):
        reason = LOSS_REASONS.get(change.type, f"{change.kind}d: the resource and its state "
                                                "are gone")
        if change.type.startswith("pulumi:providers:"):
            reason = "the provider is replaced: every resource it manages is replaced with it"
        flags.append(Flag("destructive", reason))
        if change.type == SERVER and change.name.endswith(BASTION_SUFFIX):
            # docs/delivery.md: the in-network runner lives on the bastion.
            flags.append(Flag("destructive", "the bastion carries the in-network deploy runner: "
                                             "apply this change from a workstation"))
    if change.kind == "update":
        paths = [v.path for v in values] or change.changed_paths
        if change.type == SERVER and any(under(p, "serverType")
                                                               for p in paths):
            flags.append(Flag("disruptive", "Hetzner powers the server off to change its type"))
        if change.type == "kubernetes:helm.sh/v3:Release":
            flags.append(Flag("disruptive", "the Helm release is upgraded: its pods roll"))
        if change.type == "hcloud:index/firewall:Firewall":
            flags.append(Flag("disruptive", "firewall rules change: check who can reach what"))
    return flags


def _node_group_ids(resource: RecordedResource | None) -> set[str]:
    if resource is None:
        return set()
    inputs = resource.plain_inputs()
    return {group.id for container in hetzner_autoscalers(resource.type, inputs)
            for group in autoscaler_node_groups(container)}


def node_group_flags(old: RecordedResource | None, new: RecordedResource | None) -> list[Flag]:
    """A node group the cluster-autoscaler stops managing leaves its servers behind: they were
    never in Pulumi state (docs/autoscaler.md, "Removal")."""
    return [Flag("destructive", f"the cluster-autoscaler stops managing node group '{group}': "
                 f"the servers it created (label {NODE_GROUP_LABEL}={group}) are not in Pulumi "
                 "state and stay; drain and delete them first (docs/autoscaler.md, Removal)")
            for group in sorted(_node_group_ids(old) - _node_group_ids(new))]


# ---- rendering -------------------------------------------------------------------------------

def review_to_json(result: Review) -> dict[str, Any]:
    """The change for other tools: the same content as the text, secrets masked."""
    return {
        "stack": result.stack,
        "counts": result.counts(),
        "shape": {"removed": result.shape_removed, "added": result.shape_added},
        "changes": [{
            "urn": e.change.urn, "type": e.change.type, "name": e.change.name,
            "kind": e.change.kind, "replaceReasons": e.change.replace_reasons,
            "scripts": list(e.change.scripts),
            "values": [{"path": v.path, "before": v.before, "after": v.after,
                        "lineDiff": list(v.line_diff)} for v in e.values],
            "flags": [{"severity": f.severity, "reason": f.reason} for f in e.flags],
        } for e in result.changes],
    }


def _flag_text(entry: ReviewedChange) -> str:
    return "; ".join(f"{f.severity.upper()}: {f.reason}" for f in entry.flags)


def render_text(result: Review, base_label: str) -> str:
    counts = result.counts()
    out = [f"Changes to stack {result.stack} against {base_label} (as `pulumi up` would apply):"]
    out.append("  " + ", ".join(f"{n} to {kind}" for kind, n in counts.items())
               + f"; {len(result.flagged('destructive'))} destructive, "
               f"{len(result.flagged('disruptive'))} disruptive")
    if result.shape_removed or result.shape_added:
        out += ["", "Cluster shape:"]
        out += [f"  - {line}" for line in result.shape_removed]
        out += [f"  + {line}" for line in result.shape_added]
    for kind in KINDS:
        entries = [e for e in result.changes if e.change.kind == kind]
        if not entries:
            continue
        out += ["", f"{KIND_TITLES[kind]}:"]
        for entry in entries:
            c = entry.change
            out.append(f"  {MARKS[kind]:<2} {c.type}  {c.name}")
            if entry.flags:
                out.append(f"       {_flag_text(entry)}")
            for reason in c.replace_reasons:
                out.append(f"       replaced because {reason}")
            for value in entry.values:
                out.append(f"       {value.path}: {value.before} → {value.after}")
                out += [f"         {line}" for line in value.line_diff]
    if not result.changes:
        out += ["", "No change."]
    out += ["", f"Note: {STAND_IN_NOTICE}"]
    return "\n".join(out)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").replace("`", "'")


def render_markdown(result: Review, base_label: str, head_label: str,
                    findings: list[str] | None = None) -> str:
    """The change as a PR comment; ``findings``: the head plan's policy violations, one line
    each (mandatory ones fail the workflow)."""
    counts = result.counts()
    destructive, disruptive = result.flagged("destructive"), result.flagged("disruptive")
    out = [f"### Offline plan diff: stack `{result.stack}`", "",
           f"`{head_label}` against `{base_label}`, as `pulumi up` would apply it.", "",
           "**" + " · ".join(f"{n} to {kind}" for kind, n in counts.items()) + "**"
           + (f" — :warning: **{len(destructive)} destructive**" if destructive else "")
           + (f", **{len(disruptive)} disruptive**" if disruptive else "")]
    if result.shape_removed or result.shape_added:
        out += ["", "#### Cluster shape", "", "```diff"]
        out += [f"- {line}" for line in result.shape_removed]
        out += [f"+ {line}" for line in result.shape_added]
        out.append("```")
    if findings:
        out += ["", "#### Policy findings", "", *(f"- {_cell(line)}" for line in findings)]
    flagged = [e for e in result.changes if e.flags]
    if flagged:
        out += ["", "#### Needs a careful look", "", "| | resource | type | why |",
                "| --- | --- | --- | --- |"]
        out += [f"| {MARKS[e.change.kind]} {e.change.kind} | `{_cell(e.change.name)}` | "
                f"`{e.change.type}` | {_cell(_flag_text(e))} |" for e in flagged]
    out += _markdown_details(result)
    if not result.changes:
        out += ["", "No change to any resource."]
    out += ["", f"<sub>{STAND_IN_NOTICE} Produced by `tools/plan.py --diff`; secrets are "
                "masked.</sub>"]
    return _fit_comment("\n".join(out) + "\n")


def _markdown_details(result: Review) -> list[str]:
    """One collapsed section per kind of change: each resource, its changed values, line diffs."""
    out: list[str] = []
    for kind in KINDS:
        entries = [e for e in result.changes if e.change.kind == kind]
        if not entries:
            continue
        out += ["", f"<details><summary><b>{KIND_TITLES[kind]}</b> ({len(entries)})</summary>",
                ""]
        for entry in entries:
            c = entry.change
            out.append(f"- `{c.type}` **{_cell(c.name)}**"
                       + "".join(f" — replaced because {_cell(r)}" for r in c.replace_reasons))
            for value in entry.values:
                out.append(f"  - `{_cell(value.path)}`: `{_cell(value.before)}` → "
                           f"`{_cell(value.after)}`")
                if value.line_diff:
                    out += ["", "    ```diff", *(f"    {line}" for line in value.line_diff),
                            "    ```", ""]
        out += ["", "</details>"]
    return out


def _fit_comment(text: str) -> str:
    """Cut at a line to GitHub's comment limit, closing the open section."""
    if len(text) <= MAX_COMMENT_CHARS:
        return text
    cut = text[:MAX_COMMENT_CHARS].rsplit("\n", 1)[0]
    return (cut + "\n\n</details>\n\n… truncated: the full diff is in the job log "
            "(`tools/plan.py --diff`).\n")
