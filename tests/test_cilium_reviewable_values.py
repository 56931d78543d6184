"""With Maglev on, the generated ``maglev.hashSeed`` is the only secret Cilium value: the plan
(text, --json) and the values file under --out show every other value, the seed never."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import PROJECT_DIR, example_config, plan_config, write_stack_file
from tools.lib.engine import run_program
from tools.lib.machine_files import REDACTED, write_machine_files
from tools.plan import main as plan_main
from tools.lib.stack_files import load_stack_config

RELEASE = "kubernetes:helm.sh/v3:Release"


def maglev_config() -> dict[str, Any]:
    config = example_config("dev")
    cilium = config.setdefault("k3s-hcloud:cilium", {})
    cilium.setdefault("values", {})["loadBalancer"] = {"algorithm": "maglev"}
    return config


@pytest.fixture(scope="module")
def maglev_plan(tmp_path_factory: pytest.TempPathFactory):
    return plan_config(tmp_path_factory.mktemp("maglev"), maglev_config(), "maglev")


def _cilium(plan):
    [release] = [r for r in plan.by_type(RELEASE) if r.name.endswith("-cilium")]
    return release


def test_only_the_generated_seed_is_secret(maglev_plan) -> None:
    release = _cilium(maglev_plan)
    assert release.secret_input_paths() == ["values.maglev.hashSeed"]
    shown = release.masked_inputs()["values"]
    assert shown["maglev"]["hashSeed"] == "[secret]"
    assert shown["loadBalancer"]["algorithm"] == "maglev"
    assert shown["routingMode"] == "native" and shown["MTU"] == 1450


def test_the_values_file_is_written_with_only_the_seed_redacted(maglev_plan,
                                                                tmp_path: Path) -> None:
    written = write_machine_files(maglev_plan, tmp_path)
    seed = _cilium(maglev_plan).plain_inputs()["values"]["maglev"]["hashSeed"]
    [values_file] = [p for p in written if p.name.endswith("-cilium.values.yaml")]
    text = values_file.read_text()
    values = yaml.safe_load(text)
    assert values["maglev"]["hashSeed"] == REDACTED
    assert values["loadBalancer"] == {"acceleration": "best-effort", "algorithm": "maglev"}
    assert seed and seed not in text
    assert not (tmp_path / "SKIPPED-SECRETS.txt").exists() or \
        "cilium" not in (tmp_path / "SKIPPED-SECRETS.txt").read_text()


def test_plan_json_and_text_show_the_values_and_name_the_hidden_one(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    stack = write_stack_file(tmp_path, maglev_config(), "maglev")
    assert plan_main(["--stack-file", str(stack), "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    [release] = [r for r in plan["resources"] if r["type"] == RELEASE
                 and r["name"].endswith("-cilium")]
    assert release["secretInputs"] == ["values.maglev.hashSeed"]
    assert release["inputs"]["values"]["ipv4NativeRoutingCIDR"] == "10.42.0.0/16"
    assert plan_main(["--stack-file", str(stack)]) == 0
    text = capsys.readouterr().out
    assert "dev-cilium: values.maglev.hashSeed" in text


def test_a_user_given_secret_cilium_key_still_hides_all_values(tmp_path: Path) -> None:
    # `pulumi config set --secret --path cilium...`: the program cannot tell which part is
    # secret, so the whole values map stays secret (components/kubernetes/cilium.py).
    config = load_stack_config(PROJECT_DIR, write_stack_file(tmp_path, maglev_config(), "s"))
    config.secret_keys.add("k3s-hcloud:cilium")
    release = _cilium(run_program(PROJECT_DIR, config))
    assert release.secret_input_paths() == ["values"]


def test_the_maglev_example_stack_plans_and_shows_its_values(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    stack = PROJECT_DIR / "Pulumi.maglev.yaml"
    assert plan_main(["--stack-file", str(stack), "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "lb-cilium: values.maglev.hashSeed" in text
    assert "load balancing algorithm: maglev" in text
    [values_file] = tmp_path.rglob("lb-cilium.values.yaml")
    values = yaml.safe_load(values_file.read_text())
    assert values["maglev"] == {"tableSize": 16381, "hashSeed": REDACTED}
    assert values["loadBalancer"]["algorithm"] == "maglev"
    assert values["k8sServicePort"] == 6444
