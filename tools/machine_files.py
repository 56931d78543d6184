"""Write the machine files a plan contains, so real validators (cloud-init, shellcheck, the Cilium
chart schema) can read exactly what the program would send.

Files come from recorded resource inputs, never from re-rendering: the table below says which
input of which resource type holds which file. A secret value is never written; it is listed in
``SKIPPED-SECRETS.txt`` instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tools.engine import Plan, RecordedResource


@dataclass(frozen=True)
class MachineFile:
    resource_type: str
    input_path: str
    """Dotted path into the resource's inputs."""
    target: str
    """Path under the output directory; ``{name}`` is the resource name."""
    as_yaml: bool = False
    """The input is structured data (Helm values) to serialise as YAML."""


MACHINE_FILES: list[MachineFile] = [
    MachineFile("hcloud:index/server:Server", "userData", "cloud-init/{name}.yaml"),
    MachineFile("kubernetes:helm.sh/v3:Release", "values", "helm/{name}.values.yaml", as_yaml=True),
    # Per node, the k3s files the bootstrap's apply command sends (docs/contracts.md).
    MachineFile("k3s-hcloud:bootstrap:K3sNode", "configYaml", "k3s/{name}/config.yaml"),
    MachineFile("k3s-hcloud:bootstrap:K3sNode", "registriesYaml", "k3s/{name}/registries.yaml"),
]


def _lookup(inputs: dict[str, Any], dotted: str) -> Any:
    node: Any = inputs
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _touches_secret(resource: RecordedResource, dotted: str) -> bool:
    """True when the input at ``dotted`` is secret, contains a secret, or sits inside one."""
    for path in resource.secret_input_paths():
        if path == dotted or path.startswith((dotted + ".", dotted + "[")) or \
                dotted.startswith(path + "."):
            return True
    return False


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def write_machine_files(plan: Plan, out_dir: Path) -> list[Path]:
    written: list[Path] = []
    skipped: list[str] = []
    for spec in MACHINE_FILES:
        for resource in plan.by_type(spec.resource_type):
            value = _lookup(resource.inputs, spec.input_path)
            if value is None:
                continue
            target = out_dir / spec.target.format(name=_safe(resource.name))
            if _touches_secret(resource, spec.input_path):
                skipped.append(f"{target.relative_to(out_dir)} ({resource.urn}: secret)")
                continue
            text = yaml.safe_dump(value, sort_keys=True) if spec.as_yaml else str(value)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            written.append(target)
    if skipped:
        out_dir.mkdir(parents=True, exist_ok=True)
        note = out_dir / "SKIPPED-SECRETS.txt"
        note.write_text("Not written because the value is secret:\n" + "\n".join(skipped) + "\n")
        written.append(note)
    return written
