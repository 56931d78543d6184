"""apisix-admin-api-inside-cluster / apisix-admin-key-not-the-published-default: the program's
own release passes; each exposure, and the chart's published keys, are reported."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.kubernetes import apisix_manifests
from policies.rules.apisix import admin_api_inside_cluster, admin_key_not_published
from policies.rules.types import HELM_RELEASE
from stack_config import validate_cluster_spec
from tests.policy_fixtures import check_resource
from upstream import apisix


def program_values() -> dict[str, Any]:
    return apisix_manifests.helm_values(validate_cluster_spec({
        "clusterName": "dev", "addons": {"apisix": {"enabled": True}}}))


def release(values: dict[str, Any], chart: str = "apisix") -> dict[str, Any]:
    return {"chart": chart, "version": apisix.CHART_VERSION, "values": values}


def test_the_programs_release_passes_both() -> None:
    props = release(program_values())
    assert check_resource(admin_api_inside_cluster, HELM_RELEASE, props) == []
    assert check_resource(admin_key_not_published, HELM_RELEASE, props) == []


@pytest.mark.parametrize("change, words", [
    ({"type": "LoadBalancer"}, "apisix.admin.type is LoadBalancer"),
    ({"type": "NodePort"}, "apisix.admin.type is NodePort"),
    ({"externalIPs": ["203.0.113.9"]}, "apisix.admin.externalIPs is set"),
    ({"ingress": {"enabled": True}}, "apisix.admin.ingress.enabled is true"),
])
def test_every_way_out_of_the_cluster_is_reported(change: dict[str, Any], words: str) -> None:
    values = copy.deepcopy(program_values())
    values["apisix"]["admin"].update(change)
    [message] = check_resource(admin_api_inside_cluster, HELM_RELEASE, release(values), "edge")
    assert message.startswith("APISIX release 'edge' exposes its admin API") and words in message


def test_the_charts_published_keys_are_reported_and_other_charts_ignored() -> None:
    # The chart's defaults: no credentials set at all.
    [message] = check_resource(admin_key_not_published, HELM_RELEASE, release({}), "edge")
    assert "published in the chart's values.yaml" in message
    values = {"apisix": {"admin": {"credentials": {"admin": "x" * 32, "viewer": "y" * 32}}}}
    assert check_resource(admin_key_not_published, HELM_RELEASE, release(values)) == []
    exposed = {"apisix": {"admin": {"type": "LoadBalancer"}}}
    assert check_resource(admin_api_inside_cluster, HELM_RELEASE,
                          release(exposed, chart="cilium")) == []
