"""A fake node for running the bootstrap scripts for real: a temporary root (``K3S_ROOT``) and
stub ``curl``, ``systemctl``, ``k3s``, ``cloud-init``, ``pgrep``, ``sysctl``, ``sleep`` on PATH.

The stubs keep their state in files under ``state/`` and log every call to ``calls.log``, so a
test can script failures ("curl fails twice", "k3s is unhealthy with this config") and then
assert on what the script did (retries, restarts, rollbacks).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from components.bootstrap.remote_script import SCRIPTS_DIR

# Absolute bash: with an isolated PATH, `env bash` would find nothing.
STUB_HEADER = f"#!{shutil.which('bash') or '/bin/bash'}\nset -euo pipefail\n"
LOG = 'echo "${0##*/} $*" >>"$STUB_STATE/calls.log"\n'

# k3s: version from the stub's own text; `kubectl` answers from state files (registered nodes
# under nodes/, one annotation value per node under annotations/ and one label value under
# labels/ (what a jsonpath query reads), `not-ready` fails a wait,
# Leases under leases/ as "resourceVersion|holder|renewTime|duration", with the API's create
# (AlreadyExists) and replace (resourceVersion Conflict) semantics).
K3S_STUB = LOG + r'''
case "$1" in
  --version) echo "k3s version __VERSION__ (stub)"; echo "go version go1.24 (stub)" ;;
  kubectl)
    shift
    case "$1 $2" in
      "get --raw")
        [[ -f "$STUB_STATE/active" && ! -f "$STUB_STATE/api-down" ]] ;;
      "get node")
        [[ ! -f "$STUB_STATE/api-down" ]] || { echo "connection refused" >&2; exit 1; }
        if [[ -f "$STUB_STATE/appear-after" ]]; then
          left=$(cat "$STUB_STATE/appear-after")
          if ((left > 0)); then echo $((left - 1)) >"$STUB_STATE/appear-after"; exit 0; fi
          mkdir -p "$STUB_STATE/nodes"; touch "$STUB_STATE/nodes/$3"
        fi
        if [[ "$*" == *jsonpath=*labels* ]]; then
          cat "$STUB_STATE/labels/$3" 2>/dev/null || true
          exit 0
        fi
        if [[ "$*" == *jsonpath=* ]]; then
          cat "$STUB_STATE/annotations/$3" 2>/dev/null || true
          exit 0
        fi
        if [[ -f "$STUB_STATE/nodes/$3" ]]; then echo "node/$3"; fi ;;
      "annotate node")
        mkdir -p "$STUB_STATE/annotations"
        case "$4" in
          *-) rm -f "$STUB_STATE/annotations/$3" ;;
          *) printf '%s' "${4#*=}" >"$STUB_STATE/annotations/$3" ;;
        esac ;;
      "wait --for=condition=Ready") [[ ! -f "$STUB_STATE/not-ready" ]] ;;
      "drain "*) [[ ! -f "$STUB_STATE/drain-fails" ]] || { echo "drain: PDB" >&2; exit 1; } ;;
      "delete node") rm -f "$STUB_STATE/nodes/$3" ;;
      "get lease")
        [[ ! -f "$STUB_STATE/api-down" ]] || { echo "connection refused" >&2; exit 1; }
        cat "$STUB_STATE/leases/$3" 2>/dev/null || true ;;
      "create -f" | "replace -f")
        manifest="$(cat)"
        field() { sed -n "s/^ *$1: \"\{0,1\}\([^\"]*\)\"\{0,1\}\$/\1/p" <<<"$manifest"; }
        lease="$STUB_STATE/leases/$(field name)"
        mkdir -p "$STUB_STATE/leases"
        if [[ "$1" == create ]]; then
          [[ ! -f "$lease" ]] || { echo "AlreadyExists" >&2; exit 1; }
          version=1
        else
          [[ -f "$lease" ]] || { echo "NotFound" >&2; exit 1; }
          stored="$(cut -d'|' -f1 "$lease")"
          [[ "$(field resourceVersion)" == "$stored" ]] || { echo "Conflict" >&2; exit 1; }
          version=$((stored + 1))
        fi
        printf '%s|%s|%s|%s' "$version" "$(field holderIdentity)" "$(field renewTime)" \
          "$(field leaseDurationSeconds)" >"$lease" ;;
      *) ;;
    esac ;;
  *) echo "unexpected k3s $*" >&2; exit 2 ;;
esac
'''

# systemctl: a restart makes the service active unless the config on disk asks to break it.
SYSTEMCTL_STUB = LOG + r'''
case "$*" in
  *is-active*) [[ -f "$STUB_STATE/active" ]] ;;
  *restart*)
    if grep -qs break-me "$K3S_ROOT/etc/rancher/k3s/config.yaml" ||
       [[ -f "$STUB_STATE/unhealthy-version" && "$(k3s --version | awk 'NR==1{print $3}')" == "$(cat "$STUB_STATE/unhealthy-version")" ]]; then
      rm -f "$STUB_STATE/active"
    else
      touch "$STUB_STATE/active"
    fi ;;
  *) ;;
esac
'''

# curl: fails as many times as state/curl-failures says, then "downloads" the fake installer.
CURL_STUB = LOG + r'''
out=""
while (($#)); do
  if [[ "$1" == -o ]]; then out="$2"; shift; fi
  shift
done
failures=$(cat "$STUB_STATE/curl-failures" 2>/dev/null || echo 0)
if ((failures > 0)); then echo $((failures - 1)) >"$STUB_STATE/curl-failures"; exit 7; fi
cp "$STUB_STATE/installer.sh" "$out"
'''

# The fake installer: records its environment and installs a k3s stub of the asked version.
INSTALLER = r'''#!/bin/sh
set -e
echo "installer INSTALL_K3S_VERSION=$INSTALL_K3S_VERSION INSTALL_K3S_EXEC=$INSTALL_K3S_EXEC INSTALL_K3S_SKIP_START=$INSTALL_K3S_SKIP_START umask=$(umask)" >>"$STUB_STATE/calls.log"
if [ -f "$STUB_STATE/installer-fails" ]; then echo "installer: download failed" >&2; exit 1; fi
sed "s/__VERSION__/$INSTALL_K3S_VERSION/" "$STUB_STATE/k3s.template" >"$STUB_BIN/k3s"
chmod +x "$STUB_BIN/k3s"
'''

# cloud-init and pgrep: exit with the next code from a sequence file (last code repeats).
SEQUENCE_STUB = LOG + r'''
file="$STUB_STATE/${0##*/}.codes"
read -r -a codes <"$file"
code="${codes[0]}"
if ((${#codes[@]} > 1)); then echo "${codes[@]:1}" >"$file"; fi
exit "$code"
'''


@dataclass
class FakeNode:
    root: Path
    bin: Path
    state: Path

    @classmethod
    def create(cls, base: Path) -> "FakeNode":
        node = cls(root=base / "root", bin=base / "bin", state=base / "state")
        for path in (node.root, node.bin, node.state):
            path.mkdir(parents=True)
        (node.state / "installer.sh").write_text(INSTALLER)
        (node.state / "k3s.template").write_text(STUB_HEADER + K3S_STUB)
        node.stub("systemctl", SYSTEMCTL_STUB)
        node.stub("curl", CURL_STUB)
        node.stub("sysctl", LOG)
        node.stub("sleep", LOG)
        node.stub("cloud-init", SEQUENCE_STUB)
        node.stub("pgrep", SEQUENCE_STUB)
        node.sequence("cloud-init", [0])
        node.sequence("pgrep", [1])
        return node

    def stub(self, name: str, body: str) -> None:
        path = self.bin / name
        path.write_text(STUB_HEADER + body)
        path.chmod(0o755)

    def sequence(self, name: str, codes: list[int]) -> None:
        (self.state / f"{name}.codes").write_text(" ".join(map(str, codes)) + "\n")

    def install_k3s(self, version: str) -> None:
        """As if a previous run had installed k3s ``version`` and it is running."""
        self.stub("k3s", K3S_STUB.replace("__VERSION__", version))
        (self.state / "active").touch()

    def flag(self, name: str, value: str = "") -> None:
        (self.state / name).write_text(value)

    def calls(self) -> list[str]:
        log = self.state / "calls.log"
        return log.read_text().splitlines() if log.exists() else []

    def reset_calls(self) -> None:
        (self.state / "calls.log").unlink(missing_ok=True)

    def file(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    def env(self, isolated_path: bool = False, **extra: str) -> dict[str, str]:
        # An isolated PATH holds only the stubs: `command -v cloud-init` then finds nothing
        # but what the test planted (the development machine has a real cloud-init).
        path = str(self.bin) if isolated_path else f"{self.bin}:{os.environ['PATH']}"
        return {"PATH": path, "HOME": str(self.root), "K3S_ROOT": str(self.root),
                "STUB_STATE": str(self.state), "STUB_BIN": str(self.bin), **extra}

    def run_script(self, name: str, stdin: str = "", isolated_path: bool = False,
                   **env: str) -> subprocess.CompletedProcess[str]:
        bash = shutil.which("bash") or "/bin/bash"
        return subprocess.run([bash, str(SCRIPTS_DIR / name)], input=stdin, text=True,
                              capture_output=True, env=self.env(isolated_path, **env),
                              timeout=60)

    def run_command_line(self, command_line: str, stdin: str = "",
                         **env: str) -> subprocess.CompletedProcess[str]:
        """Run a command line exactly as a node's login shell would (``sh -c``)."""
        return subprocess.run(["/bin/sh", "-c", command_line], input=stdin, text=True,
                              capture_output=True, env=self.env(**env), timeout=60)
