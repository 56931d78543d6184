"""Cilium reaches the API through k3s's per-node load balancer (127.0.0.1:6444), never the
loopback 6443 that only servers serve."""

from __future__ import annotations

import pytest

from tests.helpers import config_problems, minimal_config
from stack_config import validate_cluster_spec


def _values(**values: object) -> dict:
    return minimal_config(cilium={"values": values})


def test_the_programs_default_is_the_k3s_load_balancer() -> None:
    values = validate_cluster_spec(minimal_config()).cilium_helm_values
    assert (values["k8sServiceHost"], values["k8sServicePort"]) == ("127.0.0.1", 6444)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_the_loopback_api_server_port_is_refused(host: str) -> None:
    [problem] = config_problems(_values(k8sServiceHost=host, k8sServicePort=6443))
    assert problem.startswith(f"cilium.values.k8sServicePort: 6443 on {host}: on k3s worker "
                              "nodes nothing serves the API there; k3s's per-node API load "
                              "balancer listens on 6444. Fix: remove k8sServiceHost")


def test_another_address_that_serves_the_api_is_accepted() -> None:
    spec = validate_cluster_spec(_values(k8sServiceHost="10.0.1.1", k8sServicePort=6443))
    assert spec.cilium_helm_values["k8sServicePort"] == 6443
