"""The routes to the pod ranges via the network gateway (``scripts/pod-route.sh``): run for real
on a fake node, wired into every node's bootstrap before k3s, and into the autoscaler's nodes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from components.bootstrap import pod_routes
from components.bootstrap.join_user_data import APPLY_SCRIPT, POD_ROUTE_SCRIPT, join_user_data
from components.bootstrap.remote_script import SCRIPTS_DIR
from tests.fake_node import FakeNode
from tests.helpers import EXAMPLE_STACKS
from tests.program_plans import NODE, commands, depends_on, example_plan, example_spec
from tests.test_autoscaler_join_data import JOIN, TOKEN, spec

UNIT = "/etc/systemd/system/k3s-hcloud-pod-route.service"
ENV = {"POD_ROUTES": "10.42.0.0/16 10.52.0.0/16", "NETWORK_GATEWAY": "10.0.0.1",
       "ROUTE_ATTEMPTS": "3", "ROUTE_RETRY_SECONDS": "0"}

# ip: `route get <gateway>` answers through the private interface enp7s0 (unless the test says
# DHCP has not configured it yet); `route replace` keeps one route per destination, as the kernel.
IP_STUB = r'''echo "${0##*/} $*" >>"$STUB_STATE/calls.log"
case "$*" in
  "-4 route get "*)
    [[ ! -f "$STUB_STATE/no-gateway" ]] || { echo "Network is unreachable" >&2; exit 2; }
    echo "$4 dev enp7s0 src 10.0.1.5 uid 0" ;;
  "-4 route replace "*)
    touch "$STUB_STATE/routes"
    grep -v "^$4 " "$STUB_STATE/routes" >"$STUB_STATE/routes.new" || true
    echo "${*:4}" >>"$STUB_STATE/routes.new"
    sort "$STUB_STATE/routes.new" >"$STUB_STATE/routes" ;;
  *) echo "unexpected ip $*" >&2; exit 2 ;;
esac
'''


@pytest.fixture
def node(tmp_path: Path) -> FakeNode:
    fake = FakeNode.create(tmp_path)
    fake.stub("ip", IP_STUB)
    return fake


def routes(node: FakeNode) -> list[str]:
    return (node.state / "routes").read_text().splitlines()


def test_routes_every_pod_range_via_the_gateway_on_the_private_interface(node: FakeNode) -> None:
    result = node.run_script(pod_routes.SCRIPT, **ENV)
    assert result.returncode == 0, result.stderr
    assert routes(node) == ["10.42.0.0/16 via 10.0.0.1 dev enp7s0",
                            "10.52.0.0/16 via 10.0.0.1 dev enp7s0"]


def test_a_second_run_changes_nothing(node: FakeNode) -> None:
    assert node.run_script(pod_routes.SCRIPT, **ENV).returncode == 0
    first, unit = routes(node), node.file(UNIT).read_text()
    assert node.run_script(pod_routes.SCRIPT, **ENV).returncode == 0
    assert routes(node) == first and node.file(UNIT).read_text() == unit


def test_the_boot_unit_is_written_and_enabled(node: FakeNode) -> None:
    assert node.run_script(pod_routes.SCRIPT, **ENV).returncode == 0
    unit = node.file(UNIT).read_text()
    assert [line for line in unit.splitlines() if line.startswith("ExecStart=")] == [
        "ExecStart=/sbin/ip -4 route replace 10.42.0.0/16 via 10.0.0.1",
        "ExecStart=/sbin/ip -4 route replace 10.52.0.0/16 via 10.0.0.1"]
    assert "Restart=on-failure" in unit and "WantedBy=multi-user.target" in unit
    assert "systemctl enable k3s-hcloud-pod-route.service" in node.calls()


def test_fails_loudly_when_the_gateway_is_unreachable(node: FakeNode) -> None:
    node.flag("no-gateway")
    result = node.run_script(pod_routes.SCRIPT, **ENV)
    assert result.returncode == 1
    assert "no route to the network gateway 10.0.0.1" in result.stderr
    assert not (node.state / "routes").exists()


# -- the plan --------------------------------------------------------------------------------------

@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_every_node_routes_its_pods_before_k3s(stack: str) -> None:
    plan, model = example_plan(stack), example_spec(stack)
    by_name = commands(plan)
    keys = [r.name for r in plan.by_type(NODE)]
    assert keys
    for key in keys:
        route, k3s = by_name[f"{key}-pod-route"], by_name[f"{key}-k3s"]
        assert depends_on(plan, k3s, route), key
        assert depends_on(plan, route, by_name[f"{key}-boot"]), key
        create = route.plain_inputs()["create"]
        assert f"POD_ROUTES={model.k3s.cluster_cidr}" in create
        assert f"NETWORK_GATEWAY={model.address_plan.gateway}" in create
        assert route.plain_inputs()["triggers"] == [str(model.k3s.cluster_cidr),
                                                    model.address_plan.gateway]
        # A change of the routes must never re-run the rollout: k3s's inputs do not name them.
        assert "POD_ROUTES" not in str(k3s.plain_inputs())


# -- the autoscaler's nodes ------------------------------------------------------------------------

def test_autoscaled_nodes_install_the_same_routes_before_k3s() -> None:
    model = spec()
    data = yaml.safe_load(join_user_data(model, model.worker_pools[0], join_url=JOIN,
                                         agent_token=TOKEN, egress=None))
    files = {f["path"]: f for f in data["write_files"]}
    assert files[POD_ROUTE_SCRIPT]["content"] == (SCRIPTS_DIR / pod_routes.SCRIPT).read_text()
    runcmd = data["runcmd"]
    [route] = [i for i, cmd in enumerate(runcmd) if POD_ROUTE_SCRIPT in cmd]
    [apply] = [i for i, cmd in enumerate(runcmd) if APPLY_SCRIPT in cmd]
    assert route < apply
    assert runcmd[route] == ["env", "POD_ROUTES=10.42.0.0/16", "NETWORK_GATEWAY=10.0.0.1",
                             "bash", POD_ROUTE_SCRIPT]
