"""`--diagram`: the planned cluster as SVG, for every example stack, and the committed picture."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.helpers import EXAMPLE_STACKS, PROJECT_DIR, example_config, plan_config
from tests.program_plans import example_plan
from tools import plan as plan_cli
from tools.lib.diagram import SVG_NS, render_svg
from tools.lib.plan_report import summarize

COMMITTED = PROJECT_DIR / "docs" / "images" / "private-ha.svg"
REGENERATE = "python tools/plan.py --stack private-ha --diagram docs/images/private-ha.svg"


def _ids(svg: str) -> set[str]:
    root = ET.fromstring(svg)  # raises on anything that is not well-formed XML
    assert root.tag == f"{{{SVG_NS}}}svg"
    return {element.get("id") for element in root.iter() if element.get("id")}


def _texts(svg: str) -> str:
    return " ".join(t.text or "" for t in ET.fromstring(svg).iter(f"{{{SVG_NS}}}text"))


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_every_example_stack_draws_as_svg_with_each_pool(stack: str, tmp_path: Path) -> None:
    picture = tmp_path / f"{stack}.svg"
    assert plan_cli.main(["--stack", stack, "--diagram", str(picture)]) == plan_cli.EXIT_OK
    svg = picture.read_text()
    summary = summarize(example_plan(stack))
    ids = _ids(svg)
    assert {f"pool-{p.name}" for p in summary.pools} <= ids
    assert ("bastion" in ids) == (summary.bastion is not None)
    assert {f"lb-{lb.name}" for lb in summary.load_balancers} <= ids
    assert ("gateway" in ids) == (summary.gateway is not None)
    texts = _texts(svg)
    for pool in summary.pools:
        assert f"{pool.count} × {pool.server_type}" in texts
    # The document's title names the cluster (not the last box drawn).
    title = ET.fromstring(svg).find(f"{{{SVG_NS}}}title")
    assert title is not None and title.text == (
        f"k3s-hcloud cluster '{summary.cluster}' (stack {stack}) — planned offline")


def test_the_picture_follows_the_plan(tmp_path: Path) -> None:
    config = example_config("dev")
    config["k3s-hcloud:workerPools"].append({"name": "batch", "count": 4, "serverType": "cx43"})
    svg = render_svg(summarize(plan_config(tmp_path, config, "dev")))
    assert "pool-batch" in _ids(svg) and "4 × cx43" in _texts(svg)


def test_committed_private_ha_diagram_is_current() -> None:
    expected = render_svg(summarize(example_plan("private-ha")))
    assert COMMITTED.read_text() == expected, f"docs/images/private-ha.svg is stale: {REGENERATE}"


def test_private_ha_picture_shows_no_path_from_the_internet_but_ssh_to_the_bastion() -> None:
    root = ET.fromstring(COMMITTED.read_text())
    labels = [t.text for t in root.iter(f"{{{SVG_NS}}}text")]
    assert "ssh 22" in labels and "API (6443) allowed from: nobody" in " ".join(
        label or "" for label in labels)
    assert not any(label and "every node's public IPv4" in label for label in labels)


def test_rsvg_renders_the_committed_picture(tmp_path: Path) -> None:
    converter = shutil.which("rsvg-convert")
    if converter is None:
        pytest.skip("rsvg-convert is not installed (Debian package librsvg2-bin)")
    png = tmp_path / "private-ha.png"
    result = subprocess.run([converter, str(COMMITTED), "-o", str(png)], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
