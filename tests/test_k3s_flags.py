"""k3s's flag aliases: the parser on small flag literals, and the table against a k3s checkout."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tools.k3s_flags import aliases_in, short_aliases
from upstream.k3s import FLAG_ALIASES

GO = '''
var Flags = []cli.Flag{
	&cli.StringFlag{
		Name:        "data-dir,d",
		Destination: &Config.DataDir,
	},
	&cli.StringFlag{
		Name:    "server",
		Aliases: []string{"s"},
	},
	&cli.BoolFlag{
		Name: "debug",
	},
}
'''


def test_both_urfave_cli_alias_styles_are_read() -> None:
    assert aliases_in(GO) == {"d": "data-dir", "s": "server"}


def test_the_alias_table_matches_a_k3s_checkout() -> None:
    source = os.environ.get("K3S_SOURCE")
    if not source or not (Path(source) / "pkg" / "cli" / "cmds").is_dir():
        pytest.skip("set K3S_SOURCE to a k3s checkout to regenerate the alias table (the "
                    "repository is too large to mirror in the development workspace)")
    assert short_aliases(Path(source)) == FLAG_ALIASES
