"""Embedded etcd on the fake node (tests/fake_node.py): ``k3s etcd-snapshot save|ls``,
``k3s server --cluster-reset``, and ``systemctl stop``, scripted through state files.

Flags a test can set: ``snapshot-failures`` (how many saves fail), ``reset-fails``,
``start-fails`` (k3s does not come up after a restart). Snapshots live in ``state/snapshots``;
the restore records its source in ``state/restored-from``.
"""

from __future__ import annotations

from pathlib import Path

from tests.fake_node import K3S_STUB, SYSTEMCTL_STUB, FakeNode
from upstream.k3s_etcd_snapshots import ETCD_DATA_DIR, SERVER_DATA_DIR

ETCD_CASES = r'''
if [[ "$1" == etcd-snapshot || "$1" == server ]]; then
  echo "k3s $*" >>"$STUB_STATE/calls.log"
  case "$1 $2" in
    "etcd-snapshot save")
      left=$(cat "$STUB_STATE/snapshot-failures" 2>/dev/null || echo 0)
      if ((left > 0)); then
        echo $((left - 1)) >"$STUB_STATE/snapshot-failures"
        echo "etcd-snapshot: failed to upload to S3" >&2; exit 1
      fi
      mkdir -p "$STUB_STATE/snapshots"; touch "$STUB_STATE/snapshots/$4-node-1764480000"
      echo "Snapshot $4-node-1764480000 saved." ;;
    "etcd-snapshot ls") ls -1 "$STUB_STATE/snapshots" 2>/dev/null || true ;;
    "server --cluster-reset")
      [[ ! -f "$STUB_STATE/reset-fails" ]] || { echo "restore: snapshot corrupt" >&2; exit 1; }
      echo "${3#--cluster-reset-restore-path=}" >"$STUB_STATE/restored-from"
      echo "Managed etcd cluster membership has been reset" >&2 ;;
    *) echo "unexpected k3s $*" >&2; exit 2 ;;
  esac
  exit 0
fi
'''

SYSTEMCTL_CASES = r'''
case "$*" in
  stop*) echo "${0##*/} $*" >>"$STUB_STATE/calls.log"; rm -f "$STUB_STATE/active"; exit 0 ;;
  *restart*)
    if [[ -f "$STUB_STATE/start-fails" ]]; then
      echo "${0##*/} $*" >>"$STUB_STATE/calls.log"; rm -f "$STUB_STATE/active"; exit 0
    fi ;;
esac
'''


def etcd_server(base: Path, version: str = "v1.35.3+k3s1", *, etcd_data: bool = True) -> FakeNode:
    """A running k3s server; with ``etcd_data``, its etcd has a member directory."""
    node = FakeNode.create(base)
    node.install_k3s(version)
    node.stub("k3s", ETCD_CASES + K3S_STUB.replace("__VERSION__", version))
    node.stub("systemctl", SYSTEMCTL_CASES + SYSTEMCTL_STUB)
    if etcd_data:
        node.file(f"{ETCD_DATA_DIR}/member/snap").mkdir(parents=True)
    return node


def snapshots(node: FakeNode) -> list[str]:
    folder = node.state / "snapshots"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def running(node: FakeNode) -> bool:
    return (node.state / "active").exists()
