"""k3s's flag table: the parser on small Go sources, and the committed table against the source."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tools.k3s_flags import TABLE, aliases_in, derived, flag_table, main, staged_sources
from upstream import k3s as upstream_k3s

GO_FLAGS = '''
package cmds

var (
	DataDirFlag = &cli.StringFlag{
		Name:        "data-dir,d",
		Usage:       "(data) Folder to hold state default ${HOME}/.rancher/k3s",
		Destination: &Config.DataDir,
	}
	NodeLabels = &cli.StringSliceFlag{
		Name:  "node-label",
		Value: &Config.Labels,
	}
	VPNAuth = &cli.StringFlag{
		Name:   "vpn-auth",
		Hidden: true,
	}
)

var ServerFlags = []cli.Flag{
	DataDirFlag,
	NodeLabels,
	// a comment, with a comma
	&cli.StringFlag{
		Name:    "server",
		Aliases: []string{"s"},
		Usage:   "(cluster) cron '0 */5 * * *' {not a brace}",
	},
	&cli.BoolFlag{
		Name: "cluster-init",
	},
}

func NewServerCommand(action func(*cli.Context) error) cli.Command {
	return cli.Command{Name: "server", Flags: ServerFlags}
}

func NewAgentCommand(action func(ctx *cli.Context) error) cli.Command {
	return cli.Command{
		Name: "agent",
		Flags: []cli.Flag{
			DataDirFlag,
			NodeLabels,
			VPNAuth,
		},
	}
}
'''


def _source(tmp_path: Path, text: str) -> Path:
    cmds = tmp_path / "pkg" / "cli" / "cmds"
    cmds.mkdir(parents=True)
    (cmds / "flags.go").write_text(text)
    return tmp_path


def test_both_urfave_cli_alias_styles_are_read() -> None:
    assert aliases_in(GO_FLAGS) == {"d": "data-dir", "s": "server"}


def test_each_command_gets_the_flags_its_list_names_inline_or_by_variable(tmp_path: Path) -> None:
    table = flag_table(_source(tmp_path, GO_FLAGS))
    assert set(table["server"]) == {"data-dir", "node-label", "server", "cluster-init"}
    assert set(table["agent"]) == {"data-dir", "node-label", "vpn-auth"}
    assert table["aliases"] == {"d": "data-dir", "s": "server"}
    assert table["server"]["node-label"] == {"aliases": [], "kind": "StringSlice",
                                             "hidden": False}
    assert table["agent"]["vpn-auth"]["hidden"] is True


def test_a_list_naming_an_undefined_flag_is_an_error_not_a_gap(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="MissingFlag"):
        flag_table(_source(tmp_path, GO_FLAGS.replace("\tNodeLabels,\n\t// a", "\tMissingFlag,\n\t// a")))


def test_the_committed_table_is_what_the_generator_wrote() -> None:
    table = json.loads(TABLE.read_text())
    assert table["generated_by"] == "tools/k3s_flags.py"
    assert table["source"]["repository"] == "github.com/k3s-io/k3s"
    assert upstream_k3s.SERVER_FLAGS == frozenset(table["server"])
    assert upstream_k3s.AGENT_FLAGS == frozenset(table["agent"])
    # Servers run an agent: almost every agent flag is a server flag too.
    assert {"node-label", "kubelet-arg", "node-ip"} <= upstream_k3s.SERVER_FLAGS
    assert "cluster-cidr" not in upstream_k3s.AGENT_FLAGS


def test_removed_flags_are_not_flags_of_the_table() -> None:
    assert not set(upstream_k3s.REMOVED_FLAGS) & (upstream_k3s.SERVER_FLAGS |
                                                  upstream_k3s.AGENT_FLAGS)


def test_the_table_matches_the_staged_k3s_source() -> None:
    sources = ([Path(os.environ["K3S_SOURCE"])] if os.environ.get("K3S_SOURCE")
               else staged_sources())
    if not sources or not (sources[-1] / "pkg" / "cli" / "cmds").is_dir():
        pytest.skip("no k3s source staged: put pkg/cli/cmds/*.go (and SOURCE.json) under "
                    "~/.cache/k3s-hcloud/k3s-source/<version>/ or set K3S_SOURCE to a k3s "
                    "checkout (the repository is over the mirror's size limit; see "
                    "docs/configuration-checks.md)")
    assert derived(sources[-1]) == json.loads(TABLE.read_text())
    # ... byte for byte, as `--write` renders it.
    assert main([str(sources[-1]), "--check"]) == 0
