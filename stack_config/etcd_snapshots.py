"""``k3s.etcdSnapshots``: embedded etcd's scheduled snapshots, their off-node copy in S3, and
the snapshot the program takes before each change that can lose etcd data.

The S3 access and secret keys are credentials to every snapshot, and a snapshot holds every
Kubernetes Secret of the cluster: they must be set with ``pulumi config set --secret --path``.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Annotated

from pydantic import AfterValidator, PositiveInt, SecretStr, field_validator

from stack_config.base import StrictModel
from stack_config.cron import CronError, check_schedule
from stack_config.errors import ConfigProblem
from upstream import k3s_etcd_snapshots as upstream

# S3 bucket names: 3-63 lowercase letters, digits, '.', '-'; start and end alphanumeric.
# Ref: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# k3s's etcd-s3-endpoint is a host[:port] (the scheme follows etcd-s3-insecure).
_ENDPOINT = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?$")
_FOLDER = re.compile(r"^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$")


def _schedule(value: str) -> str:
    try:
        return check_schedule(value)
    except CronError as error:
        raise ValueError(f"'{value}' is not a cron schedule k3s accepts: {error}. Fix: write "
                         "five fields like '0 */6 * * *' (every 6 hours) or a descriptor like "
                         "'@daily'.") from None


Schedule = Annotated[str, AfterValidator(_schedule)]


def _not_empty(value: SecretStr) -> SecretStr:
    if not value.get_secret_value():
        raise ValueError("is empty. Fix: set it with pulumi config set --secret --path.")
    return value


# SecretStr: a credential never shows in a repr, a log line or an error message.
Credential = Annotated[SecretStr, AfterValidator(_not_empty)]


class S3Target(StrictModel):
    """Where k3s copies each snapshot: any S3-compatible service (Hetzner Object Storage:
    ``<location>.your-objectstorage.com``)."""

    endpoint: str
    """host[:port] of the S3 service, without ``https://``."""
    bucket: str
    """S3 bucket the snapshots are copied to."""
    folder: str | None = None
    """Prefix inside the bucket (e.g. the cluster name), so several clusters share a bucket."""
    region: str | None = None
    """Unset: the location for Hetzner Object Storage endpoints, else k3s's default."""
    access_key: Credential
    """Secret: set with ``pulumi config set --secret --path``."""
    secret_key: Credential
    """Secret: set with ``pulumi config set --secret --path``."""
    insecure: bool = False
    """Plain HTTP to the endpoint (snapshots hold every Secret in the cluster: avoid)."""

    @field_validator("endpoint")
    @classmethod
    def _host_only(cls, value: str) -> str:
        if "://" in value:
            raise ValueError(f"'{value}' has a scheme; k3s takes a host[:port] and picks https "
                             "(or http with insecure: true). Fix: write it without "
                             f"'{value.split('://')[0]}://', e.g. fsn1.your-objectstorage.com.")
        if not _ENDPOINT.match(value):
            raise ValueError(f"'{value}' is not a host[:port]. Fix: e.g. "
                             "fsn1.your-objectstorage.com or minio.example.com:9000.")
        return value

    @field_validator("bucket")
    @classmethod
    def _bucket_name(cls, value: str) -> str:
        if not _BUCKET.match(value) or ".." in value:
            raise ValueError(f"'{value}' is not an S3 bucket name. Fix: 3-63 lowercase "
                             "letters, digits, '.' and '-', starting and ending with a letter "
                             "or digit.")
        return value

    @field_validator("folder")
    @classmethod
    def _folder_path(cls, value: str | None) -> str | None:
        if value is not None and not _FOLDER.match(value):
            raise ValueError(f"'{value}' is not a folder k3s can use. Fix: segments of "
                             "letters, digits and -_.!*'() separated by '/', without a leading "
                             "or trailing '/'.")
        return value

    @property
    def hetzner_location(self) -> str | None:
        host = self.endpoint.split(":")[0]
        if host.endswith(upstream.HETZNER_OBJECT_STORAGE_SUFFIX):
            return host.removesuffix(upstream.HETZNER_OBJECT_STORAGE_SUFFIX)
        return None

    @property
    def effective_region(self) -> str | None:
        # Hetzner signs requests per location; its S3 client examples use the location as region.
        return self.region or self.hetzner_location

    @property
    def url(self) -> str:
        scheme = "http" if self.insecure else "https"
        path = f"{self.bucket}/{self.folder}" if self.folder else self.bucket
        return f"{scheme}://{self.endpoint}/{path}/"


class EtcdSnapshots(StrictModel):
    """k3s's snapshots of embedded etcd (every server keeps its own under
    /var/lib/rancher/k3s/server/db/snapshots; with ``s3`` each is also copied off the node)."""

    schedule: Schedule | None = None
    """Cron schedule; unset: k3s's default (every 12 hours)."""
    retention: PositiveInt | None = None
    """Snapshots kept per server (and in S3); unset: k3s's default (5)."""
    compress: bool = False
    """Compress each snapshot (k3s ``etcd-snapshot-compress``)."""
    s3: S3Target | None = None
    """Also copy every snapshot to an S3-compatible bucket, off the servers' own disks."""
    before_changes: bool = True
    """Take a named snapshot before each change that can lose etcd data, and stop the change if
    it fails. Turn off only to repair a server whose k3s does not run (see docs/backups.md)."""

def plain_text_credentials(snapshots: EtcdSnapshots,
                           secret_config_keys: Collection[str]) -> list[ConfigProblem]:
    """The S3 keys are credentials: the ``k3s`` config value that holds them must be a secret.

    Pulumi tells a program only which top-level keys are secret; a value set with
    ``pulumi config set --secret --path k3s.etcdSnapshots.s3.secretKey`` makes ``k3s`` secret.
    """
    if snapshots.s3 is None or "k3s-hcloud:k3s" in secret_config_keys:
        return []
    return [ConfigProblem(
        f"k3s.etcdSnapshots.s3.{key}",
        "is in plain text; it is a credential to every snapshot (and each snapshot holds every "
        "Secret of the cluster). Fix: pulumi config set --secret --path "
        f"'k3s.etcdSnapshots.s3.{key}' <value>")
        for key in ("accessKey", "secretKey")]
