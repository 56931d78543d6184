"""Write the machine files a plan contains, so real validators (cloud-init, shellcheck, the Cilium
chart schema) can read exactly what the program would send.

Files come from recorded resource inputs, never from re-rendering: the table below says which
input of which resource type holds which file. A secret value is never written. A secret file
with a redaction step (cloud-init user data: secret because it carries the server's SSH host
private key) is written with its secret parts replaced, and only if no known secret survives the
redaction; structured values with secrets nested inside (Helm values with a generated seed) are
written with each secret replaced where it sits; every other secret file is listed in
``SKIPPED-SECRETS.txt`` instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tools.lib.engine import Plan, RecordedResource, is_secret, mask_secrets, unwrap_secrets
from upstream.cilium import GATEWAY_API_GROUP, SUPPORTED_LINES

REDACTED = "[redacted: secret]"
CLOUD_CONFIG_HEADER = "#cloud-config"
# cloud-config keys whose values are secrets wherever they appear (host keys, passwords).
_SECRET_CLOUD_CONFIG_KEY = re.compile(r"^(.*_private|password|passwd|hashed_passwd|plain_text_passwd)$")
# What a private key or similar looks like; a redacted file containing one is not written.
_SECRET_SHAPES = ("PRIVATE KEY",)


class _ReadableDumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks, so written files read like the user data itself."""


_ReadableDumper.add_representer(
    str, lambda dumper, value: dumper.represent_scalar(
        "tag:yaml.org,2002:str", value, style="|" if "\n" in value else None))


class RedactionIncomplete(ValueError):
    """The redacted text still contains something secret: the file must not be written."""


def redact_cloud_config(text: str) -> str:
    """User data with every secret-keyed value replaced; still valid cloud-config."""
    if not text.startswith(CLOUD_CONFIG_HEADER):
        raise RedactionIncomplete("not a #cloud-config document; cannot tell its secret parts")
    document = yaml.safe_load(text)
    redacted = _redact(document)
    return (f"{CLOUD_CONFIG_HEADER}\n# Secret values replaced by tools/lib/machine_files.py "
            f"({REDACTED}).\n"
            + yaml.dump(redacted, Dumper=_ReadableDumper, sort_keys=False, width=1000))


def _redact(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: REDACTED if _SECRET_CLOUD_CONFIG_KEY.match(str(key)) else _redact(value)
                for key, value in node.items()}
    if isinstance(node, list):
        return [_redact(item) for item in node]
    return node


@dataclass(frozen=True)
class MachineFile:
    resource_type: str
    input_path: str
    """Dotted path into the resource's inputs; empty for all of them (a CustomResource's inputs
    are its manifest: apiVersion, kind, metadata, spec)."""
    target: str
    """Path under the output directory; ``{name}`` is the resource name."""
    as_yaml: bool = False
    """The input is structured data (Helm values) to serialise as YAML."""
    redact: Callable[[str], str] | None = None
    """Turns a secret value into a writable one; without it a secret file is skipped."""


def _manifest_file(api_version: str, kind: str) -> MachineFile:
    return MachineFile(f"kubernetes:{api_version}:{kind}", "", "manifests/{name}.yaml",
                       as_yaml=True)


# Custom resources the Kubernetes layer renders, for validators of their CRD schemas.
_MANIFESTS = sorted({(api_version, kind) for line in SUPPORTED_LINES.values()
                     for kind, api_version in line.resource_api_versions.items()}
                    | {(f"{GATEWAY_API_GROUP}/v1", "Gateway"), ("upgrade.cattle.io/v1", "Plan")})

MACHINE_FILES: list[MachineFile] = [
    MachineFile("hcloud:index/server:Server", "userData", "cloud-init/{name}.yaml",
                redact=redact_cloud_config),
    MachineFile("kubernetes:helm.sh/v3:Release", "values", "helm/{name}.values.yaml", as_yaml=True),
    *(_manifest_file(api_version, kind) for api_version, kind in _MANIFESTS),
    # Per node, the k3s files the bootstrap's apply command sends (docs/contracts.md).
    MachineFile("k3s-hcloud:bootstrap:K3sNode", "configYaml", "k3s/{name}/config.yaml"),
    MachineFile("k3s-hcloud:bootstrap:K3sNode", "registriesYaml", "k3s/{name}/registries.yaml"),
    MachineFile("k3s-hcloud:bootstrap:K3sNode", "registrationYaml",
                "k3s/{name}/config.yaml.d/40-registration.yaml"),
]


def _lookup(inputs: dict[str, Any], dotted: str) -> Any:
    node: Any = inputs
    for part in dotted.split(".") if dotted else ():
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _touches_secret(resource: RecordedResource, dotted: str) -> bool:
    """True when the input at ``dotted`` is secret, contains a secret, or sits inside one."""
    if not dotted:
        return bool(resource.secret_input_paths())
    for path in resource.secret_input_paths():
        if path == dotted or path.startswith((dotted + ".", dotted + "[")) or \
                dotted.startswith(path + "."):
            return True
    return False


def _redact_secret_leaves(value: Any) -> Any:
    if is_secret(value):
        return REDACTED
    if isinstance(value, dict):
        return {key: _redact_secret_leaves(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact_secret_leaves(item) for item in value]
    return value


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def _secret_values(value: Any) -> Iterator[str]:
    if is_secret(value):
        plain = unwrap_secrets(value)
        if isinstance(plain, str):
            yield plain
        else:
            yield from (str(leaf) for leaf in _leaves(plain))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _secret_values(item)
    elif isinstance(value, list):
        for item in value:
            yield from _secret_values(item)


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif value is not None:
        yield value


def _redacted(spec: MachineFile, plain: Any, known_secrets: set[str]) -> str | None:
    """The redacted text, or None when it cannot be written safely."""
    if spec.redact is None or not isinstance(plain, str):
        return None
    try:
        text = spec.redact(plain)
    except (RedactionIncomplete, yaml.YAMLError):
        return None
    if any(shape in text for shape in _SECRET_SHAPES):
        return None
    if any(secret in text for secret in known_secrets):
        return None
    return text


def write_machine_files(plan: Plan, out_dir: Path) -> list[Path]:
    written: list[Path] = []
    skipped: list[str] = []
    # Every secret input elsewhere in the plan (tokens, endpoints…): none may appear in a file.
    # Secret user data is left out: it is the value being redacted, not a leak into it.
    # A secret structure (a command's triggers, a values map) also holds plain parts, such as a
    # version tag; a value the plan shows in clear elsewhere is not a secret to look for.
    known_secrets = {secret for resource in plan.resources
                     for key, value in resource.inputs.items()
                     if not (resource.type == "hcloud:index/server:Server" and key == "userData")
                     for secret in _secret_values(value) if len(secret) >= 8}
    public_text = "\n".join(
        [str(leaf) for resource in plan.resources for leaf in _leaves(mask_secrets(resource.inputs))]
        + [str(leaf) for output in plan.outputs.values() if not output.secret
           for leaf in _leaves(mask_secrets(output.value))])
    known_secrets = {secret for secret in known_secrets if secret not in public_text}
    for spec in MACHINE_FILES:
        for resource in plan.by_type(spec.resource_type):
            value = _lookup(resource.inputs, spec.input_path)
            if value is None:
                continue
            target = out_dir / spec.target.format(name=_safe(resource.name))
            if spec.as_yaml and not is_secret(value) and _touches_secret(resource, spec.input_path):
                # Structured values with secrets inside (a generated Maglev seed): every other
                # value stays readable, each secret is replaced where it sits.
                text = yaml.safe_dump(_redact_secret_leaves(value), sort_keys=True)
                if any(secret in text for secret in known_secrets):
                    skipped.append(f"{target.relative_to(out_dir)} ({resource.urn}: secret)")
                    continue
            elif _touches_secret(resource, spec.input_path):
                text = _redacted(spec, unwrap_secrets(value), known_secrets)
                if text is None:
                    skipped.append(f"{target.relative_to(out_dir)} ({resource.urn}: secret)")
                    continue
            else:
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
