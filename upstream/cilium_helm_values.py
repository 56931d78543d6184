"""Helm values as the Cilium chart and agent see them, and the finding a check reports.

Shared by the chart checks (``upstream.cilium_chart``) and the agent checks
(``upstream.cilium_agent``): what is set, else the line's chart default, read with Go template
truthiness (a string is not a boolean false).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from upstream.cilium import CiliumLine

Effect = Literal["reject", "silent"]
"""``reject``: ``helm template`` or the agent refuses. ``silent``: the feature is quietly off."""

@dataclass(frozen=True)
class ChartFinding:
    path: str
    """Helm value path (``loadBalancer.mode``) the finding is about."""
    message: str
    fix: str
    effect: Effect
    rule: str = ""
    """Id of the check that produced it (a key of ``RULES``), for the policy pack's grouping."""

    def __str__(self) -> str:
        return f"{self.path}: {self.message} Fix: {self.fix}"


class HelmValues:
    """Helm values as the chart sees them: what is set, else the line's chart default."""

    def __init__(self, values: Mapping[str, Any], line: CiliumLine) -> None:
        self._values = values
        self._line = line

    @property
    def as_set(self) -> Mapping[str, Any]:
        """The values as given, without chart defaults."""
        return self._values

    @property
    def line(self) -> CiliumLine:
        return self._line

    def is_set(self, path: str) -> bool:
        # A value set to null is removed by Helm's coalescing: the chart default applies.
        # Ref: helm pkg/chart/common/util/coalesce.go
        found, value = _lookup(self._values, path)
        return found and value is not None

    def get(self, path: str) -> Any:
        found, value = _lookup(self._values, path)
        return value if found and value is not None else self._line.chart_defaults.get(path)

    def on(self, path: str) -> bool:
        return go_truthy(self.get(path))

    @property
    def kube_proxy_replacement(self) -> bool:
        return helm_string(self.get("kubeProxyReplacement")) == "true"

    @property
    def routing_mode(self) -> str:
        # An empty routingMode means tunnel (values.yaml: "@default -- tunnel").
        return str(self.get("routingMode") or "tunnel")

    @property
    def tunnels(self) -> bool:
        """Some traffic is encapsulated: tunnel routing, and 1.20's hybrid routing."""
        # Ref: cilium pkg/option DaemonConfig.TunnelingEnabled (routing mode other than native)
        return self.routing_mode != "native"

    @property
    def uses_dsr(self) -> bool:
        # Ref: cilium pkg/option DaemonConfig.LoadBalancerUsesDSR (mode dsr or hybrid)
        return (self.get("loadBalancer.mode") or "snat") in ("dsr", "hybrid")

    @property
    def ipv4_masquerade(self) -> bool:
        # enableIPv4Masquerade: "true unless ipam eni mode is active" when left null.
        value = self.get("enableIPv4Masquerade")
        return True if value is None else go_truthy(value)


def _lookup(values: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    node: Any = values
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def go_truthy(value: Any) -> bool:
    """Truth as Go templates see it: only false, 0, nil and empty values are false."""
    if isinstance(value, (Mapping, Sequence)) and not isinstance(value, str):
        # Also the policy SDK's read-only proxies, which are not dicts or lists.
        return len(value) > 0
    return value not in (None, False, 0, "")


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def whole_number(value: Any) -> int | None:
    """An integer, also when it arrives as 12.0 (Pulumi sends every number as a float)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value) if float(value).is_integer() else None


def shown(value: Any) -> str:
    """A value for a message: 7.0 (a number as Pulumi sends it) reads as the user wrote it, 7."""
    number = whole_number(value)
    return str(number) if number is not None else repr(value)


def helm_string(value: Any) -> str:
    """``toString`` as the chart applies it (booleans become ``true``/``false``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
