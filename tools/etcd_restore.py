"""Bring a cluster back from a named etcd snapshot, over the same SSH path as the bootstrap.

    python tools/etcd_restore.py --stack NAME --snapshot SNAPSHOT [--from STEP] [--yes]

Steps, each one ``components/bootstrap/scripts/etcd-restore.sh`` on one server, in this order:
``check`` (first server: k3s lists the snapshot) → ``stop:<server>`` (the others, then the
first) → ``reset`` (first server: ``k3s server --cluster-reset --cluster-reset-restore-path``,
then start) → ``rejoin:<server>`` (each other server, one at a time: old etcd data moved aside,
k3s started). The first failing step stops the run and says where the cluster stands and how to
resume (``--from <step>``). Servers and SSH commands come from the stack outputs
``etcdSnapshots`` and ``sshCommands`` (``pulumi stack output``).

A tool, not a config key: a restore is needed when the cluster is broken, when ``pulumi up``
may not get as far as the bootstrap (its Kubernetes layer needs a working API); it must run
exactly once, and a key honoured once would stay in the stack file, where a later edit or a new
stack from a copy would restore again. Ref: https://docs.k3s.io/datastore/backup-restore
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from components.bootstrap.remote_script import remote_script  # noqa: E402
from upstream import k3s as upstream_k3s  # noqa: E402
from upstream.k3s_etcd_snapshots import LOCAL_SNAPSHOT_DIR, SERVER_DATA_DIR  # noqa: E402

SCRIPT = "etcd-restore.sh"
EXIT_OK, EXIT_USAGE, EXIT_FAILED = 0, 1, 4
_SNAPSHOT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class Step:
    name: str
    """``check``, ``stop:<server>``, ``reset`` or ``rejoin:<server>``."""
    server: str
    action: str


@dataclass(frozen=True)
class Outcome:
    ok: bool
    output: str


# Runs one command line on one server (key), the way `ssh <target> <command line>` would.
Runner = Callable[[str, str], Outcome]


def restore_steps(servers: Sequence[str]) -> list[Step]:
    first, others = servers[0], list(servers[1:])
    return ([Step("check", first, "check")]
            + [Step(f"stop:{key}", key, "stop") for key in [*others, first]]
            + [Step("reset", first, "reset")]
            + [Step(f"rejoin:{key}", key, "rejoin") for key in others])


def command_line(step: Step, snapshot: str, sudo: bool) -> str:
    return remote_script(SCRIPT, {
        "STEP": step.action,
        "SNAPSHOT": snapshot,
        "SNAPSHOT_DIR": LOCAL_SNAPSHOT_DIR,
        "SERVER_DB_DIR": f"{SERVER_DATA_DIR}/db",
        "K3S_SERVICE": upstream_k3s.SERVICE_BY_ROLE["server"],
    }, sudo=sudo)


def where_it_stands(done: Sequence[Step], failed: Step, servers: Sequence[str]) -> str:
    stopped = {s.server for s in done if s.action == "stop"}
    if failed.action == "check" or not stopped:
        return "Nothing was changed: every server runs as before."
    if failed.action == "stop":
        return (f"Stopped so far: {', '.join(sorted(stopped)) or 'none'}. To abandon the "
                "restore, start them again (systemctl start k3s); etcd keeps its quorum once "
                "they are back.")
    if failed.action == "reset":
        return ("Every server is stopped: the cluster is down. k3s keeps the data from before "
                "the reset under /var/lib/rancher/k3s/server/db/etcd-old-*; fix the cause and "
                "resume, or restore another snapshot.")
    rejoined = [s.server for s in done if s.action == "rejoin"]
    waiting = [key for key in servers[1:] if key not in rejoined]
    return (f"The cluster runs on the restored data with {', '.join([servers[0], *rejoined])}; "
            f"not yet rejoined: {', '.join(waiting)} (stopped, old data kept under "
            "/var/lib/rancher/k3s/server/db.before-restore).")


def run_restore(servers: Sequence[str], snapshot: str, runner: Runner, *, sudo: bool,
                start: str | None = None, say: Callable[[str], None] = print) -> int:
    steps = restore_steps(servers)
    names = [step.name for step in steps]
    if start is not None and start not in names:
        say(f"error: --from {start}: no such step; steps: {', '.join(names)}")
        return EXIT_USAGE
    todo = steps[names.index(start):] if start else steps
    done: list[Step] = steps[:len(steps) - len(todo)]
    for step in todo:
        say(f"-> {step.name} on {step.server}")
        outcome = runner(step.server, command_line(step, snapshot, sudo))
        if outcome.output.strip():
            say(outcome.output.rstrip())
        if not outcome.ok:
            say(f"FAILED at step {step.name} on {step.server}.")
            say(where_it_stands(done, step, servers))
            say(f"Resume after fixing the cause: python tools/etcd_restore.py --snapshot "
                f"{snapshot} --from {step.name} ...")
            return EXIT_FAILED
        done.append(step)
    say(f"Restored {snapshot}: {servers[0]} reset, {', '.join(servers[1:]) or 'no other server'}"
        " rejoined. Agents reconnect by themselves; check with kubectl get nodes.")
    return EXIT_OK


def ssh_runner(ssh_commands: dict[str, str]) -> Runner:
    def run(server: str, line: str) -> Outcome:
        ssh, *target = shlex.split(ssh_commands[server])
        # Options before the destination: after it, ssh would send them as the command.
        argv = [ssh, "-o", "BatchMode=yes", *target, line]
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        return Outcome(result.returncode == 0, result.stdout + result.stderr)
    return run


def stack_output(stack: str, name: str) -> object:
    result = subprocess.run(["pulumi", "stack", "output", name, "--json", "--stack", stack],
                            capture_output=True, text=True, check=True, cwd=PROJECT_DIR)
    return json.loads(result.stdout)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--snapshot", required=True, help="a name from k3s etcd-snapshot ls")
    parser.add_argument("--from", dest="start", help="resume at this step (printed on failure)")
    parser.add_argument("--yes", action="store_true", help="do not ask before stopping servers")
    args = parser.parse_args(argv)
    if not _SNAPSHOT.match(args.snapshot):
        print(f"error: --snapshot '{args.snapshot}' is not a snapshot name from "
              "k3s etcd-snapshot ls", file=sys.stderr)
        return EXIT_USAGE
    try:
        hints = stack_output(args.stack, "etcdSnapshots")
        ssh = stack_output(args.stack, "sshCommands")
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"error: cannot read the stack outputs ({error}); run from the project folder "
              "with the pulumi CLI logged in to the stack's backend", file=sys.stderr)
        return EXIT_USAGE
    if not isinstance(hints, dict) or not isinstance(ssh, dict):
        print("error: the stack has no etcdSnapshots output (external datastore?)",
              file=sys.stderr)
        return EXIT_USAGE
    servers = list(hints["servers"])
    sudo = not ssh[servers[0]].split()[-1].startswith("root@")
    if not args.yes:
        answer = input(f"Stop k3s on {', '.join(servers)} and restore {args.snapshot}? "
                       "The cluster is down until the first server is back. [y/N] ")
        if answer.strip().lower() != "y":
            return EXIT_USAGE
    return run_restore(servers, args.snapshot, ssh_runner(ssh), sudo=sudo, start=args.start)


if __name__ == "__main__":
    sys.exit(main())
