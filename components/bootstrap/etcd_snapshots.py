"""Embedded etcd's snapshots on the servers: config, S3 credentials, the pre-change snapshot.

- :func:`server_flags`: the non-secret ``etcd-snapshot-*``/``etcd-s3*`` keys of every server's
  config.yaml (readable in the plan, and by the policy pack);
- :func:`credentials_dropin`: the S3 access and secret key as a secret config.yaml.d drop-in,
  staged through stdin like the datastore endpoint (never in command text or inputs);
- :func:`pre_change_snapshot`: ``<key>-etcd-snapshot`` (command:remote:Command), a named
  ``k3s etcd-snapshot save`` that the server's ``<key>-k3s`` step waits for. Its triggers are
  what can lose etcd data in that step: the k3s version, the server itself (a replacement),
  the etcd/datastore configuration. It fails, so the step does not run, when a server with etcd
  data cannot take the snapshot;
- :func:`membership_snapshot`: ``<name>-etcd-snapshot-members`` on the first server, re-run
  when the set of servers changes; Pulumi deletes removed resources after every create and
  update, so it runs before a removed server leaves etcd;
- :func:`snapshot_hints`: the ``etcdSnapshots`` stack output (where they go, how to list them).

Ref: https://docs.k3s.io/cli/etcd-snapshot (save --name, ls; S3 flags as in config.yaml)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_command as command

from components import yaml_text
from components.bootstrap import bundle
from components.bootstrap.remote_script import remote_script
from stack_config import ClusterSpec
from upstream import k3s_etcd_snapshots as upstream

SNAPSHOT_TIMEOUTS = pulumi.CustomTimeouts(create="15m", update="15m")
_UNSAFE = re.compile(r"[^a-z0-9-]+")


def server_flags(spec: ClusterSpec) -> dict[str, Any]:
    """config.yaml keys of every server; empty when k3s's defaults apply."""
    if not spec.uses_embedded_etcd:
        return {}
    snapshots = spec.k3s.etcd_snapshots
    flags: dict[str, Any] = {}
    if snapshots.schedule is not None:
        flags[upstream.SCHEDULE_FLAG] = snapshots.schedule
    if snapshots.retention is not None:
        flags[upstream.RETENTION_FLAG] = snapshots.retention
    if snapshots.compress:
        flags[upstream.COMPRESS_FLAG] = True
    s3 = snapshots.s3
    if s3 is not None:
        flags[upstream.S3_FLAG] = True
        flags[upstream.S3_ENDPOINT_FLAG] = s3.endpoint
        flags[upstream.S3_BUCKET_FLAG] = s3.bucket
        if s3.folder:
            flags[upstream.S3_FOLDER_FLAG] = s3.folder
        if s3.effective_region:
            flags[upstream.S3_REGION_FLAG] = s3.effective_region
        if s3.insecure:
            flags[upstream.S3_INSECURE_FLAG] = True
    return flags


def credentials_dropin(spec: ClusterSpec) -> pulumi.Output[str] | None:
    """Secret: the drop-in with the S3 keys, or None without S3."""
    s3 = spec.k3s.etcd_snapshots.s3
    if s3 is None or not spec.uses_embedded_etcd:
        return None
    return pulumi.Output.secret(yaml_text.dump({
        upstream.S3_ACCESS_KEY_FLAG: s3.access_key.get_secret_value(),
        upstream.S3_SECRET_KEY_FLAG: s3.secret_key.get_secret_value(),
    }, sort_keys=True))


def takes_pre_change_snapshots(spec: ClusterSpec) -> bool:
    return spec.uses_embedded_etcd and spec.k3s.etcd_snapshots.before_changes


def snapshot_name(step: str, k3s_version: str) -> str:
    """``before-<step>-<version>``, in the characters k3s and S3 keys take without quoting;
    k3s appends the node name and a timestamp."""
    return _UNSAFE.sub("-", f"before-{step}-{k3s_version}".lower()).strip("-")


def etcd_config_digest(spec: ClusterSpec, dropin: pulumi.Output[str] | None) -> pulumi.Output[str]:
    """Secret digest of what configures etcd on a server: the snapshot flags, the credentials,
    and the user's own ``etcd-*``/``datastore-*`` server keys."""
    plain = {key: value for key, value in spec.k3s.server_config.items()
             if key.startswith(("etcd-", "datastore-"))} | server_flags(spec)
    text = yaml_text.dump(plain, sort_keys=True)
    if dropin is None:
        return pulumi.Output.secret(bundle.digest(text))
    return pulumi.Output.secret(dropin.apply(lambda secret: bundle.digest(text + secret)))


def pre_change_snapshot(resource_name: str, *, snapshot: str,
                        connection: command.remote.ConnectionArgs,
                        triggers: Sequence[pulumi.Input[Any]], sudo: bool,
                        depends_on: Sequence[pulumi.Resource],
                        parent: pulumi.Resource) -> command.remote.Command:
    return command.remote.Command(
        resource_name,
        connection=connection,
        create=remote_script("etcd-snapshot.sh", {
            "SNAPSHOT_NAME": snapshot,
            "ETCD_DATA_DIR": upstream.ETCD_DATA_DIR,
        }, sudo=sudo),
        triggers=list(triggers),
        # k3s prints the snapshot's name and location; the credentials never reach its output.
        logging=command.remote.Logging.STDOUT_AND_STDERR,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on),
                                    custom_timeouts=SNAPSHOT_TIMEOUTS))


def snapshot_hints(spec: ClusterSpec, server_keys: Sequence[str], ssh_user: str,
                   ssh_commands: pulumi.Output[dict]) -> pulumi.Output[dict] | None:
    """Where snapshots go and the command that lists them (through the first server)."""
    if not spec.uses_embedded_etcd:
        return None
    snapshots = spec.k3s.etcd_snapshots
    sudo = "sudo " if ssh_user != "root" else ""
    first = server_keys[0]
    return ssh_commands.apply(lambda commands: {
        "servers": list(server_keys),
        "local": f"{upstream.LOCAL_SNAPSHOT_DIR} on each server",
        "s3": snapshots.s3.url if snapshots.s3 else None,
        "schedule": snapshots.schedule or upstream.DEFAULT_SCHEDULE,
        "retention": snapshots.retention or upstream.DEFAULT_RETENTION,
        "beforeChanges": snapshots.before_changes,
        "list": f"{commands[first]} {sudo}k3s etcd-snapshot ls",
    })
