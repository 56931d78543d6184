"""Sentinel secrets: recognisable values planted for every secret, and a detector that finds
them in clear text or inside base64 blobs. Shared by the bootstrap and whole-program leak tests."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pulumi
import pytest
from pulumi.runtime.mocks import MockResourceArgs

from tools.lib import mock_provider
from tools.lib.stack_files import SECRET_PLACEHOLDER, StackConfig

CLUSTER_TOKEN = "SentinelClusterToken" + "C" * 44
AGENT_TOKEN = "SentinelAgentToken" + "A" * 46
SSH_KEY = "SENTINEL-SSH-PRIVATE-KEY"
DATASTORE_PASSWORD = "SentinelDatastorePassword"
HCLOUD_TOKEN = "SentinelHcloudToken"
# A value the user sets with `pulumi config set --secret --path k3s.serverConfig.etcd-s3-secret-key`.
ETCD_S3_SECRET_KEY = "SentinelEtcdS3SecretKey"
SENTINELS = (CLUSTER_TOKEN, AGENT_TOKEN, SSH_KEY, DATASTORE_PASSWORD, HCLOUD_TOKEN,
             ETCD_S3_SECRET_KEY)
# APISIX's admin API keys (random.RandomPassword "<name>-apisix-admin-key" / "-viewer-key"):
# only in stacks with addons.apisix, so apart from SENTINELS (which every plan must carry).
APISIX_ADMIN_KEY = "SentinelApisixAdminKey" + "X" * 18
APISIX_VIEWER_KEY = "SentinelApisixViewerKey" + "V" * 17
APISIX_SENTINELS = (APISIX_ADMIN_KEY, APISIX_VIEWER_KEY)
PLANTED_DATASTORE = f"postgres://k3s:{DATASTORE_PASSWORD}@db.internal:5432/k3s"
# Embedded etcd only (exclusive with the datastore sentinel): planted by with_planted_etcd_s3.
S3_ACCESS_KEY = "SentinelS3AccessKey"
S3_SECRET_KEY = "SentinelS3SecretKey"
S3_SENTINELS = (S3_ACCESS_KEY, S3_SECRET_KEY)
# Delivery (deploy/): a GitHub runner registration token and a Pulumi agent pool token.
RUNNER_REGISTRATION_TOKEN = "SentinelRunnerRegistrationToken"
AGENT_POOL_TOKEN = "SentinelAgentPoolToken"
DELIVERY_SENTINELS = (RUNNER_REGISTRATION_TOKEN, AGENT_POOL_TOKEN)
"""Planted in the deploy/ program's plans (tests/test_delivery.py)."""
_BASE64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")


def planted_password(args: MockResourceArgs) -> dict[str, Any]:
    if "-apisix-" in args.name:
        return {"result": pulumi.Output.secret(
            APISIX_ADMIN_KEY if args.name.endswith("-admin-key") else APISIX_VIEWER_KEY)}
    return {"result": pulumi.Output.secret(CLUSTER_TOKEN if "cluster" in args.name else AGENT_TOKEN)}


def planted_private_key(args: MockResourceArgs) -> dict[str, Any]:
    outputs = mock_provider._private_key(args)
    key = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{SSH_KEY}-{args.name}\n-----END OPENSSH PRIVATE KEY-----\n"
    return outputs | {"privateKeyOpenssh": pulumi.Output.secret(key),
                      "privateKeyPem": pulumi.Output.secret(f"{SSH_KEY}-pem")}


def leaks(text: str) -> list[str]:
    """Sentinels found in ``text`` as written or inside any base64 blob in it."""
    every = (*SENTINELS, *S3_SENTINELS, *DELIVERY_SENTINELS, *APISIX_SENTINELS)
    found = [s for s in every if s in text]
    for blob in _BASE64.findall(text):
        try:
            decoded = base64.b64decode(blob + "=" * (-len(blob) % 4)).decode("utf-8", "replace")
        except ValueError:
            continue
        found += [f"{s} (base64)" for s in every if s in decoded]
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
    sentinel password and an S3 secret key under ``k3s.serverConfig``, both set ``--secret``
    (``secure:`` in the file; :func:`reveal_planted` decrypts them as the CLI would)."""
    k3s = config.setdefault("k3s-hcloud:k3s", {})
    k3s["datastoreEndpoint"] = {"secure": "v1:planted-datastore"}
    k3s.setdefault("serverConfig", {})["etcd-s3-secret-key"] = {"secure": "v1:planted-s3"}
    return config


def reveal_planted(values: dict[str, str]) -> None:
    """Replace the offline placeholders of the planted secrets by the sentinels, in place."""
    from tools.lib.stack_files import SECRET_PLACEHOLDER

    text = values["k3s-hcloud:k3s"]
    datastore = f"{SECRET_PLACEHOLDER}:k3s-hcloud:k3s.datastoreEndpoint"
    document = json.loads(text)
    assert datastore in document["datastoreEndpoint"]
    document["datastoreEndpoint"] = PLANTED_DATASTORE
    document["serverConfig"]["etcd-s3-secret-key"] = ETCD_S3_SECRET_KEY
    values["k3s-hcloud:k3s"] = json.dumps(document)


S3_KEY_PATHS = {"accessKey": S3_ACCESS_KEY, "secretKey": S3_SECRET_KEY}


def with_planted_etcd_s3(config: dict[str, Any]) -> dict[str, Any]:
    """A stack config whose etcd snapshots go to Hetzner Object Storage, the S3 keys written as
    ``secure:`` values (as ``pulumi config set --secret --path`` writes them); the offline
    loader turns them into placeholders that :func:`plant_s3_keys` swaps for the sentinels."""
    k3s = config.setdefault("k3s-hcloud:k3s", {})
    k3s["etcdSnapshots"] = {
        "schedule": "0 */6 * * *", "retention": 20, "compress": True,
        "s3": {"endpoint": "fsn1.your-objectstorage.com", "bucket": "k3s-backups",
               "folder": "clusters/test",
               **{key: {"secure": "v1:stand-in"} for key in S3_KEY_PATHS}}}
    return config


def plant_s3_keys(config: StackConfig) -> StackConfig:
    """Replace the offline placeholders of the S3 keys with the sentinels (still secret keys)."""
    key = "k3s-hcloud:k3s"
    text = config.values[key]
    for name, sentinel in S3_KEY_PATHS.items():
        placeholder = f"{SECRET_PLACEHOLDER}:{key}.etcdSnapshots.s3.{name}"
        assert placeholder in text, f"{placeholder} not in the loaded config"
        text = text.replace(placeholder, sentinel)
    config.values[key] = text
    assert key in config.secret_keys
    return config
