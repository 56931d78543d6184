"""Replacement rules come from the providers, for every provider resource type the program uses."""

from __future__ import annotations

import json

import pytest

from tests.helpers import EXAMPLE_STACKS, GIT_MIRROR_DIR
from tests.program_plans import example_plan
from tools import provider_replacements
from tools.lib.replacement_rules import REPLACEMENT_TABLE, provider_replacements as table

# Resources whose replacement the Kubernetes provider decides at run time (not in any schema):
# the diff handles the provider itself (tools.replacement_rules.kubernetes_provider_rule).
DECIDED_AT_RUN_TIME = ("kubernetes:", "pulumi:providers:")


def test_the_committed_table_is_what_the_providers_say() -> None:
    for package in provider_replacements.PACKAGES:
        if not (GIT_MIRROR_DIR / package.bridge.replace("/", "+")).is_dir():
            pytest.skip(f"the provider mirrors under {GIT_MIRROR_DIR} are absent (development "
                        "workspace only); the committed table is used as is")
    regenerated = provider_replacements.render(provider_replacements.generate(GIT_MIRROR_DIR))
    assert REPLACEMENT_TABLE.read_text() == regenerated, \
        "stale: run python tools/provider_replacements.py"


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_every_provider_type_the_program_registers_has_rules(stack: str) -> None:
    used = {r.type for r in example_plan(stack).resources
            if r.custom and not r.type.startswith(DECIDED_AT_RUN_TIME)}
    assert used and not used - set(table()), used - set(table())


def test_framework_resources_cite_their_requires_replace_in_the_terraform_source() -> None:
    resources = json.loads(REPLACEMENT_TABLE.read_text())["resources"]
    for resource_type in ("hcloud:index/sshKey:SshKey", "tls:index/privateKey:PrivateKey",
                          "random:index/randomPassword:RandomPassword",
                          "hcloud:index/loadBalancerNetwork:LoadBalancerNetwork"):
        entry = resources[resource_type]
        assert entry["framework"] and entry["replaceOn"], resource_type
        for citation in entry["replaceOn"].values():
            assert "RequiresReplace" in citation and ".go:" in citation, citation


def test_the_network_and_server_facts_that_matter_for_day_2() -> None:
    rules = table()
    assert "ipRange" in rules["hcloud:index/network:Network"]
    assert {"ipRange", "networkId"} <= set(rules["hcloud:index/networkSubnet:NetworkSubnet"])
    assert {"location", "image", "userData", "sshKeys"} <= set(rules["hcloud:index/server:Server"])
    # A server type changes in place (power off, change, power on): no replacement.
    assert "serverType" not in rules["hcloud:index/server:Server"]
    assert rules["command:remote:Command"] == ("triggers",)


GO_SCHEMA = '''
	resp.Schema.Attributes = map[string]schema.Attribute{
		"name": schema.StringAttribute{
			Required: true,
		},
		"public_key": schema.StringAttribute{
			Required: true,
			PlanModifiers: []planmodifier.String{
				stringplanmodifier.RequiresReplace(),
			},
		},
		"keepers": schema.MapAttribute{
			PlanModifiers: []planmodifier.Map{
				mapplanmodifiers.RequiresReplaceIfValuesNotNull(),
			},
		},
	}
'''


def test_the_go_reader_finds_requires_replace_attributes_and_their_lines() -> None:
    found = provider_replacements.requires_replace(GO_SCHEMA)
    assert found == {"public_key": (9, "RequiresReplace"),
                     "keepers": (14, "RequiresReplaceIfValuesNotNull")}


def test_pinned_revisions_are_read_from_go_mod() -> None:
    go_mod = ("require (\n\tgithub.com/a/tp v1.66.1\n"
              "\tgithub.com/b/tp v1.3.2-0.20260513075824-f8d869dc98d9 // indirect\n)")
    assert provider_replacements.pinned_revision(go_mod, "github.com/a/tp") == "v1.66.1"
    assert provider_replacements.pinned_revision(go_mod, "github.com/b/tp") == "f8d869dc98d9"
    assert provider_replacements.pinned_revision(go_mod, "github.com/c/tp") is None
