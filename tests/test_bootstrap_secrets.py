"""Secrets sentinel test: plant a recognisable value for every secret the bootstrap handles and
prove none of them appears in clear anywhere a plan shows in clear.

Planted: the k3s cluster and agent tokens (through the mock of random.RandomPassword), the SSH
private key (through the mock of tls.PrivateKey), the external datastore endpoint and an S3
secret key under k3s.serverConfig (stack config, set --secret) and the hcloud token. Searched: every resource input that is not secret (also
inside base64 blobs, since bundles are base64), every plain stack output, every log line.
"""

from __future__ import annotations

import base64
import json

import pytest

from tests.program_plans import commands, plan_config
from tests.helpers import EXAMPLE_STACKS, example_config
from tests.sentinels import (AGENT_TOKEN, CLUSTER_TOKEN, DATASTORE_PASSWORD, ETCD_S3_SECRET_KEY,
                             HCLOUD_TOKEN, SENTINELS, leaks, planted_secrets, reveal_planted,
                             with_planted_datastore)
from tools.lib.engine import Plan


@pytest.fixture(scope="module", params=EXAMPLE_STACKS)
def planted(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Plan:
    with planted_secrets():
        config = with_planted_datastore(example_config(request.param))
        config["hcloud:token"] = {"secure": "v1:stand-in"}
        directory = tmp_path_factory.mktemp(request.param)
        plan = plan_config(directory, config, stack=request.param,
                           extra={"hcloud:token": HCLOUD_TOKEN}, reveal=reveal_planted)
    return plan


def test_no_secret_appears_in_any_non_secret_input(planted: Plan) -> None:
    for resource in planted.resources:
        text = json.dumps(resource.masked_inputs(), sort_keys=True)
        assert leaks(text) == [], f"{resource.type} {resource.name} shows a secret in clear"


def test_no_secret_appears_in_plain_outputs_or_logs(planted: Plan) -> None:
    for name, output in planted.outputs.items():
        if not output.secret:
            assert leaks(json.dumps(output.value)) == [], f"output {name}"
    assert planted.outputs["kubeconfig"].secret
    for _, message in planted.logs:
        assert leaks(message) == []


def test_the_sentinels_really_flowed_into_the_plan(planted: Plan) -> None:
    """Positive control: the test above could fail, because each secret is in the plan."""
    cmds = commands(planted)
    everything = json.dumps([r.plain_inputs() for r in planted.resources], sort_keys=True)
    missing = [s for s in SENTINELS if s not in everything and not any(
        s in leak for leak in leaks(everything))]
    assert missing == []
    first = next(name for name in cmds if name.endswith("-cp-1-secrets"))
    assert "stdin" in cmds[first].secret_input_paths()
    assert {CLUSTER_TOKEN, AGENT_TOKEN, DATASTORE_PASSWORD, ETCD_S3_SECRET_KEY} <= {
        s.removesuffix(" (base64)") for s in leaks(cmds[first].plain_inputs()["stdin"])}


def test_a_secret_placed_in_a_plain_input_would_be_caught() -> None:
    # The detector itself: clear text and base64 (at any offset) are both found.
    assert leaks(f"token={CLUSTER_TOKEN}") == [CLUSTER_TOKEN]
    for prefix in ("", "x", "xy"):
        blob = base64.b64encode(f"{prefix}key: {AGENT_TOKEN}\n".encode()).decode()
        assert f"{AGENT_TOKEN} (base64)" in leaks(f"0600 /etc/x inline:{blob}")
