"""Cilium's Gateway API: the values it needs, and the CRDs it needs before it starts.

The Cilium operator looks for the Gateway API CRDs once, at start-up: CRDs that arrive later
leave Gateway support silently off until the operator restarts, and CRDs of another release
than the one the Cilium line is built against lack (or serve differently) kinds it reads
(https://docs.cilium.io/en/stable/network/servicemesh/gateway-api/gateway-api/). The CRD facts per line are ``upstream.cilium.SUPPORTED_LINES``.
"""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.rules.cilium_release import CiliumRelease, chart_rule_policy, cilium_releases
from policies.rules.gateway_api_crds import CrdInstaller, crd_installers, dependencies_of
from upstream.cilium import SUPPORTED_LINES

_GATEWAY_DOCS = "https://docs.cilium.io/en/stable/network/servicemesh/gateway-api/gateway-api/"

l7_proxy_required = chart_rule_policy(
    "cilium-envoy-features-need-l7-proxy",
    "Gateway API, the Ingress controller and the Envoy L7 load balancer run with l7Proxy on "
    "(the chart refuses to render otherwise).",
    ("l7-proxy-required",), severity=Severity.HIGH,
    remediation="Set l7Proxy: true, or turn gatewayAPI, ingressController and "
                "loadBalancer.l7.backend=envoy off.",
    url=_GATEWAY_DOCS)

needs_kube_proxy_replacement = chart_rule_policy(
    "cilium-gateway-api-needs-kube-proxy-replacement",
    "Gateway API runs with kube-proxy replacement (without it the operator only logs a warning "
    "and Gateway support stays off; 1.18 also accepts nodePort.enabled).",
    ("gateway-needs-kube-proxy-replacement",), severity=Severity.HIGH,
    remediation="Set kubeProxyReplacement: true (k3s: disable-kube-proxy).",
    url=_GATEWAY_DOCS)

traffic_policy_valid = chart_rule_policy(
    "cilium-gateway-api-traffic-policy-valid",
    "gatewayAPI.externalTrafficPolicy is Cluster or Local (the chart refuses other values).",
    ("gateway-traffic-policy",), severity=Severity.MEDIUM,
    remediation="Use Cluster or Local.", url=_GATEWAY_DOCS)

socket_lb_override = chart_rule_policy(
    "cilium-gateway-api-socket-lb-override",
    "socketLB.hostNamespaceOnly: false is not combined with Gateway API on charts that force it "
    "to true (1.20), where it would be silently ignored.",
    ("gateway-overrides-socket-lb",), severity=Severity.LOW,
    remediation="Remove socketLB.hostNamespaceOnly, or turn Gateway API off.", url=_GATEWAY_DOCS)


def _gateway_releases(args: StackValidationArgs) -> list[CiliumRelease]:
    return [release for release in cilium_releases(args.resources)
            if release.line is not None and release.helm_values.on("gatewayAPI.enabled")]


def _crds_installed_first(args: StackValidationArgs, report: ReportViolation) -> None:
    releases = _gateway_releases(args)
    if not releases:
        return
    installers = crd_installers(args.resources)
    by_urn = {r.urn: r for r in args.resources}
    for release in releases:
        assert release.line is not None
        bundle = release.line.gateway_api
        waits_for = dependencies_of(by_urn[release.urn], args.resources)
        before = [i for i in installers if i.resource.urn in waits_for]
        if not before:
            elsewhere = sorted({i.resource.name for i in installers})
            if elsewhere:
                report(f"{release.label} enables Gateway API but does not depend on the resource "
                       f"that installs the Gateway API CRDs ({', '.join(elsewhere)}): Pulumi may "
                       "create both at once, and the Cilium operator, which looks for the CRDs "
                       "only when it starts, leaves Gateway API silently off. Fix: add that "
                       "resource to the release's depends_on.", release.urn)
            else:
                report(f"{release.label} enables Gateway API but nothing in the stack installs "
                       "the Gateway API CRDs, so the Cilium operator leaves Gateway API silently "
                       f"off. Fix: apply {bundle.install_url} (e.g. a kubernetes.yaml.v2."
                       "ConfigFile) and add it to the release's depends_on.", release.urn)
            continue
        missing = [kind for kind, _ in bundle.required_kinds
                   if not any(i.covers(kind) for i in before)]
        if missing:
            report(f"{release.label} enables Gateway API, but the CRDs it depends on lack "
                   f"{', '.join(missing)}, which Cilium {release.line.minor} checks for at "
                   f"start-up; Gateway API stays silently off. Fix: install the whole "
                   f"{bundle.version} {bundle.channel} bundle ({bundle.install_url}) before the "
                   "release.", release.urn)


crds_installed_first = StackValidationPolicy(
    name="cilium-gateway-api-crds-installed-first",
    description="With Gateway API on, the Cilium release depends on a resource that installs "
                "every Gateway API CRD its line needs (the operator only looks at start-up).",
    validate=_crds_installed_first,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps="Apply the upstream Gateway API release manifest of the Cilium line as its "
                      "own resource and list it in the Cilium release's depends_on (k3s-hcloud "
                      "does this when cilium.values.gatewayAPI.enabled is true).",
    url=_GATEWAY_DOCS)


def _crds_match_line(args: StackValidationArgs, report: ReportViolation) -> None:
    releases = _gateway_releases(args)
    if not releases:
        return
    accepted = set(args.get_config().get("acceptedVersions") or [])
    installers = crd_installers(args.resources)
    for release in releases:
        assert release.line is not None
        bundle = release.line.gateway_api
        for installer in installers:
            problem = _mismatch(installer, release, accepted)
            if problem:
                report(f"Gateway API CRDs from '{installer.resource.name}' {problem}, but "
                       f"{release.label} is built against {bundle.version} ({bundle.channel} "
                       f"channel). Fix: install {bundle.install_url}, or list the release you "
                       "verified in acceptedVersions in the pack config.",
                       installer.resource.urn)


def _mismatch(installer: CrdInstaller, release: CiliumRelease, accepted: set[str]) -> str | None:
    assert release.line is not None
    bundle = release.line.gateway_api
    if installer.release is not None:
        if bundle.accepts(installer.release) or installer.release in accepted:
            return None
        return f"are release {installer.release}"
    # No release named: judge by the versions the CRDs serve for the kinds Cilium reads.
    wrong = [f"{kind} {version}" for kind, version in bundle.required_kinds
             if kind in installer.kinds and (kind, version) not in installer.served]
    return f"do not serve {', '.join(wrong)}" if wrong else None


crds_match_line = StackValidationPolicy(
    name="cilium-gateway-api-crds-match-cilium-line",
    description="Gateway API CRDs in the stack are the release the Cilium line is built against "
                "(same minor release), or serve the kind versions it reads.",
    validate=_crds_match_line,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    config_schema=PolicyConfigSchema(properties={
        "acceptedVersions": {"type": "array", "items": {"type": "string"}, "default": [],
                             "description": "Further Gateway API release tags (e.g. v1.4.1) you "
                                            "verified with your Cilium line."}}),
    remediation_steps="Install the Gateway API release of the Cilium line ("
                      + ", ".join(f"Cilium {minor}: {line.gateway_api.version} "
                                  f"{line.gateway_api.channel}"
                                  for minor, line in SUPPORTED_LINES.items())
                      + "); k3s-hcloud picks it from cilium.version.",
    url=_GATEWAY_DOCS)

POLICIES = [l7_proxy_required, needs_kube_proxy_replacement, traffic_policy_valid,
            socket_lb_override, crds_installed_first, crds_match_line]
