"""Node image kernels against what the enabled Cilium features need, per line.

upstream/cilium_charts/kernel-requirements.json is what tools/cilium_kernel_requirements.py reads
from Cilium's system requirements page and agent source; the regeneration test skips where the
source is absent. The debian-12 kernel is re-read from the Debian archive where apt has bookworm.
"""

from __future__ import annotations

import json

import pytest

from stack_config import validate_cluster_spec
from tests.helpers import config_problems, minimal_config
from tools import cilium_kernel_requirements as generator
from tools.cilium_agent_checks import SourceMissing
from upstream.cilium import SUPPORTED_LINES
from upstream.cilium_helm_values import HelmValues
from upstream.cilium_kernel import FACTS_FILE, FEATURES, NODE_IMAGE_KERNELS, kernel_problems


@pytest.mark.parametrize("minor", SUPPORTED_LINES)
def test_the_committed_requirements_are_what_the_cilium_source_gives(minor: str) -> None:
    try:
        derived = generator.line_requirements(minor)
    except SourceMissing as missing:
        pytest.skip(str(missing))
    assert derived == json.loads(FACTS_FILE.read_text())["lines"][minor], \
        "run: python tools/cilium_kernel_requirements.py"


def test_every_documented_feature_is_mapped_to_its_values_or_said_to_have_none() -> None:
    lines = json.loads(FACTS_FILE.read_text())["lines"].values()
    named = {name for line in lines for name in (*line["features"], *line["agent"])}
    assert named == set(FEATURES), "map new rows in upstream/cilium_kernel.py FEATURES"


def test_the_debian_12_kernel_is_the_one_the_debian_archive_ships() -> None:
    found = generator.debian_kernel()
    if found is None or found[0] != "bookworm":
        pytest.skip(f"no Debian bookworm archive through apt here ({found})")
    assert NODE_IMAGE_KERNELS["debian-12"].kernel == found[1]


def test_the_table_parser_reads_rows_and_refuses_a_moved_table() -> None:
    text = ("- `Linux kernel`_ >= 5.10 or equivalent\n\n"
            "Required Kernel Versions for Advanced Features\n"
            "==============================================\n\nIntro.\n\n"
            "====== =====\nFeature Minimum\n====== =====\n"
            "IPv4 BIG TCP support     >= 6.3\n====== =====\n")
    assert generator.doc_requirements(text) == {
        "base": [5, 10], "features": {"IPv4 BIG TCP support": [6, 3]}}
    with pytest.raises(ValueError, match="moved"):
        generator.doc_requirements(text.replace("Advanced Features", "Features"))


def _pool(image: str, **values: object) -> dict:
    return minimal_config(workerPools=[{"name": "workers", "image": image}],
                          cilium={"values": values})


@pytest.mark.parametrize("image,values,needs", [
    ("ubuntu-22.04", {"bpf": {"datapathMode": "netkit"}}, "bpf.datapathMode needs Linux 6.8"),
    ("debian-12", {"enableIPv4BIGTCP": True}, "enableIPv4BIGTCP needs Linux 6.3"),
    ("ubuntu-22.04", {"bandwidthManager": {"enabled": True, "bbr": True}},
     "bandwidthManager.bbr needs Linux 5.18"),
])
def test_a_feature_the_pool_images_kernel_lacks_is_refused(image: str, values: dict,
                                                           needs: str) -> None:
    [problem] = config_problems(_pool(image, **values))
    assert problem.startswith(f"workerPools[0].image: {needs} or newer; image '{image}' boots ")
    assert "Fix: use an image with a newer kernel (e.g. debian-13), or turn cilium.values." \
        in problem


@pytest.mark.parametrize("image,values", [
    ("ubuntu-24.04", {"bpf": {"datapathMode": "netkit"}}),
    ("debian-12", {"bandwidthManager": {"enabled": True, "bbr": True}}),
    ("rocky-9", {"enableIPv4BIGTCP": True}),  # kernel not in the table: not judged
    ("ubuntu-22.04", {}),
])
def test_a_kernel_that_has_the_feature_or_an_unknown_image_passes(image: str,
                                                                 values: dict) -> None:
    validate_cluster_spec(_pool(image, **values))


def test_the_control_plane_image_is_checked_too() -> None:
    [problem] = config_problems(minimal_config(controlPlane={"image": "debian-12"},
                                               cilium={"values": {"enableIPv4BIGTCP": True}}))
    assert problem.startswith("controlPlane.image: enableIPv4BIGTCP needs Linux 6.3")


def test_an_assumed_kernel_says_so() -> None:
    line = SUPPORTED_LINES["1.20"]
    [problem] = kernel_problems(HelmValues({"enableIPv6BIGTCP": True}, line), "ubuntu-22.04")
    assert "assumed from release notes" in problem.text(line)
    [problem] = kernel_problems(HelmValues({"enableIPv4BIGTCP": True}, line), "debian-12")
    assert "assumed" not in problem.text(line)
