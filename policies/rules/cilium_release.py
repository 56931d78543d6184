"""The Cilium Helm release as the policies see it, and policies built from the chart rules.

A release is Cilium by its chart (``cilium``, ``<repo>/cilium``, ``oci://.../cilium`` or a
``cilium-<version>.tgz`` archive), never by this project's resource names: a release written by
hand is checked like ours. Its values are read the way the chart reads them, falling back to the
chart defaults of its line, by the same functions the config validator calls
(``upstream.cilium_chart``); nothing here restates a Cilium fact.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)
from pulumi_policy.proxy import UnknownValueError

from policies.rules.types import HELM_CHART_V4, HELM_RELEASE
from upstream.cilium import CHART, CiliumLine, line_of
from upstream.cilium_chart import (
    CHART_TEMPLATES_RULE,
    RULE_IDS,
    VALUES_SCHEMA_RULE,
    ChartFinding,
    HelmValues,
    check_helm_values,
)

CHART_RESOURCE_TYPES = (HELM_RELEASE, HELM_CHART_V4)
# Rules that read every value of the release, not a few named ones.
WHOLE_VALUES_RULES = frozenset({VALUES_SCHEMA_RULE, CHART_TEMPLATES_RULE})
_CHART_ARCHIVE = re.compile(rf"^{CHART}-(?P<version>\d+\.\d+\.\d+)\.tgz$")

# In a k3s-hcloud stack every Helm value below lives under `cilium.values`; the config validator
# refuses most of them before anything is registered, the pack catches hand-written releases.
IN_THIS_PROJECT = ("In a k3s-hcloud stack, set these under cilium.values in Pulumi.<stack>.yaml; "
                   "for a hand-written release, in its values.")


@dataclass(frozen=True)
class CiliumRelease:
    """One registered Helm release (or v4 Chart) of the Cilium chart."""

    name: str
    urn: str
    version: str
    """Chart version as registered ('' when not pinned)."""
    line: CiliumLine | None
    """The supported line of ``version``; None when it is not pinned to one."""
    props: Mapping[str, Any]

    @property
    def values(self) -> Mapping[str, Any]:
        """The release's values (read on use: a policy that does not need them must not stop
        on an unknown one during preview)."""
        values = self.props.get("values")
        return values if isinstance(values, Mapping) else {}

    @property
    def helm_values(self) -> HelmValues:
        """Values as the chart sees them (only for a supported line)."""
        assert self.line is not None
        return HelmValues(self.values, self.line)

    def findings(self, rules: Iterable[str], pod_cidr: IPv4Network | None = None
                 ) -> list[ChartFinding]:
        if self.line is None:
            return []  # cilium-chart-version-supported reports it
        rules = list(rules)
        whole = [rule for rule in rules if rule in WHOLE_VALUES_RULES]
        named = [rule for rule in rules if rule not in WHOLE_VALUES_RULES]
        found = check_helm_values(self.values, self.version, pod_cidr=pod_cidr, rules=named)
        if whole:
            # These read every value: one unknown in a preview (a generated seed) must not stop
            # them; it is checked when it is known, at `pulumi up`.
            found += check_helm_values(known_part(self.values), self.version, rules=whole)
        return found

    def describe(self, finding: ChartFinding) -> str:
        # A silent finding installs fine, which is why it must be said.
        silent = "(no error at install time) " if finding.effect == "silent" else ""
        return (f"{self.label}, value {finding.path}: {silent}{finding.message} "
                f"Fix: {finding.fix}")

    @property
    def label(self) -> str:
        return f"Helm release '{self.name}' (Cilium {self.version or 'unpinned'})"


def known_part(value: Any) -> Any:
    """The value without the parts that are unknown during a preview."""
    if isinstance(value, Mapping):
        known = {}
        for key in value:
            try:
                item = value[key]
            except UnknownValueError:
                continue
            known[key] = known_part(item)
        return known
    if isinstance(value, Sequence) and not isinstance(value, str):
        items = []
        for index in range(len(value)):
            try:
                items.append(known_part(value[index]))
            except UnknownValueError:
                continue
        return items
    return value


def chart_version_of(chart: str, version: str) -> tuple[bool, str]:
    """Whether ``chart`` is the Cilium chart, and the version it installs."""
    last = chart.rstrip("/").rsplit("/", 1)[-1]
    archive = _CHART_ARCHIVE.match(last)
    if archive:
        return True, archive.group("version")
    # Helm accepts a leading "v" in a version it parses as semver.
    return last == CHART, version.removeprefix("v")


def cilium_release(resource_type: str, props: Mapping[str, Any], name: str,
                   urn: str) -> CiliumRelease | None:
    """The resource as a Cilium release, or None when it installs another chart (or no chart)."""
    if resource_type not in CHART_RESOURCE_TYPES:
        return None
    chart = props.get("chart")
    if not isinstance(chart, str):
        return None
    is_cilium, version = chart_version_of(chart, str(props.get("version") or ""))
    if not is_cilium:
        return None
    return CiliumRelease(name, urn, version, line_of(version), props)


def cilium_releases(resources: Iterable[PolicyResource]) -> list[CiliumRelease]:
    found = (cilium_release(r.resource_type, r.props, r.name, r.urn) for r in resources)
    return [release for release in found if release is not None]


def release_of(args: ResourceValidationArgs) -> CiliumRelease | None:
    return cilium_release(args.resource_type, args.props, args.name, args.urn)


# -- policies that report chart rule findings ------------------------------------------------------
CLAIMED_RULES: dict[str, str] = {}
"""Chart rule id → the policy that reports it (a test checks every rule has exactly one)."""


def chart_rule_policy(name: str, description: str, rules: tuple[str, ...], *,
                      severity: Severity, remediation: str, url: str,
                      enforcement_level: EnforcementLevel = EnforcementLevel.MANDATORY
                      ) -> ResourceValidationPolicy:
    """A policy reporting the findings of some ``upstream.cilium_chart`` rules on every Cilium
    release. It runs only its own rules, so an unknown value during preview only stops the
    policies that read it."""
    for rule in rules:
        if rule not in RULE_IDS:
            raise ValueError(f"{name}: no chart rule {rule}")
        if rule in CLAIMED_RULES:
            raise ValueError(f"{name}: chart rule {rule} is already reported by "
                             f"{CLAIMED_RULES[rule]}")
        CLAIMED_RULES[rule] = name

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        release = release_of(args)
        if release is None:
            return
        for finding in release.findings(rules):
            report(release.describe(finding), None)

    return ResourceValidationPolicy(
        name=name, description=description, validate=validate,
        enforcement_level=enforcement_level, severity=severity,
        remediation_steps=f"{remediation} {IN_THIS_PROJECT}", url=url)
