"""Offline plan: run the program for one stack under mocks and show what it would register.

    python tools/plan.py [--stack NAME | --stack-file PATH] [--json] [--out DIR]
                         [--policy-config FILE] [--program DIR]
                         [--diff BASE_STACK_FILE] [--markdown FILE] [--diagram FILE.svg]
                         [--previous-outputs FILE] [--stack-reference STACK=FILE ...]

``--previous-outputs`` plans the stack as an update of a cluster that exists: the file holds the
stack's outputs from its last update (``pulumi stack output --json``), which the program reads
back to refuse destructive edits (``clusterIdentity``; see stack_config/identity.py).

``--stack-reference STACK=FILE`` answers the program's ``StackReference`` to another stack (a
Cluster Mesh peer, the owner of a shared network) with that stack's outputs: ``pulumi stack output
--json`` of it, or the ``--json`` of its own offline plan. Masked secrets (``[secret]``) read as
not published.

Exit codes: 0 fine (advisories allowed) · 1 invalid config (key path, no traceback) ·
2 a mandatory policy violation · 3 the program itself failed (a bug: traceback shown).
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from collections import Counter
from pathlib import Path
from typing import Any, NoReturn

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from stack_config.errors import ConfigError  # noqa: E402
from tools.lib.engine import (  # noqa: E402
    ORGANIZATION, SECRET_MASK, Plan, mask_secrets, run_program)
from tools.lib.machine_files import write_machine_files  # noqa: E402
from tools.lib.diagram import render_svg  # noqa: E402
from tools.lib.plan_report import render_summary_markdown, render_summary_text, summarize  # noqa: E402, E501
from tools.lib.plan_review import Review, render_markdown, review, review_to_json  # noqa: E402
from tools.lib.plan_review import render_text as render_review_text  # noqa: E402
from tools.lib.policy_gate import Violation, evaluate, load_pack_config  # noqa: E402
from tools.lib.stack_files import StackFileError, load_stack_config  # noqa: E402

EXIT_OK, EXIT_CONFIG, EXIT_POLICY, EXIT_PROGRAM = 0, 1, 2, 3


def plan_to_json(plan: Plan, violations: list[Violation]) -> dict[str, Any]:
    return {
        "stack": plan.stack,
        "resources": [
            {
                "urn": r.urn,
                "type": r.type,
                "name": r.name,
                "parent": r.parent,
                "custom": r.custom,
                "inputs": r.masked_inputs(),
                "secretInputs": r.secret_input_paths(),
                "dependencies": r.dependencies,
                "provider": r.provider,
                "options": r.options,
            }
            for r in plan.resources
        ],
        "outputs": {name: SECRET_MASK if out.secret else mask_secrets(out.value)
                    for name, out in plan.outputs.items()},
        "violations": [v.to_json() for v in violations],
        "warnings": plan.warnings(),
    }


def render_tree(plan: Plan) -> str:
    """Components as a tree, each with the custom resources directly under it, counted by type."""
    children: dict[str | None, list] = {}
    for resource in plan.resources:
        children.setdefault(resource.parent, []).append(resource)

    lines: list[str] = []

    def walk(parent: str | None, depth: int) -> None:
        kids = children.get(parent, [])
        counts = Counter(_short_type(r.type) for r in kids if r.custom)
        indent = "  " * depth
        for type_name, count in sorted(counts.items()):
            lines.append(f"{indent}{count:>3} × {type_name}")
        for component in (r for r in kids if not r.custom):
            total = _count_custom(component.urn, children)
            lines.append(f"{indent}{component.name} ({_short_type(component.type)}): "
                         f"{total} resource(s)")
            walk(component.urn, depth + 1)

    walk(None, 0)
    return "\n".join(lines)


def _count_custom(urn: str, children: dict[str | None, list]) -> int:
    return sum(1 if r.custom else _count_custom(r.urn, children) for r in children.get(urn, []))


def _short_type(resource_type: str) -> str:
    # "hcloud:index/server:Server" → "hcloud:Server"; "command:remote:Command" stays readable.
    package, _, rest = resource_type.partition(":")
    return f"{package}:{rest.rsplit(':', 1)[-1]}"


def render_text(plan: Plan, violations: list[Violation], notes: list[str]) -> str:
    custom = sum(1 for r in plan.resources if r.custom)
    out = [f"Stack {plan.project}/{plan.stack}: {custom} resource(s) in "
           f"{len(plan.resources) - custom} component(s)", "", render_tree(plan), ""]
    out.append("Outputs:")
    for name, recorded in sorted(plan.outputs.items()):
        shown = SECRET_MASK if recorded.secret else json.dumps(mask_secrets(recorded.value))
        out.append(f"  {name}: {shown}")
    out.append("")
    # Which inputs are hidden, down to the nested value: a secret seed inside Helm values hides
    # only itself (the values are in --json and --out).
    secret_inputs = [f"  {r.name}: {', '.join(r.secret_input_paths())}"
                     for r in plan.resources if r.secret_input_paths()]
    out.append("Secret inputs:" if secret_inputs else "Secret inputs: none")
    out.extend(secret_inputs)
    out.append("")
    out.append(render_findings(plan, violations, notes))
    return "\n".join(out)


def render_findings(plan: Plan, violations: list[Violation], notes: list[str]) -> str:
    findings = [f"  warning: {w}" for w in plan.warnings()]
    findings += [f"  {v.enforcement_level}: [{v.policy}] {v.message} ({v.urn})" for v in violations]
    findings += [f"  note: {n}" for n in notes]
    return "\n".join(["Findings:" if findings else "Findings: none", *findings])


class UsageError(Exception):
    """A command-line argument that cannot be used; exit 1 with the message, no traceback."""


class _Parser(argparse.ArgumentParser):
    # argparse exits 2 on bad arguments, which this tool's contract reserves for policy
    # violations: report the problem and exit 1 instead.
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}. Fix: see `python tools/plan.py --help`.")


ENFORCEMENT_LEVELS = ("advisory", "mandatory", "remediate", "disabled")
# The list of files a previous `--out` run wrote: the only files a later run may replace.
OUT_MANIFEST = ".k3s-hcloud-plan-files.json"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = _Parser(description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--stack", default=None, help="stack name: reads Pulumi.<NAME>.yaml")
    which.add_argument("--stack-file", type=Path, help="path to a stack config file")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--out", type=Path, help="write rendered machine files to this directory")
    parser.add_argument("--policy-config", type=Path,
                        help="policy pack config JSON (the format of --policy-pack-config)")
    parser.add_argument("--program", type=Path, default=PROJECT_DIR,
                        help="directory of the Pulumi program to run (default: this project); "
                             "e.g. a hand-written program to check against the policy pack")
    parser.add_argument("--previous-outputs", type=Path,
                        help="JSON of the stack's last outputs (pulumi stack output --json): "
                             "plan as an update of the existing cluster")
    parser.add_argument("--stack-reference", action="append", default=[], metavar="STACK=FILE",
                        help="another stack's outputs (pulumi stack output --json, or this "
                             "tool's --json plan of it), for the program's StackReferences; "
                             "repeatable")
    parser.add_argument("--diff", type=Path, metavar="BASE_STACK_FILE",
                        help="compare with this stack file (e.g. the pull request's base): what "
                             "would be created, updated, replaced, deleted")
    parser.add_argument("--markdown", type=Path, metavar="FILE",
                        help="also write the summary (or with --diff, the change) as Markdown")
    parser.add_argument("--diagram", type=Path, metavar="FILE.svg",
                        help="also draw the planned cluster as an SVG picture")
    return parser.parse_args(argv)


def read_previous_outputs(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        outputs = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise StackFileError(f"--previous-outputs {path}: not a JSON file of stack outputs "
                             f"({error}). Fix: pulumi stack output --json > {path.name}") from None
    if not isinstance(outputs, dict):
        raise StackFileError(f"--previous-outputs {path}: expected a JSON object of outputs")
    return outputs


def read_stack_references(entries: list[str], project: str) -> dict[str, dict[str, Any]]:
    """``STACK=FILE`` entries → outputs by ``organization/project/stack`` (as the engine names
    them); ``STACK`` may be ``stack``, ``project/stack`` or ``org/project/stack``."""
    references: dict[str, dict[str, Any]] = {}
    for entry in entries:
        stack, separator, file = entry.partition("=")
        if not separator or not stack or not file:
            raise StackFileError(f"--stack-reference {entry!r}: expected STACK=FILE. Fix: e.g. "
                                 "--stack-reference mesh-a=mesh-a.json")
        try:
            outputs = json.loads(Path(file).read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise StackFileError(f"--stack-reference {entry}: not a JSON file of stack outputs "
                                 f"({error}). Fix: pulumi stack output --json -s {stack} > "
                                 f"{file}") from None
        if isinstance(outputs, dict) and isinstance(outputs.get("outputs"), dict) \
                and "resources" in outputs:
            outputs = outputs["outputs"]  # this tool's --json plan of that stack
        if not isinstance(outputs, dict):
            raise StackFileError(f"--stack-reference {entry}: expected a JSON object of outputs")
        parts = stack.split("/")
        name = "/".join([ORGANIZATION, project][: 3 - len(parts)] + parts)
        references[name] = {key: value for key, value in outputs.items()
                            if value != SECRET_MASK}
    return references


def read_policy_config(path: Path | None) -> dict[str, Any]:
    """The policy pack config (``--policy-pack-config`` format), checked before the plan runs."""
    if path is None:
        return {}
    try:
        document = load_pack_config(path)
    except OSError as error:
        raise UsageError(f"--policy-config {path}: cannot be read ({error.strerror or error}). "
                         "Fix: pass an existing JSON file.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise UsageError(f"--policy-config {path}: not valid JSON ({error}). Fix: write a JSON "
                         'object such as {"all": "mandatory"}.') from None
    if not isinstance(document, dict):
        raise UsageError(f"--policy-config {path}: expected a JSON object of policy names. Fix: "
                         'write e.g. {"all": "mandatory"}.')
    for name, entry in document.items():
        level = entry.get("enforcementLevel") if isinstance(entry, dict) else entry
        if not isinstance(entry, (str, dict)) or (level is not None
                                                  and level not in ENFORCEMENT_LEVELS):
            raise UsageError(f"--policy-config {path}: entry '{name}' is {entry!r}. Fix: use one "
                             f"of {', '.join(ENFORCEMENT_LEVELS)}, or an object with "
                             "enforcementLevel and the policy's settings.")
    return document


def check_program(program: Path) -> None:
    if not (program / "__main__.py").is_file():
        raise UsageError(f"--program {program}: no Pulumi program (__main__.py) there. Fix: "
                         "pass the directory that holds the program's __main__.py.")


def prepare_out_dir(out: Path) -> list[Path]:
    """Check ``--out`` and remove what an earlier run wrote there (and nothing else).

    The folder must be new, empty, or hold this tool's manifest of the files it wrote before;
    a folder with other content is refused rather than mixed with or overwritten.
    """
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: is a file. Fix: pass a folder (new or empty).")
    if not out.exists():
        return []
    manifest = out / OUT_MANIFEST
    previous: list[Path] = []
    if manifest.is_file():
        try:
            previous = [out / name for name in json.loads(manifest.read_text())]
        except (json.JSONDecodeError, TypeError, UnicodeDecodeError):
            raise UsageError(f"--out {out}: {OUT_MANIFEST} is damaged. Fix: empty the folder "
                             "or pick another one.") from None
    elif any(out.iterdir()):
        raise UsageError(f"--out {out}: the folder is not empty and was not written by this "
                         "tool. Fix: pass a new or empty folder.")
    root = out.resolve()
    for path in previous:
        if root in path.resolve().parents and path.is_file():
            path.unlink()
    return previous


def write_out_dir(plan: Plan, out: Path) -> list[Path]:
    prepare_out_dir(out)
    out.mkdir(parents=True, exist_ok=True)
    written = write_machine_files(plan, out)
    names = sorted(str(path.relative_to(out)) for path in written)
    (out / OUT_MANIFEST).write_text(json.dumps(names, indent=1) + "\n")
    for directory in sorted({p for p in out.rglob("*") if p.is_dir()}, reverse=True):
        if not any(directory.iterdir()):
            directory.rmdir()  # left empty by a file the previous run wrote and this one did not
    return written


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
        pack_config = read_policy_config(args.policy_config)
        check_program(args.program)
        if args.out:
            prepare_out_dir(args.out)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    stack_file = args.stack_file or PROJECT_DIR / f"Pulumi.{args.stack or 'dev'}.yaml"
    try:
        config = load_stack_config(PROJECT_DIR, stack_file, args.stack)
        plan = run_program(args.program, config, read_previous_outputs(args.previous_outputs),
                           read_stack_references(args.stack_reference, config.project))
        base = _plan_base(args, config.stack) if args.diff else None
    except (ConfigError, StackFileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except Exception:  # noqa: BLE001 — a bug in the program, not bad input: show everything
        traceback.print_exc()
        return EXIT_PROGRAM

    violations = evaluate(plan, pack_config)
    if args.out:
        try:
            written = write_out_dir(plan, args.out)
        except (UsageError, OSError) as error:
            print(f"error: --out {args.out}: {error}", file=sys.stderr)
            return EXIT_CONFIG
        print(f"wrote {len(written)} file(s) under {args.out}", file=sys.stderr)
    change = review(base, plan) if base is not None else None
    try:
        _write_extras(args, plan, change, stack_file,
                      [f"{v.enforcement_level}: [{v.policy}] {v.message}" for v in violations])
    except OSError as error:
        print(f"error: cannot write {error.filename}: {error.strerror}", file=sys.stderr)
        return EXIT_CONFIG
    _print_report(args, plan, violations, change, config.notes)
    if any(v.enforcement_level == "mandatory" for v in violations):
        return EXIT_POLICY
    return EXIT_OK


def _print_report(args: argparse.Namespace, plan: Plan, violations: list[Violation],
                  change: Review | None, notes: list[str]) -> None:
    """The plan on stdout: JSON, the review of a diff, or the text report with its summary."""
    if args.json:
        document = plan_to_json(plan, violations)
        if change is not None:
            document["diff"] = review_to_json(change)
        print(json.dumps(document, indent=2, sort_keys=True, default=str))
    elif change is not None:
        print(render_review_text(change, str(args.diff)))
        print()
        print(render_findings(plan, violations, notes))
    else:
        print(render_text(plan, violations, notes))
        print()
        print(render_summary_text(summarize(plan)))


def _plan_base(args: argparse.Namespace, stack: str) -> Plan:
    """The base stack file, planned under the head's stack name so resource URNs line up."""
    try:
        return run_program(args.program, load_stack_config(PROJECT_DIR, args.diff, stack))
    except (ConfigError, StackFileError) as error:
        raise StackFileError(f"in the base stack file {args.diff}: {error}") from None


def _write_extras(args: argparse.Namespace, plan: Plan, change: Review | None,
                  stack_file: Path, findings: list[str]) -> None:
    if args.markdown:
        text = (render_markdown(change, str(args.diff), str(stack_file), findings)
                if change is not None
                else render_summary_markdown(summarize(plan)) + "\n")
        args.markdown.write_text(text)
        print(f"wrote {args.markdown}", file=sys.stderr)
    if args.diagram:
        args.diagram.write_text(render_svg(summarize(plan)))
        print(f"wrote {args.diagram}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
