"""When a provider replaces a resource instead of updating it: the facts the plan diff applies.

Offline there is no provider to ask, so each rule below is read from the provider's source or
docs and cited. A rule gets the old and new recorded resource and the changed input paths (minus
``ignoreChanges``) and returns the reasons it would replace, or nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import yaml

from tools.lib.engine import RecordedResource

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
COMMAND_TYPES = frozenset(TRIGGER_INPUTS)
KUBERNETES_PROVIDER = "pulumi:providers:kubernetes"

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
    if active_cluster(old_inputs) != active_cluster(new_inputs):
        return ["provider: active cluster of the kubeconfig changed"]
    return []


UNKNOWN = "<unknown during preview>"
"""Stands in for an input whose value the engine will only know after another resource ran."""


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


def rules_for(resource: RecordedResource) -> list[Rule]:
    rules = [prefix_rule("replaceOnChanges", resource.options.get("replaceOnChanges", [])),
             prefix_rule("provider", PROVIDER_FORCE_NEW.get(resource.type, ())),
             prefix_rule("triggers", TRIGGER_INPUTS.get(resource.type, ()))]
    if resource.type == KUBERNETES_PROVIDER:
        rules.append(kubernetes_provider_rule)
    return rules
