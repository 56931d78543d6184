"""Which registered resources install Gateway API CRDs, which kinds, and from which release.

Recognised, whoever wrote them:
- ``yaml/v2`` ConfigFile ``file`` / ConfigGroup ``files`` naming an upstream release asset
  (``.../gateway-api/releases/download/<tag>/<channel>-install.yaml``): the whole bundle;
- ``yaml/v2`` ConfigGroup ``objs`` or ``yaml`` holding CustomResourceDefinitions, and
  ``apiextensions.k8s.io/v1`` CustomResourceDefinition resources (also what the v1 ``yaml``
  components register as children): the kinds they define, the versions they serve, and the
  release from the bundle-version annotation upstream puts on every CRD.
A local manifest file is not read (the policy runs where the program's files are not), so such a
file is not recognised: apply the release asset, or register the CRDs as objects.

CRD objects that are children of a yaml component count as one installer, that component: what
`pulumi preview` shows a stack policy of a ``yaml/v2.ConfigFile`` is its outputs (no ``file``)
and the objects it registered as children, and a finding should name what the user wrote.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from pulumi_policy import PolicyResource

from policies.rules.types import (
    CUSTOM_RESOURCE_DEFINITION,
    YAML_CONFIG_FILE,
    YAML_CONFIG_GROUP,
    YAML_V1_CONFIG_FILE,
    YAML_V1_CONFIG_GROUP,
)
from upstream.cilium import (
    GATEWAY_API_BUNDLE_VERSION_ANNOTATION,
    GATEWAY_API_GROUP,
    GATEWAY_API_RELEASE_ASSET,
)

# A CRD bundle is megabytes of YAML: use libyaml's safe loader where it is built in.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class CrdInstaller:
    resource: PolicyResource
    release: str | None
    """Gateway API release tag (``v1.6.0``), when the resource says which."""
    whole_bundle: bool
    """A release asset: every kind of its channel."""
    served: frozenset[tuple[str, str]]
    """(kind, version) pairs the CRD objects serve (empty for a release asset)."""

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(kind for kind, _ in self.served)

    def covers(self, kind: str) -> bool:
        return self.whole_bundle or kind in self.kinds


_YAML_COMPONENTS = (YAML_CONFIG_FILE, YAML_CONFIG_GROUP, YAML_V1_CONFIG_FILE, YAML_V1_CONFIG_GROUP)


def crd_installers(resources: Iterable[PolicyResource]) -> list[CrdInstaller]:
    installers: list[CrdInstaller] = []
    by_component: dict[tuple[str, str | None], CrdInstaller] = {}
    for resource in resources:
        for installer in _installers(resource):
            parent = resource.parent
            if installer.whole_bundle or parent is None or \
                    parent.resource_type not in _YAML_COMPONENTS:
                installers.append(installer)
                continue
            key = (parent.urn, installer.release)
            known = by_component.get(key)
            served = installer.served | (known.served if known else frozenset())
            by_component[key] = CrdInstaller(parent, installer.release, False, served)
    return installers + list(by_component.values())


def _installers(resource: PolicyResource) -> Iterator[CrdInstaller]:
    props = resource.props
    if resource.resource_type == YAML_CONFIG_FILE:
        yield from _release_assets(resource, [props.get("file")])
    elif resource.resource_type == YAML_CONFIG_GROUP:
        yield from _release_assets(resource, props.get("files") or [])
        documents = list(props.get("objs") or []) + _yaml_documents(props.get("yaml"))
        crds = [d for d in documents if isinstance(d, Mapping)
                and d.get("kind") == "CustomResourceDefinition"]
        yield from _crd_objects(resource, crds)
    elif resource.resource_type == CUSTOM_RESOURCE_DEFINITION:
        yield from _crd_objects(resource, [props])


def _release_assets(resource: PolicyResource, files: Iterable[Any]) -> Iterator[CrdInstaller]:
    for file in files:
        match = GATEWAY_API_RELEASE_ASSET.search(file) if isinstance(file, str) else None
        if match:
            yield CrdInstaller(resource, match.group("tag"), True, frozenset())


def _yaml_documents(text: Any) -> list[Any]:
    if not isinstance(text, str):
        return []
    try:
        return list(yaml.load_all(text, Loader=_SAFE_LOADER))
    except yaml.YAMLError:
        return []  # the provider reports a broken manifest itself


def _crd_objects(resource: PolicyResource, crds: Sequence[Mapping[str, Any]]
                 ) -> Iterator[CrdInstaller]:
    served: set[tuple[str, str]] = set()
    releases: set[str] = set()
    for crd in crds:
        spec = crd.get("spec") or {}
        if spec.get("group") != GATEWAY_API_GROUP:
            continue
        kind = (spec.get("names") or {}).get("kind")
        served |= {(kind, v.get("name")) for v in spec.get("versions") or [] if v.get("served")}
        annotations = (crd.get("metadata") or {}).get("annotations") or {}
        if annotations.get(GATEWAY_API_BUNDLE_VERSION_ANNOTATION):
            releases.add(str(annotations[GATEWAY_API_BUNDLE_VERSION_ANNOTATION]))
    if served:
        # CRDs of one resource come from one bundle; mixed bundles are reported as each release.
        for release in sorted(releases) or [None]:
            yield CrdInstaller(resource, release, False, frozenset(served))


def dependencies_of(resource: PolicyResource, everything: Iterable[PolicyResource]
                    ) -> set[str]:
    """URNs the resource waits for: its dependencies, theirs (transitively), and the children
    of a component it depends on (a component is done when its children are)."""
    children: dict[str, list[PolicyResource]] = {}
    for candidate in everything:
        if candidate.parent is not None:
            children.setdefault(candidate.parent.urn, []).append(candidate)
    seen: set[str] = set()
    pending = list(resource.dependencies)
    while pending:
        current = pending.pop()
        if current.urn in seen:
            continue
        seen.add(current.urn)
        pending += current.dependencies
        pending += children.get(current.urn, [])
    return seen
