"""Path edits of a stack's config, as blast_radius.py --set/--unset applies them."""

from __future__ import annotations

import pytest

from tools.lib.config_edits import (
    ConfigEditError,
    parse_assignment,
    parse_path,
    set_value,
    unset_value,
)


def config() -> dict:
    return {"k3s-hcloud:controlPlane": {"count": 1},
            "k3s-hcloud:workerPools": [{"name": "general", "count": 3},
                                       {"name": "arm", "count": 2}]}


def test_paths_take_keys_positions_and_names() -> None:
    assert parse_path("workerPools[general].count") == ["k3s-hcloud:workerPools", "general",
                                                        "count"]
    assert parse_path("workerPools[0].labels.tier") == ["k3s-hcloud:workerPools", 0, "labels",
                                                        "tier"]
    assert parse_path("hcloud:token") == ["hcloud:token"]


def test_values_are_yaml() -> None:
    assert parse_assignment("controlPlane.count=3")[1] == 3
    assert parse_assignment("x.enabled=true")[1] is True
    assert parse_assignment("access.apiAllowedCidrs=[10.0.0.0/8]")[1] == ["10.0.0.0/8"]
    assert parse_assignment("k3s.version=v1.35.4+k3s1")[1] == "v1.35.4+k3s1"


def test_set_by_name_creates_missing_mappings_and_appends_new_named_entries() -> None:
    edited = config()
    set_value(edited, *parse_assignment("workerPools[arm].count=4"))
    set_value(edited, *parse_assignment("cilium.values.hubble.relay.enabled=true"))
    set_value(edited, *parse_assignment("workerPools[batch]={count: 2, serverType: cx33}"))
    assert edited["k3s-hcloud:workerPools"] == [
        {"name": "general", "count": 3}, {"name": "arm", "count": 4},
        {"name": "batch", "count": 2, "serverType": "cx33"}]
    assert edited["k3s-hcloud:cilium"] == {"values": {"hubble": {"relay": {"enabled": True}}}}


def test_unset_removes_keys_and_named_entries() -> None:
    edited = config()
    unset_value(edited, parse_path("workerPools[arm]"))
    unset_value(edited, parse_path("controlPlane.count"))
    assert edited == {"k3s-hcloud:controlPlane": {},
                      "k3s-hcloud:workerPools": [{"name": "general", "count": 3}]}


@pytest.mark.parametrize("edit, message", [
    ("workerPools[gpu].count=1", "workerPools[gpu]: no entry named 'gpu' (entries: ['general', 'arm'])"),
    ("workerPools[5].count=1", "workerPools[5]: the list has 2 entries"),
    ("controlPlane.count.x=1", "controlPlane.count is not a mapping or a list"),
    ("controlPlane.count", "'controlPlane.count' is not PATH=VALUE"),
    ("[0]=1", "the path '[0]' must start with a config key"),
])
def test_bad_edits_say_what_is_wrong(edit: str, message: str) -> None:
    with pytest.raises(ConfigEditError) as error:
        set_value(config(), *parse_assignment(edit))
    assert str(error.value) == message
