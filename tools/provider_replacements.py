"""Derive which input properties make each provider resource be replaced, from the providers.

    python tools/provider_replacements.py --mirror DIR [--check]   (or GIT_MIRROR_DIR=DIR)

Writes ``upstream/provider_replacements.json``: for every resource type of the providers the
program uses, the input properties whose change replaces the resource, each with where that fact
was read. Two sources, both upstream's own artifacts:

- **Bridged SDKv2 resources**: the Pulumi schema (``provider/cmd/pulumi-resource-<pkg>/schema.json``
  of the bridge repository) marks them ``willReplaceOnChanges`` (tfgen copies ``ForceNew``).
- **Plugin-framework resources**: the schema carries nothing (the bridge learns a framework
  resource's replacements only at run time, from its ``PlanModifiers``). Which types are framework
  resources comes from the bridge's ``bridge-metadata.json`` (``mux``: 1 = framework) or, for
  framework-only bridges (random, tls), from the package itself; their attributes with a
  ``RequiresReplace*`` plan modifier are read from the Terraform provider's Go source at the
  version the bridge pins in ``provider/go.mod``. Each such attribute cites ``file:line@rev``.
- **Native resources** (pulumi-command, built with pulumi-go-provider ``infer``): input fields
  tagged ``provider:"replaceOnChanges"`` in the provider's Go source.

The sources are bare git mirrors (``<mirror>/<owner>+<repo>/repo``), read with ``git show``; the
pinned Python SDKs ship no schema (only ``pulumi-plugin.json``). ``--check`` regenerates and
exits 1 when the committed table differs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from tools.lib.generated_file import write_or_check  # noqa: E402
from tools.lib.git_mirror import GitReadError, git, has_commit, show, tags  # noqa: E402

TABLE = PROJECT_DIR / "upstream" / "provider_replacements.json"
MIRROR_VARIABLE = "GIT_MIRROR_DIR"


@dataclass(frozen=True)
class Package:
    name: str
    bridge: str
    """owner/repo of the Pulumi provider."""
    terraform: str | None
    """owner/repo of the Terraform provider it bridges (None: a native Pulumi provider)."""
    terraform_module: str | None
    """The Go module path the bridge's go.mod pins (to read the pinned version)."""
    framework_only: bool = False


PACKAGES = (
    Package("hcloud", "pulumi/pulumi-hcloud", "hetznercloud/terraform-provider-hcloud",
            "github.com/hetznercloud/terraform-provider-hcloud"),
    Package("random", "pulumi/pulumi-random", "hashicorp/terraform-provider-random",
            "github.com/terraform-providers/terraform-provider-random", framework_only=True),
    Package("tls", "pulumi/pulumi-tls", "hashicorp/terraform-provider-tls",
            "github.com/hashicorp/terraform-provider-tls", framework_only=True),
    # Native (pulumi-go-provider ``infer``): replacements are struct tags in its own source.
    Package("command", "pulumi/pulumi-command", None, None),
)

# Native resources → the Go files whose input structs carry ``provider:"replaceOnChanges"``.
NATIVE_SOURCES: dict[str, tuple[str, ...]] = {
    "command:remote:Command": ("provider/pkg/provider/common/inputs.go",
                               "provider/pkg/provider/remote/command.go"),
    "command:local:Command": ("provider/pkg/provider/common/inputs.go",
                              "provider/pkg/provider/local/command.go"),
}
_REPLACE_TAG = re.compile(r'pulumi:"(\w+)[^"]*"\s+provider:"[^"]*replaceOnChanges')

# Framework resources the program registers (or may, by config) → their Terraform source file.
# The mapping of a Pulumi type to a Go file is the one hand-made step; the attributes are read.
FRAMEWORK_SOURCES: dict[str, str] = {
    "hcloud:index/sshKey:SshKey": "internal/sshkey/resource.go",
    "hcloud:index/loadBalancerNetwork:LoadBalancerNetwork": "internal/loadbalancer/resource_network.go",
    "hcloud:index/serverNetwork:ServerNetwork": "internal/server/resource_network.go",
    "hcloud:index/primaryIp:PrimaryIp": "internal/primaryip/resource.go",
    "random:index/randomPassword:RandomPassword": "internal/provider/resource_password.go",
    "random:index/randomBytes:RandomBytes": "internal/provider/resource_bytes.go",
    "tls:index/privateKey:PrivateKey": "internal/provider/resource_private_key.go",
}

_ATTRIBUTE = re.compile(r'^\s*"([a-z0-9_]+)":\s*schema\.\w+Attribute\{', re.M)
_REQUIRES_REPLACE = re.compile(r"\b(\w*planmodifiers?\.RequiresReplace\w*)\(")


class SourceMissing(RuntimeError):
    """A mirror is not on this machine, or holds no release tag (git errors: GitReadError)."""


def git_show(repo: Path, rev: str, path: str) -> str:
    return show(repo, rev, path).decode()


def mirror_repo(mirror: Path, slug: str) -> Path:
    repo = mirror / slug.replace("/", "+") / "repo"
    if not repo.is_dir():
        raise SourceMissing(f"no mirror of {slug} at {repo}")
    return repo


def newest_release_tag(repo: Path) -> str:
    versions = tags(repo, "v*")

    def key(tag: str) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", tag)[:3])

    releases = [t for t in versions if re.fullmatch(r"v\d+\.\d+\.\d+", t)]
    if not releases:
        raise SourceMissing(f"{repo}: no release tag")
    return max(releases, key=key)


def pinned_revision(go_mod: str, module: str) -> str | None:
    """The tag or commit a go.mod pins for ``module`` (pseudo-versions end in a commit)."""
    match = re.search(rf"^\s*{re.escape(module)} (v\S+)", go_mod, re.M)
    if not match:
        return None
    version = match.group(1)
    pseudo = re.search(r"\d{14}-([0-9a-f]{12})$", version)
    return pseudo.group(1) if pseudo else version


def resolve(repo: Path, wanted: str | None) -> tuple[str, str]:
    """(revision to read, note): the pinned revision when the mirror has it, else its HEAD."""
    if wanted and has_commit(repo, wanted):
        return wanted, ""
    head = git(repo, "rev-parse", "--short=12", "HEAD").decode().strip()
    return head, f"pinned {wanted} is not in the mirror; read at HEAD {head}"


def requires_replace(go_source: str) -> dict[str, tuple[int, str]]:
    """Top-level attribute name → (line, modifier) for attributes with a RequiresReplace*."""
    found: dict[str, tuple[int, str]] = {}
    for match in _ATTRIBUTE.finditer(go_source):
        start = match.end()
        depth, end = 1, start
        while depth and end < len(go_source):
            depth += {"{": 1, "}": -1}.get(go_source[end], 0)
            end += 1
        body = go_source[start:end]
        modifier = _REQUIRES_REPLACE.search(body)
        if modifier:
            line = go_source.count("\n", 0, start + modifier.start()) + 1
            found[match.group(1)] = (line, modifier.group(1).split(".")[-1])
    return found


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def package_table(mirror: Path, package: Package) -> tuple[dict[str, Any], dict[str, Any]]:
    bridge = mirror_repo(mirror, package.bridge)
    tag = newest_release_tag(bridge)
    schema_path = f"provider/cmd/pulumi-resource-{package.name}/schema.json"
    schema = json.loads(git_show(bridge, tag, schema_path))
    source = {"schema": f"{package.bridge}@{tag}:{schema_path}"}
    framework: set[str] = set()
    if package.framework_only:
        framework = set(schema["resources"])
    elif package.terraform:
        metadata = json.loads(git_show(bridge, tag, schema_path.replace(
            "schema.json", "bridge-metadata.json")))
        framework = {t for t, index in metadata["mux"]["resources"].items() if index == 1}
    resources: dict[str, Any] = {}
    for resource_type, resource in sorted(schema["resources"].items()):
        inputs = resource.get("inputProperties", {})
        rules = {prop: f"schema willReplaceOnChanges ({package.bridge}@{tag})"
                 for prop, spec in sorted(inputs.items()) if spec.get("willReplaceOnChanges")}
        resources[resource_type] = {"framework": resource_type in framework, "replaceOn": rules}
    for resource_type, paths in NATIVE_SOURCES.items():
        if resource_type not in resources:
            continue
        for path in paths:
            text = git_show(bridge, tag, path)
            for match in _REPLACE_TAG.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                resources[resource_type]["replaceOn"][match.group(1)] = (
                    f'provider:"replaceOnChanges" at {package.bridge}@{tag}:{path}:{line}')
    if package.terraform:
        go_mod = git_show(bridge, tag, "provider/go.mod")
        terraform = mirror_repo(mirror, package.terraform)
        rev, note = resolve(terraform, pinned_revision(go_mod, package.terraform_module or ""))
        source["terraform"] = f"{package.terraform}@{rev}" + (f" ({note})" if note else "")
        for resource_type, path in FRAMEWORK_SOURCES.items():
            if resource_type not in resources:
                continue
            text = git_show(terraform, rev, path)
            schema_inputs = schema["resources"][resource_type].get("inputProperties", {})
            for attribute, (line, modifier) in sorted(requires_replace(text).items()):
                prop = camel(attribute)
                if prop in schema_inputs:
                    resources[resource_type]["replaceOn"][prop] = (
                        f"{modifier} at {package.terraform}@{rev}:{path}:{line}")
    return source, resources


def generate(mirror: Path) -> dict[str, Any]:
    sources: dict[str, Any] = {}
    resources: dict[str, Any] = {}
    for package in PACKAGES:
        sources[package.name], found = package_table(mirror, package)
        resources.update(found)
    return {"generatedBy": "tools/provider_replacements.py", "sources": sources,
            "resources": resources}


def render(table: dict[str, Any]) -> str:
    return json.dumps(table, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, default=os.environ.get(MIRROR_VARIABLE),
                        help=f"folder of bare git mirrors (default: ${MIRROR_VARIABLE})")
    parser.add_argument("--check", action="store_true", help="exit 1 when the table is stale")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.mirror is None:
        print(f"error: give --mirror DIR or set {MIRROR_VARIABLE}: a folder of bare git "
              "mirrors, <owner>+<repo>/repo", file=sys.stderr)
        return 1
    try:
        text = render(generate(args.mirror))
    except (SourceMissing, GitReadError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return write_or_check(TABLE, text, check=args.check, source=f"the mirrors in {args.mirror}",
                          generator="tools/provider_replacements.py")


if __name__ == "__main__":
    sys.exit(main())
