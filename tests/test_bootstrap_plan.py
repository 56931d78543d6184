"""K3sBootstrap under the offline engine: what it registers for the dev-like (1 server + 2 agents,
public), HA (3 servers + private API load balancer, private mode behind a jump host) and
multi-server-without-LB stacks, checked on the recorded resources and their dependency graph."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import shlex
from pathlib import Path

import pytest
import yaml

from components.bootstrap import paths
from components.bootstrap.bootstrap import check_node_order
from components.bootstrap.bundle import decode_file_bundle, digest
from components.handles import NodeHandle
from components.infrastructure.infrastructure import SSH_USER
from tests.program_plans import (
    COMMAND,
    NODE,
    api_url,
    commands,
    depends_on,
    example_plan,
    example_spec,
    longest_chain,
    plan_config,
)
from tests.fake_node import FakeNode
from tests.helpers import EXAMPLE_STACKS, example_config
from stack_config import ConfigError
from tools.lib.engine import Plan, RecordedResource
from tools.lib.machine_files import write_machine_files
from upstream.k3s import API_PORT

STEPS = ("boot", "secrets", "k3s")


def servers(plan: Plan) -> list[str]:
    return [r.name for r in plan.by_type(NODE) if r.inputs["role"] == "server"]


def agents(plan: Plan) -> list[str]:
    return [r.name for r in plan.by_type(NODE) if r.inputs["role"] == "agent"]


def node_names(plan: Plan) -> list[str]:
    """Every node, servers first (the cluster-initialising one first), then the agents."""
    return servers(plan) + agents(plan)


# -- the chain exists for every example stack ----------------------------------------------------

@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_every_node_gets_the_full_bootstrap_chain(stack: str) -> None:
    plan = example_plan(stack)
    cmds = commands(plan)
    names = node_names(plan)
    first, *others = names
    for name in names:
        for step in STEPS:
            assert f"{name}-{step}" in cmds, f"{name} has no {step} step"
    assert f"{first}-membership" not in cmds, "the first server runs the membership commands"
    assert all(f"{name}-membership" in cmds for name in others)
    cluster = first.rsplit("-cp-", 1)[0]
    assert {f"{cluster}-ca-hash", f"{cluster}-kubeconfig"} <= set(cmds)
    # The join tokens (other generated passwords, such as APISIX's admin keys, end in "-key").
    tokens = {r.name for r in plan.by_type("random:index/randomPassword:RandomPassword")
              if r.name.endswith("-token")}
    assert tokens == {f"{cluster}-cluster-token", f"{cluster}-agent-token"}


def test_the_dev_stack_is_one_server_and_two_agents() -> None:
    plan = example_plan("dev")
    assert servers(plan) == ["dev-cp-1"] and agents(plan) == ["dev-workers-1", "dev-workers-2"]


# -- order ------------------------------------------------------------------------------------

def slot_env(command: RecordedResource) -> dict[str, str]:
    """The rollout-slot settings a drain or uncordon command line carries (empty: none)."""
    found: dict[str, str] = {}
    for word in shlex.split(command.inputs["create"]):
        key, _, value = word.partition("=")
        if key in ("LOCK_POOL", "LOCK_SLOTS", "STEP"):
            found.setdefault(key, value) if key != "STEP" else found.setdefault(
                "steps", []).append(value)  # type: ignore[attr-defined]
    return found


def test_servers_roll_one_at_a_time_and_agents_side_by_side() -> None:
    plan = example_plan("private-ha")
    cmds = commands(plan)

    def step(name: str, kind: str):
        return cmds[f"{name}-{kind}"]

    # Each server's drain waits for the previous server to be back (its uncordon).
    for earlier, later in (("prod-cp-1", "prod-cp-2"), ("prod-cp-2", "prod-cp-3")):
        assert step(earlier, "uncordon").urn in step(later, "drain").dependencies, (earlier, later)
    assert not depends_on(plan, step("prod-cp-1", "k3s"), step("prod-cp-2", "k3s"))
    agent_keys = agents(plan)
    assert len(agent_keys) == 5
    for agent in agent_keys:
        # After the first server and the load balancer's route to it, beside the other servers
        # (the drain itself waits until no server runs an older release: no kubelet newer than
        # an API server on an upgrade; tests/test_api_readiness.py) ...
        assert step("prod-cp-1", "uncordon").urn in step(agent, "drain").dependencies, agent
        assert cmds["prod-api-routes"].urn in step(agent, "drain").dependencies, agent
        assert not depends_on(plan, step(agent, "drain"), step("prod-cp-2", "k3s")), agent
        # ... and never after another agent: first installs run in parallel.
        for other in agent_keys:
            if other != agent:
                assert not depends_on(plan, step(agent, "drain"), step(other, "k3s")), \
                    (agent, other)


def test_agents_restart_in_bounded_batches_through_their_pools_slots() -> None:
    cmds = commands(example_plan("private-ha"))
    for agent, pool in (("prod-general-1", "general"), ("prod-arm-2", "arm")):
        assert slot_env(cmds[f"{agent}-drain"]) == {
            "LOCK_POOL": pool, "LOCK_SLOTS": "1", "steps": ["acquire", "expire"]}
        assert slot_env(cmds[f"{agent}-uncordon"]) == {
            "LOCK_POOL": pool, "LOCK_SLOTS": "1", "steps": ["renew", "expire", "release"]}
    # Servers are bounded by the order of the plan; they take no slot.
    for server in ("prod-cp-1", "prod-cp-2", "prod-cp-3"):
        assert slot_env(cmds[f"{server}-drain"]) == {}
        assert slot_env(cmds[f"{server}-uncordon"]) == {}


def test_a_pools_max_unavailable_sets_its_slots(tmp_path: Path) -> None:
    config = example_config("private-ha")
    config["k3s-hcloud:workerPools"][0]["maxUnavailable"] = 2
    cmds = commands(plan_config(tmp_path, config))
    assert {n: slot_env(cmds[f"prod-general-{n}-drain"])["LOCK_SLOTS"] for n in (1, 2, 3)} == {
        1: "2", 2: "2", 3: "2"}
    assert slot_env(cmds["prod-arm-1-drain"])["LOCK_SLOTS"] == "1"


@pytest.mark.parametrize("stack", ["dev", "private-ha"])
def test_each_node_boots_then_stages_secrets_then_applies(stack: str) -> None:
    plan = example_plan(stack)
    cmds = commands(plan)
    cluster = example_spec(stack).cluster_name
    # What the infrastructure says must exist before any node is reached: the subnet, and in
    # private mode the bastion (the jump host) and the egress route (the installer's download).
    prerequisites = {plan.get("hcloud:index/networkSubnet:NetworkSubnet",
                              f"{cluster}-network-subnet").urn}
    if example_spec(stack).network.private_only:
        prerequisites |= {plan.get("hcloud:index/server:Server", f"{cluster}-bastion").urn,
                          plan.by_type("hcloud:index/networkRoute:NetworkRoute")[0].urn}
    for name in node_names(plan):
        boot, secrets, k3s = (cmds[f"{name}-{step}"] for step in STEPS)
        drain, registration = cmds[f"{name}-drain"], cmds[f"{name}-registration"]
        assert boot.urn in secrets.dependencies and secrets.urn in drain.dependencies
        assert secrets.urn in registration.dependencies
        assert {drain.urn, registration.urn} <= set(k3s.dependencies)
        assert k3s.urn in cmds[f"{name}-uncordon"].dependencies
        assert prerequisites <= set(boot.dependencies), "the bootstrap's depends_on is honoured"
        server = plan.get("hcloud:index/server:Server", name)
        assert server.urn in boot.dependencies


def test_sequential_steps_grow_with_servers_never_with_workers(
        tmp_path: Path) -> None:
    def chain(workers: int, batch: int = 1) -> int:
        config = example_config("dev")
        config["k3s-hcloud:workerPools"][0].update(count=workers, maxUnavailable=batch)
        config["k3s-hcloud:workerPools"].append({"name": "more", "count": workers,
                                                  "maxUnavailable": batch})
        return longest_chain(plan_config(tmp_path / f"{workers}-{batch}", config))

    # Pools of any size add nothing, whatever their maxUnavailable: agents are not chained
    # (their restarts are bounded by the pool's rollout slots in the cluster).
    assert chain(1) == chain(12) == chain(12, batch=12) == chain(2, batch=2)
    # With several servers the servers' own chain is the longest: the first server's boot,
    # secrets, registration, k3s and uncordon, then per joining server (cp-2, cp-3) its
    # pre-change etcd snapshot, drain, k3s and uncordon (membership for the last). Agents hang
    # off the first server beside it, so the five of private-ha add nothing.
    servers = [r for r in example_plan("private-ha").by_type(NODE)
               if r.inputs.get("role") == "server"]
    assert len(servers) == 3
    assert longest_chain(example_plan("private-ha")) == 5 + 4 * (len(servers) - 1)


# -- connection ------------------------------------------------------------------------------

def connection(plan: Plan, name: str) -> dict:
    return commands(plan)[name].plain_inputs()["connection"]


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_every_command_pins_host_keys_and_is_sized_for_a_fresh_boot(stack: str) -> None:
    plan = example_plan(stack)
    for name, command in commands(plan).items():
        conn = command.plain_inputs()["connection"]
        assert conn["hostKey"].startswith("ssh-ed25519 ") and not conn["hostKey"].endswith("\n")
        assert (conn["dialErrorLimit"], conn["perDialTimeout"]) == (60, 10), name
        assert conn["privateKey"].startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
        assert command.secret_input_paths()[0] == "connection", "the whole connection is secret"
        assert command.options["customTimeouts"].get("create"), f"{name} has no create timeout"


def test_public_nodes_are_reached_directly_on_their_public_ip() -> None:
    plan = example_plan("dev")
    conn = connection(plan, "dev-workers-1-k3s")
    assert ipaddress.ip_address(conn["host"]) in ipaddress.ip_network("198.18.0.0/15")
    assert "proxy" not in conn
    assert conn["hostKey"].endswith("dev-workers-1-host-key")


def test_private_nodes_are_reached_through_the_pinned_jump_host() -> None:
    plan = example_plan("private-ha")
    conn = connection(plan, "prod-general-2-k3s")
    assert conn["host"] == example_spec("private-ha").address_plan.worker("general", 2)
    assert conn["hostKey"].endswith("prod-general-2-host-key")
    proxy = conn["proxy"]
    assert ipaddress.ip_address(proxy["host"]) in ipaddress.ip_network("198.18.0.0/15")
    assert proxy["hostKey"].endswith("prod-bastion-host-key")
    assert (proxy["dialErrorLimit"], proxy["perDialTimeout"]) == (60, 10)


def test_membership_commands_run_on_the_first_server() -> None:
    plan = example_plan("private-ha")
    first = connection(plan, "prod-cp-1-k3s")
    for name in ("prod-cp-2-membership", "prod-arm-1-membership"):
        assert connection(plan, name)["host"] == first["host"] == \
            example_spec("private-ha").address_plan.control_plane(1)


def test_user_supplied_keys_mean_ssh_agent_auth(tmp_path: Path) -> None:
    config = example_config("dev")
    config["k3s-hcloud:access"]["sshPublicKeys"] = ["ssh-ed25519 AAAAC3Nz me@laptop"]
    plan = plan_config(tmp_path, config)
    for command in commands(plan).values():
        assert "privateKey" not in command.plain_inputs()["connection"]


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_every_script_runs_as_the_images_root_user_without_sudo(stack: str) -> None:
    # Hetzner's images let the injected keys in as root; a script under sudo would need a
    # password-less sudoers entry the images do not have.
    for name, command in commands(example_plan(stack)).items():
        inputs = command.plain_inputs()
        assert inputs["connection"]["user"] == SSH_USER == "root", name
        assert "sudo" not in inputs["create"].split(" bash -c ")[0], name


# -- secrets handling in the commands ----------------------------------------------------------

@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_commands_that_carry_secrets_keep_them_out_of_logs(stack: str) -> None:
    plan = example_plan(stack)
    for name, command in commands(plan).items():
        if name.endswith("-secrets"):
            assert "stdin" in command.secret_input_paths()
            assert command.inputs["logging"] == "stderr"
            assert "stdout" in command.options["additionalSecretOutputs"]
        elif name.endswith("-kubeconfig"):
            assert command.inputs["logging"] == "stderr"
            assert "stdout" in command.options["additionalSecretOutputs"]
        else:
            assert "stdin" not in command.secret_input_paths(), f"{name} stdin must stay readable"


def test_joiners_pin_the_cluster_ca_and_agents_never_get_the_server_token() -> None:
    plan = example_plan("private-ha")
    cmds = commands(plan)

    def staged(name: str) -> dict[str, str]:
        lines = cmds[f"{name}-secrets"].plain_inputs()["stdin"].splitlines()
        return {n: base64.b64decode(v).decode() for n, v in (line.split(" ") for line in lines)}

    first, joiner, agent = staged("prod-cp-1"), staged("prod-cp-2"), staged("prod-general-1")
    ca = hashlib.sha256(b"mock server-ca prod-ca-hash").hexdigest()
    assert set(first) == set(joiner) == {"cluster-token", "agent-token"}
    assert joiner["cluster-token"] == f"K10{ca}::server:{first['cluster-token']}"
    assert joiner["agent-token"] == first["agent-token"], "agent-token must match on all servers"
    assert set(agent) == {"agent-token"}
    assert agent["agent-token"] == f"K10{ca}::node:{first['agent-token']}"
    assert first["cluster-token"] != first["agent-token"]


def test_an_external_datastore_goes_to_a_secret_drop_in(tmp_path: Path) -> None:
    config = example_config("dev")
    config["k3s-hcloud:controlPlane"]["count"] = 2
    # Set --secret (a password in plain text is refused); decrypted here as the CLI would.
    config["k3s-hcloud:k3s"] = {"datastoreEndpoint": {"secure": "v1:stand-in"}}

    def reveal(values: dict[str, str]) -> None:
        values["k3s-hcloud:k3s"] = json.dumps(
            {"datastoreEndpoint": "postgres://k3s:pw@db.internal/k3s"})

    plan = plan_config(tmp_path, config, reveal=reveal)
    cmds = commands(plan)
    bundle = decode_file_bundle(cmds["dev-cp-2-k3s"].plain_inputs()["stdin"])
    assert bundle[paths.DATASTORE_DROPIN].staged_name == "datastore.yaml"
    assert "datastore-endpoint" not in yaml.safe_load(bundle[paths.CONFIG_FILE].content)
    secret_stdin = cmds["dev-cp-2-secrets"].plain_inputs()["stdin"]
    entries = dict(line.split(" ") for line in secret_stdin.splitlines())
    assert yaml.safe_load(base64.b64decode(entries["datastore.yaml"])) == {
        "datastore-endpoint": "postgres://k3s:pw@db.internal/k3s"}
    assert not base64.b64decode(entries["cluster-token"]).startswith(b"K10"), \
        "servers on a datastore do not join through a supervisor"


# -- what the plan shows of each node -----------------------------------------------------------

@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_node_props_match_what_the_command_sends(stack: str) -> None:
    plan = example_plan(stack)
    cmds = commands(plan)
    # The stack's pin (private-ha pins one), else the program's default release.
    wanted = example_config(stack).get("k3s-hcloud:k3s", {}).get("version", "v1.36.5+k3s1")
    for node in plan.by_type(NODE):
        k3s = cmds[f"{node.name}-k3s"].plain_inputs()
        bundle = decode_file_bundle(k3s["stdin"])
        assert node.inputs["configYaml"] == bundle[paths.CONFIG_FILE].content
        registration = cmds[f"{node.name}-registration"].plain_inputs()["stdin"]
        assert node.inputs["registrationYaml"] == registration
        # config.yaml plus the registration drop-in are what k3s reads, nothing else.
        assert {**yaml.safe_load(node.inputs["configYaml"]),
                **yaml.safe_load(registration)} == node.inputs["k3sConfig"]
        assert node.inputs["registriesYaml"] == bundle[paths.REGISTRIES_FILE].content
        assert node.inputs["k3sVersion"] == wanted
        assert f"K3S_VERSION={node.inputs['k3sVersion']} " in k3s["create"]
        assert k3s["triggers"][:2] == [digest(k3s["stdin"]), node.inputs["k3sVersion"]]
        assert node.secret_input_paths() == [], "a node's props never carry secrets"


def test_tls_sans_hold_the_api_endpoint_and_only_the_servers_own_addresses() -> None:
    plan = example_plan("private-ha")
    for name in servers(plan):
        node = plan.get(NODE, name)
        assert node.inputs["k3sConfig"]["tls-san"] == [
            example_spec("private-ha").address_plan.api_load_balancer,
            node.inputs["k3sConfig"]["node-ip"]]


def test_joiners_register_through_the_load_balancer_when_there_is_one() -> None:
    ha, web = example_plan("private-ha"), example_plan("gateway")
    assert ha.get(NODE, "prod-general-1").inputs["k3sConfig"]["server"] == \
        api_url(example_spec("private-ha").address_plan.api_load_balancer)
    assert web.get(NODE, "web-cp-2").inputs["k3sConfig"]["server"] == \
        api_url(example_spec("gateway").address_plan.control_plane(1))


# -- kubeconfig -----------------------------------------------------------------------------

def kubeconfig(plan: Plan) -> dict:
    output = plan.outputs["kubeconfig"]
    assert output.secret, "the kubeconfig output must be secret"
    return yaml.safe_load(output.value)


def test_with_an_api_load_balancer_the_kubeconfig_points_at_it() -> None:
    document = kubeconfig(example_plan("private-ha"))
    assert [c["cluster"]["server"] for c in document["clusters"]] == [
        api_url(example_spec("private-ha").address_plan.api_load_balancer)]
    assert document["current-context"] == "prod"
    assert document["users"][0]["user"]["client-key-data"]


def test_a_private_lb_before_public_servers_keeps_the_per_server_contexts(tmp_path: Path) -> None:
    # The LB serves joiners on the private network; pointing the kubeconfig at its private
    # address would cut off users and the Kubernetes provider that reach the servers publicly.
    config = example_config("gateway")
    config["k3s-hcloud:controlPlane"]["loadBalancer"] = {"enabled": True}
    plan = plan_config(tmp_path, config, stack="gateway")
    document = kubeconfig(plan)
    assert [c["name"] for c in document["contexts"]] == ["web-cp-1", "web-cp-2", "web-cp-3"]
    assert plan.get(NODE, "web-web-1").inputs["k3sConfig"]["server"] == \
        api_url(example_spec("gateway").address_plan.api_load_balancer)
    config["k3s-hcloud:controlPlane"]["loadBalancer"]["publicInterface"] = True
    public = kubeconfig(plan_config(tmp_path / "public", config, stack="gateway"))
    assert [c["name"] for c in public["contexts"]] == ["web"]


def test_without_a_load_balancer_each_server_gets_a_context() -> None:
    document = kubeconfig(example_plan("gateway"))
    assert [c["name"] for c in document["contexts"]] == ["web-cp-1", "web-cp-2", "web-cp-3"]
    assert document["current-context"] == "web-cp-1"
    for cluster in document["clusters"]:
        host = cluster["cluster"]["server"].removeprefix("https://").removesuffix(f":{API_PORT}")
        assert ipaddress.ip_address(host) in ipaddress.ip_network("198.18.0.0/15")


def test_the_kubeconfig_is_re_read_when_the_first_server_restarts() -> None:
    plan = example_plan("dev")
    cmds = commands(plan)
    reader = cmds["dev-kubeconfig"].plain_inputs()
    first = cmds["dev-cp-1-k3s"].plain_inputs()
    assert reader["triggers"] == first["triggers"][:2]


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_the_kubernetes_layer_waits_for_the_servers_its_connection_can_reach(stack: str) -> None:
    # Through the API load balancer (one context named after the cluster) or a tunnel, any
    # server may answer: the layer waits for every server's join. Talking to the first server
    # alone, it waits for that server only; workers never hold it up.
    plan = example_plan(stack)
    spec = example_spec(stack)
    [provider] = plan.by_type("pulumi:providers:kubernetes")
    contexts = [c["name"] for c in kubeconfig(plan)["contexts"]]
    every_server = contexts == [spec.cluster_name] or spec.access.kubernetes_api_server is not None
    first, *others = servers(plan)
    joins = {name: {r.urn for r in plan.by_type(COMMAND)
                    if r.name in (f"{name}-uncordon", f"{name}-membership")}
             for name in servers(plan)}
    waited = set(provider.dependencies)
    assert commands(plan)[f"{spec.cluster_name}-kubeconfig"].urn in waited
    assert joins[first] <= waited
    for name in others:
        assert (joins[name] <= waited) is every_server and bool(joins[name] & waited) is \
            every_server, name
    waits_for_workers = [name for name in agents(plan) if any(
        urn.rsplit("::", 1)[1].startswith(f"{name}-") for urn in provider.dependencies)]
    assert waits_for_workers == []


# -- day 2 ---------------------------------------------------------------------------------

def _inputs_by_urn(plan: Plan) -> dict[str, dict]:
    return {r.urn: r.plain_inputs() for r in plan.resources}


@pytest.mark.parametrize(("key", "count"), [("workerPools", 3), ("controlPlane", 5)])
def test_adding_a_node_changes_nothing_that_exists(tmp_path: Path, key: str, count: int) -> None:
    config = example_config("private-ha")
    before = plan_config(tmp_path / "before", config)
    if key == "workerPools":
        config["k3s-hcloud:workerPools"][0]["count"] += 1
    else:
        config["k3s-hcloud:controlPlane"]["count"] = count
    after = plan_config(tmp_path / "after", config)
    old, new = _inputs_by_urn(before), _inputs_by_urn(after)
    changed = sorted(urn.rsplit("::", 1)[1] for urn in old if new.get(urn) != old[urn])
    # A new etcd member is preceded by a snapshot of the cluster (it re-runs; nothing else does).
    others = list(changed)
    if key == "controlPlane":
        assert len(others) == 1 and others.pop().endswith("-etcd-snapshot-members")
    assert others == []
    assert not [name for name in changed if name.endswith(("-k3s", "-secrets", "-membership"))]
    assert set(old) < set(new)


def test_removing_a_worker_removes_only_its_own_resources(tmp_path: Path) -> None:
    config = example_config("dev")
    config["k3s-hcloud:workerPools"][0]["count"] = 3
    three = plan_config(tmp_path / "three", config, stack="dev")
    two = example_plan("dev")
    gone = sorted(r.name for r in three.resources if r.urn not in two.by_urn())
    assert gone == sorted(["dev-workers-3", "dev-workers-3", "dev-workers-3-host-key",
                           *(f"dev-workers-3-{step}" for step in (
                               "boot", "pod-route", "secrets", "registration", "servers-at", "drain", "k3s",
                               "uncordon", "membership", "node-metadata"))])
    assert _inputs_by_urn(two).items() <= _inputs_by_urn(three).items()


def test_removing_a_node_drains_it_before_its_server_is_destroyed() -> None:
    plan = example_plan("dev")
    membership = commands(plan)["dev-workers-2-membership"]
    server = plan.get("hcloud:index/server:Server", "dev-workers-2")
    # Pulumi deletes dependents first: the drain runs while the server still exists.
    assert server.urn in membership.dependencies
    delete = membership.plain_inputs()["delete"]
    assert delete.startswith("env NODE_NAME=dev-workers-2 DRAIN_TIMEOUT=300s bash -c ")
    assert delete.endswith(" remove-node.sh")
    assert "triggers" not in membership.inputs, "a replaced membership would drain a live node"
    first_server = plan.get("hcloud:index/server:Server", "dev-cp-1")
    assert depends_on(plan, membership, first_server), "the first server outlives every drain"


def test_server_memberships_are_removed_one_at_a_time() -> None:
    plan = example_plan("private-ha")
    cmds = commands(plan)
    assert cmds["prod-cp-2-membership"].urn in cmds["prod-cp-3-membership"].dependencies


def test_only_membership_commands_have_a_delete_step() -> None:
    for stack in EXAMPLE_STACKS:
        for name, command in commands(example_plan(stack)).items():
            assert ("delete" in command.inputs) == name.endswith("-membership"), name


# -- the recorded commands work with the scripts ---------------------------------------------

def test_the_recorded_commands_bootstrap_a_fake_node(tmp_path: Path) -> None:
    """Run dev-cp-1's recorded secrets and k3s commands (command line + stdin) on a fake node."""
    plan = example_plan("dev")
    cmds = commands(plan)
    node = FakeNode.create(tmp_path)
    # The fake node serves its fake install script, not upstream's: the command's pinned digest
    # is swapped for the fake script's (a wrong digest is refused: tests/test_k3s_installer_node).
    pinned = f"INSTALL_SCRIPT_SHA256={plan.get(NODE, 'dev-cp-1').inputs['installerSha256']} "
    for step in ("boot", "secrets", "k3s"):
        inputs = cmds[f"dev-cp-1-{step}"].plain_inputs()
        create = inputs["create"]
        if step == "k3s":
            assert pinned in create
            create = create.replace(pinned, f"INSTALL_SCRIPT_SHA256={node.installer_sha256()} ")
        result = node.run_command_line(create, inputs.get("stdin", ""),
                                       HEALTH_INTERVAL="0", BOOT_WAIT_INTERVAL="0")
        assert result.returncode == 0, f"{step}: {result.stderr}"
    config = yaml.safe_load(node.file(paths.CONFIG_FILE).read_text())
    assert config == plan.get(NODE, "dev-cp-1").inputs["k3sConfig"]
    token = node.file(paths.CLUSTER_TOKEN_FILE).read_text()
    assert len(token) == 64 and token.isalnum()
    again = cmds["dev-cp-1-k3s"].plain_inputs()
    result = node.run_command_line(again["create"], again["stdin"])
    assert result.stdout.startswith("unchanged:")


def test_the_bootstrap_refuses_nodes_in_the_wrong_order() -> None:
    def handle(key: str, role: str) -> NodeHandle:
        return NodeHandle(key=key, role=role, pool="p", private_ip="10.0.0.2", public_ipv4=None,
                          host_public_key=None, server=None)  # type: ignore[arg-type]

    with pytest.raises(ValueError, match="servers first"):
        check_node_order([handle("a-1", "agent"), handle("cp-1", "server")])
    with pytest.raises(ValueError, match="every server before the first agent"):
        check_node_order([handle("cp-1", "server"), handle("a-1", "agent"),
                          handle("cp-2", "server")])
    with pytest.raises(ValueError, match="unique"):
        check_node_order([handle("cp-1", "server"), handle("cp-1", "server")])


# -- machine files ----------------------------------------------------------------------------

def test_plan_out_writes_each_nodes_k3s_files(tmp_path: Path) -> None:
    plan = example_plan("private-ha")
    written = {p.relative_to(tmp_path).as_posix() for p in write_machine_files(plan, tmp_path)}
    for name in node_names(plan):
        assert {f"k3s/{name}/config.yaml", f"k3s/{name}/registries.yaml"} <= written
        config = yaml.safe_load((tmp_path / "k3s" / name / "config.yaml").read_text())
        registration = yaml.safe_load(
            (tmp_path / "k3s" / name / "config.yaml.d" / "40-registration.yaml").read_text())
        assert {**config, **registration} == plan.get(NODE, name).inputs["k3sConfig"]
    registries = yaml.safe_load((tmp_path / "k3s/prod-arm-1/registries.yaml").read_text())
    assert set(registries["mirrors"]) == {"docker.io", "ghcr.io", "quay.io", "registry.k8s.io"}
    assert "SKIPPED-SECRETS.txt" not in written


def test_an_embedded_registry_on_a_k3s_without_it_is_refused_before_any_resource(
        tmp_path: Path) -> None:
    config = example_config("private-ha")
    config["k3s-hcloud:k3s"]["version"] = "v1.26.4+k3s1"
    config["k3s-hcloud:cilium"]["allowUntestedKubernetes"] = True
    with pytest.raises(ConfigError) as caught:
        plan_config(tmp_path, config)
    [problem] = caught.value.problems
    assert problem.key == "k3s.embeddedRegistryMirror.enabled"
    assert "v1.26.13+k3s1, v1.27.10+k3s1, v1.28.6+k3s1, v1.29.1+k3s1" in problem.message
