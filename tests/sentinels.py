"""Sentinel secrets: recognisable values planted for every secret, and a detector that finds
them in clear text or inside base64 blobs. Shared by the bootstrap and whole-program leak tests."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pulumi
import pytest
from pulumi.runtime.mocks import MockResourceArgs

from tools.lib import mock_provider

CLUSTER_TOKEN = "SentinelClusterToken" + "C" * 44
AGENT_TOKEN = "SentinelAgentToken" + "A" * 46
SSH_KEY = "SENTINEL-SSH-PRIVATE-KEY"
DATASTORE_PASSWORD = "SentinelDatastorePassword"
HCLOUD_TOKEN = "SentinelHcloudToken"
# Delivery (deploy/): a GitHub runner registration token and a Pulumi agent pool token.
RUNNER_REGISTRATION_TOKEN = "SentinelRunnerRegistrationToken"
AGENT_POOL_TOKEN = "SentinelAgentPoolToken"
SENTINELS = (CLUSTER_TOKEN, AGENT_TOKEN, SSH_KEY, DATASTORE_PASSWORD, HCLOUD_TOKEN)
"""Planted in the cluster program's plans (tests check each really flows in)."""
DELIVERY_SENTINELS = (RUNNER_REGISTRATION_TOKEN, AGENT_POOL_TOKEN)
"""Planted in the deploy/ program's plans (tests/test_delivery.py)."""
_BASE64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")


def planted_password(args: MockResourceArgs) -> dict[str, Any]:
    return {"result": pulumi.Output.secret(CLUSTER_TOKEN if "cluster" in args.name else AGENT_TOKEN)}


def planted_private_key(args: MockResourceArgs) -> dict[str, Any]:
    outputs = mock_provider._private_key(args)
    key = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{SSH_KEY}-{args.name}\n-----END OPENSSH PRIVATE KEY-----\n"
    return outputs | {"privateKeyOpenssh": pulumi.Output.secret(key),
                      "privateKeyPem": pulumi.Output.secret(f"{SSH_KEY}-pem")}


def leaks(text: str) -> list[str]:
    """Sentinels found in ``text`` as written or inside any base64 blob in it."""
    found = [s for s in (*SENTINELS, *DELIVERY_SENTINELS) if s in text]
    for blob in _BASE64.findall(text):
        try:
            decoded = base64.b64decode(blob + "=" * (-len(blob) % 4)).decode("utf-8", "replace")
        except ValueError:
            continue
        found += [f"{s} (base64)" for s in (*SENTINELS, *DELIVERY_SENTINELS) if s in decoded]
    return found




@contextmanager
def planted_secrets() -> Iterator[None]:
    """Mocked providers hand out the sentinel tokens and private keys while the block runs."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(mock_provider.COMPUTED_OUTPUTS,
                      "random:index/randomPassword:RandomPassword", planted_password)
        patch.setitem(mock_provider.COMPUTED_OUTPUTS, "tls:index/privateKey:PrivateKey",
                      planted_private_key)
        yield


def with_planted_datastore(config: dict[str, Any]) -> dict[str, Any]:
    """A stack config (``k3s-hcloud:`` keys) that also uses an external datastore with a
    sentinel password."""
    k3s = config.setdefault("k3s-hcloud:k3s", {})
    k3s["datastoreEndpoint"] = f"postgres://k3s:{DATASTORE_PASSWORD}@db.internal:5432/k3s"
    return config
