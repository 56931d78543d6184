"""What a config change would create, update, replace or delete — before you apply it.

    python tools/blast_radius.py [--stack NAME | --stack-file PATH]
                                 --set PATH=VALUE ... [--unset PATH ...] [--preview] [--json]

Plans the stack as it is and as edited (offline, under mocks) and diffs the two plans with
``tools/lib/plan_diff.py``. Paths address the ``k3s-hcloud:`` config like ``pulumi config set
--path`` (``controlPlane.count=3``, ``workerPools[general].count=5``,
``cilium.values.hubble.relay.enabled=true``; see ``tools/lib/config_edits.py``). ``--preview`` shows
what ``pulumi preview`` would display (outputs of re-run commands unknown) instead of what
``pulumi up`` does.

Exit codes: 0 the diff is shown · 1 invalid config or edit (no traceback) · 3 the program failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import traceback
from pathlib import Path

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from stack_config.errors import ConfigError  # noqa: E402
from stack_config.identity import DestructiveEditError  # noqa: E402
from tools.lib.config_edits import (  # noqa: E402
    ConfigEditError,
    parse_assignment,
    parse_path,
    set_value,
    unset_value,
)
from tools.lib.engine import Plan, run_program  # noqa: E402
from tools.lib.plan_diff import (  # noqa: E402
    KINDS,
    PlanDiff,
    ResourceChange,
    diff_plans,
    readdressed_servers,
)
from tools.lib.stack_files import StackFileError, load_stack_config, read_yaml  # noqa: E402

EXIT_OK, EXIT_CONFIG, EXIT_PROGRAM = 0, 1, 3
SERVER = "hcloud:index/server:Server"
MARKS = {"create": "+", "update": "~", "replace": "+-", "delete": "-"}


def edited_config(stack_file: Path, sets: list[str], unsets: list[str]) -> dict:
    config = dict(read_yaml(stack_file).get("config") or {})
    for assignment in sets:
        path, value = parse_assignment(assignment)
        set_value(config, path, value)
    for path in unsets:
        unset_value(config, parse_path(path))
    return config


def plan_file(stack_file: Path, stack: str, previous: Plan | None = None) -> Plan:
    """``previous``: plan as an update of the cluster ``previous`` describes (its outputs)."""
    outputs = {name: out.value for name, out in previous.outputs.items()} if previous else None
    return run_program(PROJECT_DIR, load_stack_config(PROJECT_DIR, stack_file, stack), outputs)


def plan_edit(stack_file: Path, stack: str, config: dict, before: Plan, directory: Path
              ) -> tuple[Plan, DestructiveEditError | None]:
    """The edited stack planned as an update of ``before``; when the program refuses the edit
    as destructive, the refusal and the plan with its acknowledgements (what it would do)."""
    edited = directory / f"Pulumi.{stack}.yaml"
    document = read_yaml(stack_file)
    edited.write_text(yaml.safe_dump({**document, "config": config}, sort_keys=False))
    try:
        return plan_file(edited, stack, before), None
    except DestructiveEditError as refusal:
        key = "k3s-hcloud:acknowledge"
        acknowledged = {**config, key: sorted({*config.get(key, []), *refusal.acknowledgements})}
        edited.write_text(yaml.safe_dump({**document, "config": acknowledged}, sort_keys=False))
        return plan_file(edited, stack, before), refusal


def describe(change: ResourceChange) -> str:
    detail = []
    if change.kind == "update":
        detail.append(", ".join(change.changed_paths))
    if change.replace_reasons:
        detail.append("; ".join(change.replace_reasons))
    if change.scripts:
        detail.append("runs " + " + ".join(change.scripts))
    suffix = f"  ({' | '.join(detail)})" if detail else ""
    return f"  {MARKS[change.kind]:<2} {change.kind:<7} {change.type}  {change.name}{suffix}"


def render_text(diff: PlanDiff, stack: str, edits: list[str], preview: bool,
                show_components: bool, readdressed: dict[str, list[str]] | None = None) -> str:
    shown = diff.changes if show_components else diff.actions()
    view = "pulumi preview would show it" if preview else "pulumi up would apply it"
    lines = [f"Blast radius of {', '.join(edits)} on stack {stack} (as {view}):"]
    lines += [describe(change) for change in shown] or ["  no change"]
    counts = {kind: sum(1 for c in shown if c.kind == kind) for kind in KINDS}
    servers = [c.name for c in diff.replaced if c.type == SERVER]
    lines += ["", "Summary: " + ", ".join(f"{n} to {kind}" for kind, n in counts.items()) +
              f"; {len(diff.commands_run())} remote script(s) run; servers replaced: "
              + (", ".join(servers) or "none") + "; nodes re-addressed: "
              + (", ".join(f"{name} ({'+'.join(what)})" for name, what in
                           sorted((readdressed or {}).items())) or "none")]
    return "\n".join(lines)


def to_json(diff: PlanDiff) -> list[dict]:
    return [{"urn": c.urn, "type": c.type, "name": c.name, "kind": c.kind, "custom": c.custom,
             "changedPaths": c.changed_paths, "replaceReasons": c.replace_reasons,
             "scripts": list(c.scripts)} for c in diff.changes]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--stack", default=None, help="stack name: reads Pulumi.<NAME>.yaml")
    which.add_argument("--stack-file", type=Path, help="path to a stack config file")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="PATH=VALUE")
    parser.add_argument("--unset", dest="unsets", action="append", default=[], metavar="PATH")
    parser.add_argument("--preview", action="store_true",
                        help="what pulumi preview shows (unknown outputs) instead of pulumi up")
    parser.add_argument("--components", action="store_true", help="list component changes too")
    parser.add_argument("--json", action="store_true", help="the changes as JSON on stdout")
    args = parser.parse_args(argv)
    if not args.sets and not args.unsets:
        parser.error("give at least one --set or --unset")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    stack = args.stack or (args.stack_file.name.removeprefix("Pulumi.").rsplit(".", 1)[0]
                           if args.stack_file else "dev")
    stack_file = args.stack_file or PROJECT_DIR / f"Pulumi.{stack}.yaml"
    try:
        config = edited_config(stack_file, args.sets, args.unsets)
        before = plan_file(stack_file, stack)
        with tempfile.TemporaryDirectory() as directory:
            after, refusal = plan_edit(stack_file, stack, config, before, Path(directory))
    except (ConfigError, StackFileError, ConfigEditError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except Exception:  # noqa: BLE001 — a bug in the program, not bad input: show everything
        traceback.print_exc()
        return EXIT_PROGRAM
    diff = diff_plans(before, after, preview=args.preview)
    if refusal is not None:
        print(f"REFUSED on a running cluster without acknowledgement — {refusal}\n"
              f"Below: what it would do with acknowledge: {refusal.acknowledgements}\n",
              file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps(to_json(diff), indent=2))
    else:
        print(render_text(diff, stack, [*args.sets, *(f"unset {p}" for p in args.unsets)],
                          args.preview, args.components, readdressed_servers(before, after)))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
