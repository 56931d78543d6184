"""Bad command-line arguments keep the exit-code contract: 1 with a clear message, no traceback.

(argparse's own exit code 2 would read as "mandatory policy violation".)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import plan as plan_cli


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = plan_cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_an_unknown_option_exits_1_not_argparses_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, output = run(capsys, "--stak", "dev")
    assert code == plan_cli.EXIT_CONFIG
    assert "unrecognized arguments: --stak dev" in output and "Traceback" not in output


def test_policy_config_that_is_not_json_exits_1(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "pack.json"
    config.write_text("{all: mandatory")
    code, output = run(capsys, "--policy-config", str(config))
    assert code == plan_cli.EXIT_CONFIG
    assert f"--policy-config {config}: not valid JSON" in output and "Traceback" not in output


def test_policy_config_with_an_unknown_level_exits_1(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "pack.json"
    config.write_text('{"all": "strict"}')
    code, output = run(capsys, "--policy-config", str(config))
    assert code == plan_cli.EXIT_CONFIG and "entry 'all' is 'strict'" in output


def test_missing_policy_config_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, output = run(capsys, "--policy-config", str(tmp_path / "absent.json"))
    assert code == plan_cli.EXIT_CONFIG and "cannot be read" in output


def test_a_program_folder_without_a_program_exits_1(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code, output = run(capsys, "--program", str(tmp_path / "nowhere"))
    assert code == plan_cli.EXIT_CONFIG
    assert "no Pulumi program (__main__.py) there" in output and "Traceback" not in output


def test_out_pointing_at_a_file_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "file.txt"
    target.write_text("mine")
    code, output = run(capsys, "--out", str(target))
    assert code == plan_cli.EXIT_CONFIG and "is a file" in output
    assert target.read_text() == "mine"


def test_out_refuses_a_folder_it_did_not_write(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.md").write_text("mine")
    code, output = run(capsys, "--out", str(tmp_path))
    assert code == plan_cli.EXIT_CONFIG and "not empty and was not written by this tool" in output
    assert (tmp_path / "notes.md").read_text() == "mine"


def test_a_missing_stack_file_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, output = run(capsys, "--stack-file", str(tmp_path / "Pulumi.none.yaml"))
    assert code == plan_cli.EXIT_CONFIG and "cannot be read" in output


def test_out_replaces_only_what_it_wrote(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert run(capsys, "--stack", "dev", "--out", str(out))[0] == plan_cli.EXIT_OK
    manifest = out / plan_cli.OUT_MANIFEST
    written = sorted(__import__("json").loads(manifest.read_text()))
    assert written and all((out / name).is_file() for name in written)
    stale = out / written[0]
    stale.write_text("edited by hand")
    (out / "mine.txt").write_text("keep me")
    assert run(capsys, "--stack", "dev", "--out", str(out))[0] == plan_cli.EXIT_OK
    assert (out / "mine.txt").read_text() == "keep me"
    assert stale.read_text() != "edited by hand"
