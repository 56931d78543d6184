"""The configuration reference and Pulumi.yaml's declarations are the models' docstrings, rendered."""

from __future__ import annotations

import yaml
from pydantic import Field

from stack_config.base import StrictModel
from tests.helpers import PROJECT_DIR
from tools import config_reference as command
from tools.lib.config_reference import (
    project_declarations,
    render_table,
    rows,
    undocumented,
    with_block,
    with_declarations,
)


def test_every_key_has_a_docstring() -> None:
    assert undocumented() == [], "document these keys with a field docstring in stack_config/"


def test_an_undocumented_key_is_found() -> None:
    class Pool(StrictModel):
        count: int = 1
        """How many."""
        server_type: str = "cx23"

    class Root(StrictModel):
        pools: list[Pool] = Field(default_factory=list)
        """The pools."""

    assert undocumented(Root) == ["pools[].serverType"]
    assert [row.key for row in rows(Root)] == ["pools[]", "pools[].count", "pools[].serverType"]


def test_the_page_holds_the_rendered_table() -> None:
    page = (PROJECT_DIR / "docs" / "configuration.md").read_text()
    assert with_block(page, render_table()) == page, \
        "docs/configuration.md is stale: run python tools/config_reference.py"


def test_pulumi_yaml_declares_every_top_level_key_as_rendered() -> None:
    text = (PROJECT_DIR / "Pulumi.yaml").read_text()
    assert yaml.safe_load(text)["config"] == project_declarations()
    assert with_declarations(text) == text, \
        "Pulumi.yaml is stale: run python tools/config_reference.py"


def test_the_rendered_rows_carry_defaults_and_choices() -> None:
    by_key = {row.key: row for row in rows()}
    assert by_key["clusterName"].default == "(required)"
    assert by_key["k3s.clusterCidr"].default == "`10.42.0.0/16`"
    assert by_key["controlPlane.loadBalancer.type"].meaning.endswith(
        "One of `lb11`, `lb21`, `lb31`.")
    assert "k3s" in by_key and "k3S" not in by_key


def test_the_check_command_agrees() -> None:
    assert command.main(["--check"]) == 0
