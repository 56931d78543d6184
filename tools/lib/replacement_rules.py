"""When a provider replaces a resource instead of updating it: the facts the plan diff applies.

Offline there is no provider to ask. The properties that make each provider resource be replaced
are read from the providers themselves by ``tools/provider_replacements.py`` into
``upstream/provider_replacements.json`` (schema ``willReplaceOnChanges``, framework
``RequiresReplace``, native ``replaceOnChanges`` tags; each with its citation). A rule gets the old
and new recorded resource and the changed input paths (minus ``ignoreChanges``) and returns the
reasons it would replace, or nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tools.lib.engine import RecordedResource

REPLACEMENT_TABLE = Path(__file__).resolve().parents[2] / "upstream" / "provider_replacements.json"
COMMAND_TYPES = frozenset({"command:remote:Command", "command:local:Command"})
KUBERNETES_PROVIDER = "pulumi:providers:kubernetes"


@cache
def provider_replacements() -> dict[str, tuple[str, ...]]:
    """Resource type → the input properties whose change replaces it (from the providers)."""
    table = json.loads(REPLACEMENT_TABLE.read_text())
    return {resource_type: tuple(sorted(entry["replaceOn"]))
            for resource_type, entry in table["resources"].items()}


Rule = Callable[[RecordedResource, RecordedResource, Sequence[str]], list[str]]


def under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith((prefix + ".", prefix + "["))


def prefix_rule(source: str, prefixes: Sequence[str]) -> Rule:
    def rule(_old: RecordedResource, _new: RecordedResource, paths: Sequence[str]) -> list[str]:
        return [f"{source}: {prefix}" for prefix in prefixes
                if any(under(path, prefix) for path in paths)]
    return rule


def kubernetes_provider_rule(old: RecordedResource, new: RecordedResource,
                             paths: Sequence[str]) -> list[str]:
    """pulumi-kubernetes ``DiffConfig``: when the provider itself is replaced.

    With ``clusterIdentifier`` set, only a change of that value replaces the provider; every
    other change (kubeconfig included) is an update (Ref: kubernetes.Provider docs,
    ``cluster_identifier``; provider/pkg/provider DiffConfig tests "with an unchanged cluster
    identifier"). Without it,
    the provider is replaced when its kubeconfig is unknown or when the kubeconfig's *active
    cluster* (the current context's cluster entry: server, CA, ...) differs
    (Ref: pulumi-kubernetes provider/pkg/provider/provider.go ``DiffConfig``,
    ``getActiveClusterFromConfig``; pulumi/pulumi-kubernetes#4019).
    """
    old_inputs, new_inputs = old.plain_inputs(), new.plain_inputs()
    if "clusterIdentifier" in new_inputs:
        changed = ("clusterIdentifier" in old_inputs and
                   any(under(path, "clusterIdentifier") for path in paths))
        return ["provider: clusterIdentifier changed"] if changed else []
    if not any(under(path, "kubeconfig") for path in paths):
        return []
    if UNKNOWN in (old_inputs.get("kubeconfig"), new_inputs.get("kubeconfig")):
        return ["provider: kubeconfig unknown during preview"]
    if RENEWED in (old_inputs.get("kubeconfig"), new_inputs.get("kubeconfig")):
        return ["provider: kubeconfig from a replaced resource"]
    if active_cluster(old_inputs) != active_cluster(new_inputs):
        return ["provider: active cluster of the kubeconfig changed"]
    return []


UNKNOWN = "<unknown during preview>"
"""Stands in for an input whose value the engine will only know after another resource ran."""
RENEWED = "<new: from a replaced resource>"
"""Stands in for an input taken from a resource that ``pulumi up`` replaces (its id is new)."""


def active_cluster(provider_inputs: dict[str, Any]) -> dict[str, Any] | None:
    """The kubeconfig's cluster entry its current context (or the ``context`` input) selects."""
    text = provider_inputs.get("kubeconfig")
    if not isinstance(text, str) or not text.strip():
        return None
    document = yaml.safe_load(text) or {}
    context_name = provider_inputs.get("context") or document.get("current-context")
    contexts = {c.get("name"): c.get("context") or {} for c in document.get("contexts") or []}
    clusters = {c.get("name"): c.get("cluster") or {} for c in document.get("clusters") or []}
    return clusters.get(contexts.get(context_name, {}).get("cluster"))


def command_rule(old: RecordedResource, new: RecordedResource, paths: Sequence[str]) -> list[str]:
    """pulumi-command: a ``triggers`` change replaces the command, unless it has an ``update``
    script, which then runs instead (Ref: pulumi-command provider/pkg/provider/common/inputs.go,
    ``Triggers`` doc: "If the `update` command was provided the resource will be updated,
    otherwise it will be replaced using the `create` command")."""
    if new.plain_inputs().get("update"):
        return []
    return prefix_rule("provider", provider_replacements().get(new.type, ()))(old, new, paths)


def rules_for(resource: RecordedResource) -> list[Rule]:
    rules = [prefix_rule("replaceOnChanges", resource.options.get("replaceOnChanges", []))]
    if resource.type in COMMAND_TYPES:
        rules.append(command_rule)
    else:
        rules.append(prefix_rule("provider", provider_replacements().get(resource.type, ())))
    if resource.type == KUBERNETES_PROVIDER:
        rules.append(kubernetes_provider_rule)
    return rules
