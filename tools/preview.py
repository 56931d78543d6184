"""A real `pulumi preview` of one stack, with the toolchain `make engine` builds, fully offline.

    python tools/preview.py [--stack NAME | --stack-file PATH] [--json]

The stack runs in a scratch copy of the project with a ``file://`` backend, a throwaway
passphrase, no credentials (a 64-character dummy Hetzner token, the length the provider's schema
demands) and plugin downloads switched off, under the policy pack as `make policy-pack` publishes it.

Exit codes as tools/plan.py: 0 fine · 1 invalid config · 2 a mandatory policy violation ·
3 the program failed · 4 the toolchain is missing: it names each missing binary, and for those the
Go module proxy refused to serve, the module, version and error recorded in
upstream/engine_artifacts.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from tools import real_engine  # noqa: E402
from tools.policy_pack import assemble  # noqa: E402

EXIT_OK, EXIT_CONFIG, EXIT_POLICY, EXIT_PROGRAM, EXIT_TOOLCHAIN = 0, 1, 2, 3, 4
LANGUAGE_HOST = "pulumi-language-python"
# What a preview of this program runs: the CLI, the Python language host (and the script it
# starts), and one plugin per provider package the program uses.
REQUIRED = ("pulumi", LANGUAGE_HOST, f"{LANGUAGE_HOST}-exec",
            "pulumi-resource-hcloud", "pulumi-resource-command", "pulumi-resource-random",
            "pulumi-resource-tls", "pulumi-resource-kubernetes")
# The binary each refused module would have provided (the module path names it).
_PROVIDES = {LANGUAGE_HOST: ("pulumi-language-python/",),
             f"{LANGUAGE_HOST}-exec": ("pulumi-language-python/",)}
_SETUP = ("stack init", "config")
DUMMY_HCLOUD_TOKEN = "0" * 64
CONFIG_ERROR = re.compile(r"invalid stack configuration|ConfigError")


def missing_binaries(bin_dir: Path) -> list[str]:
    return [name for name in REQUIRED if not (bin_dir / name).is_file()]


def _refusal_for(binary: str, refused: list[dict[str, str]]) -> dict[str, str] | None:
    markers = _PROVIDES.get(binary, (binary.removeprefix("pulumi-resource-").join(("pulumi-", "/")),))
    for entry in refused:
        if any(marker in entry["module"] + "/" for marker in markers):
            return entry
    return None


def toolchain_report(bin_dir: Path) -> dict[str, Any]:
    """What is missing and why: the proxy refusals recorded when `make engine`'s list was made."""
    refused = real_engine.recorded_artifacts().get("refused", [])
    missing = []
    for binary in missing_binaries(bin_dir):
        entry = _refusal_for(binary, refused)
        reason = (f"the Go module proxy refuses {entry['module']}@{entry['version']}: "
                  f"{entry['error'].removeprefix(entry['module'] + '@' + entry['version'] + ': ')}"
                  if entry else "not built yet: run make engine")
        missing.append({"binary": binary, "reason": reason})
    return {"bin": str(bin_dir), "missing": missing}


def toolchain_message(report: dict[str, Any]) -> str:
    lines = [f"error: the real engine is incomplete in {report['bin']}; run `make engine` "
             "(docs/real-engine.md). Missing:"]
    lines += [f"  - {m['binary']}: {m['reason']}" for m in report["missing"]]
    return "\n".join(lines)


def engine_versions(bin_dir: Path) -> dict[str, str]:
    versions = {}
    pulumi = bin_dir / "pulumi"
    if pulumi.is_file():
        versions["pulumi"] = subprocess.run([str(pulumi), "version"], capture_output=True,
                                            text=True, check=False).stdout.strip()
    for name in REQUIRED[1:]:
        if (bin_dir / name).is_file():
            result = subprocess.run([str(bin_dir / name), "-version"], capture_output=True,
                                    text=True, check=False)
            versions[name] = (result.stdout or result.stderr).strip()
    return versions


def _scratch_project(scratch: Path, stack: str, stack_file: Path) -> Path:
    project = scratch / "project"
    shutil.copytree(PROJECT_DIR, project, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "venv", "out", "__pycache__", ".pytest_cache", "Pulumi.*.yaml"))
    shutil.copyfile(stack_file, project / f"Pulumi.{stack}.yaml")
    # The program's virtualenv is this interpreter's: Pulumi.yaml names `.venv`.
    (project / ".venv").symlink_to(Path(sys.prefix))
    pack = assemble(scratch / "policy-pack")
    (pack / "venv").symlink_to(Path(sys.prefix))
    return project


def _environment(scratch: Path, bin_dir: Path) -> dict[str, str]:
    (scratch / "state").mkdir()
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "HCLOUD_"))},
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PULUMI_HOME": str(scratch / "pulumi-home"),
        "PULUMI_BACKEND_URL": f"file://{scratch / 'state'}",
        "PULUMI_CONFIG_PASSPHRASE": "offline-preview-throwaway",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_DISABLE_REGISTRY_RESOLVE": "true",
        "HCLOUD_TOKEN": DUMMY_HCLOUD_TOKEN,
    }


def summarise(preview: dict[str, Any], versions: dict[str, str]) -> dict[str, Any]:
    steps = [{"urn": s.get("urn"), "type": (s.get("newState") or s.get("oldState") or {}).get("type"),
              "op": s.get("op")} for s in preview.get("steps", [])]
    violations, diagnostics = [], []
    for diag in preview.get("diagnostics", []):
        if diag.get("policyName") or diag.get("policyPackName"):
            violations.append({"policy": diag.get("policyName"),
                               "level": diag.get("enforcementLevel"),
                               "message": diag.get("message"), "urn": diag.get("urn")})
        else:
            diagnostics.append(diag)
    for diag in preview.get("policyViolations", []) or []:
        violations.append({"policy": diag.get("policyName"), "level": diag.get("enforcementLevel"),
                           "message": diag.get("message"), "urn": diag.get("urn")})
    return {"engine": versions, "steps": steps, "violations": violations,
            "diagnostics": diagnostics}


def run_preview(stack: str, stack_file: Path, bin_dir: Path) -> tuple[int, dict[str, Any], str]:
    with tempfile.TemporaryDirectory(prefix="k3s-hcloud-preview-") as tmp:
        scratch = Path(tmp)
        project = _scratch_project(scratch, stack, stack_file)
        env = _environment(scratch, bin_dir)
        pulumi = str(bin_dir / "pulumi")
        init = subprocess.run([pulumi, "stack", "init", stack, "--non-interactive"],
                              cwd=project, env=env, capture_output=True, text=True, check=False)
        if init.returncode != 0:
            return EXIT_PROGRAM, {}, init.stdout + init.stderr
        result = subprocess.run(
            [pulumi, "preview", "--stack", stack, "--non-interactive", "--json",
             "--policy-pack", str(scratch / "policy-pack"),
             "--policy-pack-config", str(PROJECT_DIR / "policies" / "config.example.json")],
            cwd=project, env=env, capture_output=True, text=True, check=False)
    try:
        preview = json.loads(result.stdout)
    except json.JSONDecodeError:
        return EXIT_PROGRAM, {}, result.stdout + result.stderr
    summary = summarise(preview, engine_versions(bin_dir))
    if result.returncode == 0:
        return EXIT_OK, summary, result.stderr
    text = json.dumps(summary["diagnostics"]) + result.stderr
    if any(v["level"] == "mandatory" for v in summary["violations"]):
        return EXIT_POLICY, summary, result.stderr
    if CONFIG_ERROR.search(text):
        return EXIT_CONFIG, summary, result.stderr
    return EXIT_PROGRAM, summary, result.stderr


def render_text(summary: dict[str, Any]) -> str:
    lines = [f"engine: {', '.join(f'{k} {v}' for k, v in summary['engine'].items())}"]
    lines += [f"  {s['op']:<8} {s['type']}  {s['urn']}" for s in summary["steps"]]
    lines += [f"  [{v['level']}] {v['policy']}: {v['message']} ({v['urn']})"
              for v in summary["violations"]]
    return "\n".join(lines)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--stack", default=None, help="stack name: reads Pulumi.<NAME>.yaml")
    which.add_argument("--stack-file", type=Path, help="path to a stack config file")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    stack_file = args.stack_file or PROJECT_DIR / f"Pulumi.{args.stack or 'dev'}.yaml"
    stack = args.stack or stack_file.name.removeprefix("Pulumi.").removesuffix(".yaml")
    if not stack_file.is_file():
        print(f"error: no stack file {stack_file}", file=sys.stderr)
        return EXIT_CONFIG
    bin_dir = real_engine.bin_dir()
    if missing_binaries(bin_dir):
        report = toolchain_report(bin_dir)
        print(toolchain_message(report), file=sys.stderr)
        if args.json:
            print(json.dumps({"engine": engine_versions(bin_dir), "toolchain": report},
                             indent=2))
        return EXIT_TOOLCHAIN
    code, summary, log = run_preview(stack, stack_file, bin_dir)
    if log.strip():
        print(log, file=sys.stderr)
    if summary:
        print(json.dumps(summary, indent=2) if args.json else render_text(summary))
    return code


if __name__ == "__main__":
    sys.exit(main())
