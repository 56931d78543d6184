"""Mutated stack files for the fuzz tests: the example stacks, changed at random paths.

Each example's ``config:`` mapping is mutated (keys deleted, values swapped for other types,
YAML-native scalars, random strings/numbers/lists/mappings inserted anywhere, including under
``cilium.values`` and ``k3s.serverConfig``), written out as YAML text and read back through the
whole input path: the stack-file reader, the CLI's value encoding, the top-level decoding and the
config model. The only acceptable outcomes are a valid spec or a clean refusal.
"""

from __future__ import annotations

import copy
import datetime
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from stack_config import ConfigError, validate_cluster_spec
from stack_config.loader import PROJECT, decode_project_config
from tests.helpers import EXAMPLE_STACKS, PROJECT_DIR
from tools.lib.stack_files import StackFileError, load_stack_config

# Keys the model knows, so random insertions often hit a real field with a wrong value.
KNOWN_KEYS = ["clusterName", "location", "count", "serverType", "image", "name", "labels",
              "taints", "enabled", "version", "values", "serverConfig", "agentConfig",
              "datastoreEndpoint", "clusterCidr", "serviceCidr", "registries", "mirrors",
              "endpoint", "cidr", "privateOnly", "sshPublicKeys", "listeners", "port",
              "ipam", "mode", "routingMode", "kubeProxyReplacement", "ipv4NativeRoutingCIDR",
              "token", "tls-san+", "etcd-s3-secret-key", "node-label", "t", "disable",
              "addressBlock", "loadBalancer", "locations", "gatewayAPI", "hubble",
              "kubelet-args", "disable-apiserver-lb", "cluster-domain", "acceptUnknownFlags"]

class RawScalar(str):
    """Text written unquoted, so the reader resolves it as YAML would (``yes``, ``1:30``, ``~``)."""


class FuzzDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    pass


def _plain(dumper: yaml.SafeDumper, data: RawScalar) -> yaml.ScalarNode:
    # Tagged as a YAML 1.1 reader would resolve the text, so the emitter leaves it unquoted.
    return dumper.represent_scalar(dumper.resolve(yaml.ScalarNode, str(data), (True, False)),
                                   str(data))


FuzzDumper.add_representer(RawScalar, _plain)
YAML_NATIVE = ["yes", "No", "on", "OFF", "y", "1:30", "2024-01-01", "2024-01-01 10:00:00",
               "0755", "0x1F", "0b101", ".inf", "-.Inf", ".nan", "~", "null", "1e3", "+12",
               "1_000", "0o17", "true", "False"]

scalars = st.one_of(
    st.sampled_from(YAML_NATIVE).map(RawScalar), st.binary(max_size=6),
    st.none(), st.booleans(), st.integers(-2**40, 2**40), st.floats(allow_nan=True),
    st.text(max_size=20), st.sampled_from(["", "1", "true", "yes", "on", "2024-01-01", "1:30",
                                           "10.0.0.0/8", "fsn1", "cx23", "v1.35.3+k3s1",
                                           "1.20.0", "forever", "not a url", "dev\n", "0755",
                                           "https://x:6443", "-", "*", ".inf", "{", "[1"]),
    st.dates(min_value=datetime.date(1990, 1, 1), max_value=datetime.date(2100, 1, 1)),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.one_of(st.sampled_from(KNOWN_KEYS),
                                                      st.text(max_size=8)), inner, max_size=4)),
    max_leaves=8)


def example_configs() -> dict[str, dict[str, Any]]:
    return {stack: yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())["config"]
            for stack in EXAMPLE_STACKS}


def _containers(node: Any, path: tuple = ()) -> list[tuple]:
    found = [path] if isinstance(node, (dict, list)) else []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, child in items:
        found += _containers(child, (*path, key))
    return found


def _at(node: Any, path: tuple) -> Any:
    for part in path:
        node = node[part]
    return node


@st.composite
def mutated_config(draw: st.DrawFn, bases: dict[str, dict[str, Any]]) -> dict[str, Any]:
    config = copy.deepcopy(bases[draw(st.sampled_from(sorted(bases)))])
    # Reach into the free-form keys often: they are where user text meets upstream rules.
    config.setdefault(f"{PROJECT}:k3s", {}).setdefault("serverConfig", {})
    config.setdefault(f"{PROJECT}:cilium", {}).setdefault("values", {})
    for _ in range(draw(st.integers(1, 4))):
        containers = _containers(config)
        path = draw(st.sampled_from(containers))
        target = _at(config, path)
        action = draw(st.sampled_from(["delete", "replace", "insert"]))
        if isinstance(target, dict):
            keys = sorted(target, key=str)
            if action == "insert" or not keys:
                key = draw(st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=10)))
                if not path:
                    key = f"{PROJECT}:{key}"
                target[key] = draw(values)
            elif action == "delete":
                del target[draw(st.sampled_from(keys))]
            else:
                target[draw(st.sampled_from(keys))] = draw(values)
        elif target:
            index = draw(st.integers(0, len(target) - 1))
            if action == "delete":
                del target[index]
            elif action == "replace":
                target[index] = draw(values)
            else:
                target.insert(index, draw(values))
        else:
            target.append(draw(values))
    return config


def stack_file_text(config: dict[str, Any]) -> str:
    """The stack file for ``config`` (YAML-native scalars unquoted, bytes as !!binary)."""
    return yaml.dump({"config": config}, Dumper=FuzzDumper, allow_unicode=True)


def plan_input(directory: Path, config: dict[str, Any]) -> str:
    """Run one config through the whole input path; 'accepted' or 'refused' (else it raises)."""
    path = directory / "Pulumi.fuzz.yaml"
    path.write_text(stack_file_text(config))
    try:
        stack = load_stack_config(PROJECT_DIR, path)
        prefix = f"{PROJECT}:"
        values = {k[len(prefix):]: v for k, v in stack.values.items() if k.startswith(prefix)}
        secret = frozenset(k[len(prefix):] for k in stack.secret_keys if k.startswith(prefix))
        spec = validate_cluster_spec(decode_project_config(values), secret_keys=secret)
    except (ConfigError, StackFileError):
        return "refused"
    # What the program derives right after validation must not fail either.
    spec.advisories()
    spec.address_plan  # noqa: B018 — evaluated for its checks
    return "accepted"
