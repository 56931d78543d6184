"""The offline engine records what a program registers: parents, dependencies, options, secrets.

A tiny program of known shape is run through the same engine as the real one, so these tests
can tell a recording bug from a program bug.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.lib.engine import SECRET_MASK, Plan, run_program
from tools.lib.stack_files import StackConfig

PROGRAM = '''
import pulumi
import pulumi_random as random
import pulumi_hcloud as hcloud

class Box(pulumi.ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("test:index:Box", name, {"size": 2}, opts)
        self.net = hcloud.Network(f"{name}-net", ip_range="10.0.0.0/16",
                                  opts=pulumi.ResourceOptions(parent=self, protect=True))
        self.password = random.RandomPassword(f"{name}-pw", length=16,
                                              opts=pulumi.ResourceOptions(parent=self))
        self.server = hcloud.Server(
            f"{name}-server", server_type="cx23", image="ubuntu-24.04",
            user_data=pulumi.Output.secret("#cloud-config\\n"),
            labels={"net": self.net.id},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.password],
                                        ignore_changes=["userData"],
                                        replace_on_changes=["image"],
                                        delete_before_replace=True,
                                        custom_timeouts=pulumi.CustomTimeouts(create="7m")))
        self.register_outputs({})

box = Box("b")
pulumi.log.warn("something to look at")
pulumi.export("password", box.password.result)
pulumi.export("ip", box.server.ipv4_address)
pulumi.export("secretWrapped", pulumi.Output.secret("shh"))
'''


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    project = tmp_path_factory.mktemp("program")
    (project / "__main__.py").write_text(PROGRAM)
    return run_program(project, StackConfig(stack="s", project="p"))


def test_components_and_children_are_recorded_with_parents(plan: Plan) -> None:
    box = plan.get("test:index:Box", "b")
    assert not box.custom and box.parent is None
    assert box.inputs == {"size": 2}
    server = plan.get("hcloud:index/server:Server", "b-server")
    assert server.custom and server.parent == box.urn


def test_dependencies_include_depends_on_and_property_dependencies(plan: Plan) -> None:
    server = plan.get("hcloud:index/server:Server", "b-server")
    password = plan.get("random:index/randomPassword:RandomPassword", "b-pw")
    network = plan.get("hcloud:index/network:Network", "b-net")
    assert password.urn in server.dependencies
    assert network.urn in server.dependencies
    assert server.property_dependencies["labels"] == [network.urn]


def test_resource_options_are_recorded(plan: Plan) -> None:
    server = plan.get("hcloud:index/server:Server", "b-server")
    assert server.options["ignoreChanges"] == ["userData"]
    assert server.options["replaceOnChanges"] == ["image"]
    assert server.options["deleteBeforeReplace"] is True
    assert server.options["customTimeouts"] == {"create": "7m"}
    assert plan.get("hcloud:index/network:Network", "b-net").options["protect"] is True


def test_secret_inputs_are_marked_and_masked(plan: Plan) -> None:
    server = plan.get("hcloud:index/server:Server", "b-server")
    assert server.secret_input_paths() == ["userData"]
    assert server.masked_inputs()["userData"] == SECRET_MASK
    assert server.plain_inputs()["userData"] == "#cloud-config\n"


def test_mock_outputs_are_deterministic_and_recognisable(plan: Plan) -> None:
    network = plan.get("hcloud:index/network:Network", "b-net")
    server = plan.get("hcloud:index/server:Server", "b-server")
    net_id = server.inputs["labels"]["net"]
    assert net_id.isdigit(), "hcloud ids are numeric, as the provider's integer inputs need"
    assert plan.outputs["ip"].value.startswith("198.1"), "public IPs come from 198.18.0.0/15"
    assert network.type == "hcloud:index/network:Network"


def test_outputs_keep_their_secrecy(plan: Plan) -> None:
    assert plan.outputs["password"].secret
    assert plan.outputs["secretWrapped"].secret and plan.outputs["secretWrapped"].value == "shh"
    assert not plan.outputs["ip"].secret


def test_program_logs_are_captured(plan: Plan) -> None:
    assert ("warning", "something to look at") in plan.logs
    assert plan.warnings() == ["something to look at"]


def test_two_runs_in_one_process_are_independent(tmp_path: Path, plan: Plan) -> None:
    (tmp_path / "__main__.py").write_text(PROGRAM)
    again = run_program(tmp_path, StackConfig(stack="s", project="p"))
    assert [r.urn for r in again.resources] == [r.urn for r in plan.resources]
    assert again.outputs["ip"].value == plan.outputs["ip"].value


DUPLICATE_PROGRAM = '''
import pulumi_random as random
random.RandomPassword("same", length=8)
random.RandomPassword("same", length=9)
'''


def test_a_urn_registered_twice_is_refused_as_the_engine_refuses_it(tmp_path: Path) -> None:
    (tmp_path / "__main__.py").write_text(DUPLICATE_PROGRAM)
    with pytest.raises(Exception, match=r"Duplicate resource URN 'urn:pulumi:s::p::"
                                        r"random:index/randomPassword:RandomPassword::same'"):
        run_program(tmp_path, StackConfig(stack="s", project="p"))
