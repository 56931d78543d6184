"""k3s's embedded-etcd snapshot facts: flag names, defaults, where snapshots land.

Read from k3s's own flag table, not from third-party guides:
Ref: https://github.com/k3s-io/k3s/blob/005499a940eafe99977bcabd6991a888a4cb6642/pkg/cli/cmds/server.go
     (``etcd-snapshot-schedule-cron`` default "0 */12 * * *", ``etcd-snapshot-retention``,
     ``etcd-snapshot-compress``, ``etcd-s3*``; the access/secret keys fall back to
     ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``)
Ref: https://github.com/k3s-io/k3s/blob/0326c3249cc583cc7ad66ff018b425a099d5c091/pkg/cli/cmds/etcd_snapshot.go
     (``k3s etcd-snapshot save --name`` "appended with UNIX timestamp"; ``ls``; the same S3 flags)
Ref: https://docs.k3s.io/datastore/backup-restore (cluster reset and restore from a snapshot)
"""

from __future__ import annotations

# k3s's own defaults: what a server does when the keys are not written.
DEFAULT_SCHEDULE = "0 */12 * * *"
DEFAULT_RETENTION = 5

# Flag (config.yaml key) names, server side. One name per fact; the config renderer and the
# policy pack read them from here.
SCHEDULE_FLAG = "etcd-snapshot-schedule-cron"
RETENTION_FLAG = "etcd-snapshot-retention"
COMPRESS_FLAG = "etcd-snapshot-compress"
DISABLE_FLAG = "etcd-disable-snapshots"
S3_FLAG = "etcd-s3"
S3_ENDPOINT_FLAG = "etcd-s3-endpoint"
S3_BUCKET_FLAG = "etcd-s3-bucket"
S3_FOLDER_FLAG = "etcd-s3-folder"
S3_REGION_FLAG = "etcd-s3-region"
S3_INSECURE_FLAG = "etcd-s3-insecure"
S3_ACCESS_KEY_FLAG = "etcd-s3-access-key"
S3_SECRET_KEY_FLAG = "etcd-s3-secret-key"

# Every snapshot/S3 key of the server's flag table (the dedicated config owns all of them).
SNAPSHOT_KEY_PREFIXES = ("etcd-snapshot", S3_FLAG, DISABLE_FLAG)
SECRET_FLAGS = frozenset({S3_ACCESS_KEY_FLAG, S3_SECRET_KEY_FLAG})

# Where on-node snapshots go: ${data-dir}/db/snapshots, data-dir /var/lib/rancher/k3s.
SERVER_DATA_DIR = "/var/lib/rancher/k3s/server"
ETCD_DATA_DIR = f"{SERVER_DATA_DIR}/db/etcd"
LOCAL_SNAPSHOT_DIR = f"{SERVER_DATA_DIR}/db/snapshots"

# Hetzner Object Storage: one S3 endpoint per location.
# Ref: https://docs.hetzner.com/storage/object-storage/overview (endpoints <location>.your-objectstorage.com)
HETZNER_OBJECT_STORAGE_SUFFIX = ".your-objectstorage.com"
