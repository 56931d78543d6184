"""What the mocked providers answer: inputs echoed back, plus deterministic computed outputs.

Computed values are recognisable as made up: public IPv4 addresses come from 198.18.0.0/15
(RFC 2544, never routed), IPv6 from 2001:db8::/32 (documentation), ids of non-Hetzner resources
read ``<name>-id``. Hetzner ids are numbers because the provider's inputs take them as integers
(``network_id``). Every value is derived from the resource's type and name, so adding a resource
never changes what another one receives (plans stay comparable across config changes).

Remote commands print nothing, except the two the k3s bootstrap reads back, which get mock data
of the real shape: ``read-kubeconfig.sh`` a k3s admin kubeconfig (secret, fake certificates) and
``read-ca-hash.sh`` a SHA-256 hex digest.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
from collections.abc import Callable
from typing import Any

import pulumi
import yaml
from pulumi.runtime import Mocks
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

from upstream.k3s import API_PORT

_PUBLIC_V4 = ipaddress.IPv4Network("198.18.0.0/15")
_PUBLIC_V6 = ipaddress.IPv6Network("2001:db8::/32")


def stable_number(*parts: str) -> int:
    return int(hashlib.sha256("::".join(parts).encode()).hexdigest()[:12], 16)


def public_ipv4(args: MockResourceArgs) -> str:
    offset = stable_number(args.typ, args.name) % (_PUBLIC_V4.num_addresses - 2) + 1
    return str(_PUBLIC_V4.network_address + offset)


def public_ipv6(args: MockResourceArgs) -> str:
    subnet = stable_number(args.typ, args.name) % (1 << 32)
    return str(_PUBLIC_V6.network_address + (subnet << 64) + 1)


def _public_net_enabled(inputs: dict[str, Any], family: str) -> bool:
    # The Hetzner API default is a public IPv4 and IPv6 unless publicNets says otherwise.
    nets = inputs.get("publicNets") or []
    if not nets:
        return True
    return any(net.get(f"{family}Enabled", True) for net in nets)


def _server(args: MockResourceArgs) -> dict[str, Any]:
    return {
        "ipv4Address": public_ipv4(args) if _public_net_enabled(args.inputs, "ipv4") else "",
        "ipv6Address": public_ipv6(args) if _public_net_enabled(args.inputs, "ipv6") else "",
        "status": "running",
    }


def _load_balancer(args: MockResourceArgs) -> dict[str, Any]:
    public = not args.inputs.get("disablePublicInterface", False)
    return {"ipv4": public_ipv4(args) if public else "", "ipv6": public_ipv6(args) if public else ""}


def _private_key(args: MockResourceArgs) -> dict[str, Any]:
    fingerprint = f"{stable_number(args.typ, args.name):012x}"
    algorithm = str(args.inputs.get("algorithm", "ED25519"))
    return {
        "publicKeyOpenssh": f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAmock{fingerprint} {args.name}\n",
        "privateKeyOpenssh": pulumi.Output.secret(
            f"-----BEGIN OPENSSH PRIVATE KEY-----\nmock-{algorithm}-{fingerprint}\n"
            "-----END OPENSSH PRIVATE KEY-----\n"),
        "privateKeyPem": pulumi.Output.secret(f"mock-pem-{fingerprint}"),
        "publicKeyFingerprintSha256": f"SHA256:mock{fingerprint}",
    }


def _random_password(args: MockResourceArgs) -> dict[str, Any]:
    length = int(args.inputs.get("length", 32))
    seed = f"{stable_number(args.typ, args.name):x}" * 8
    return {"result": pulumi.Output.secret(("mock" + seed)[:length])}


def _random_bytes(args: MockResourceArgs) -> dict[str, Any]:
    length = int(args.inputs.get("length", 12))
    raw = hashlib.sha256(args.name.encode()).digest()[:length]
    return {"base64": pulumi.Output.secret(base64.b64encode(raw).decode()),
            "hex": pulumi.Output.secret(raw.hex())}


def _mock_pem(kind: str, seed: str) -> str:
    body = base64.b64encode(f"mock {kind} {seed}".encode()).decode()
    return f"-----BEGIN {kind}-----\n{body}\n-----END {kind}-----\n"


def _k3s_admin_kubeconfig(args: MockResourceArgs) -> str:
    """Mock data shaped like the /etc/rancher/k3s/k3s.yaml k3s writes (names, server, fields)."""
    seed = f"{stable_number(args.typ, args.name):012x}"

    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    return yaml.safe_dump({
        "apiVersion": "v1",
        "clusters": [{"cluster": {
            "certificate-authority-data": b64(_mock_pem("CERTIFICATE", f"server-ca {seed}")),
            "server": f"https://127.0.0.1:{API_PORT}"}, "name": "default"}],
        "contexts": [{"context": {"cluster": "default", "user": "default"}, "name": "default"}],
        "current-context": "default",
        "kind": "Config",
        "preferences": {},
        "users": [{"name": "default", "user": {
            "client-certificate-data": b64(_mock_pem("CERTIFICATE", f"client-admin {seed}")),
            "client-key-data": b64(_mock_pem("EC PRIVATE KEY", f"client-admin {seed}"))}}],
    }, sort_keys=False)


def _server_ca_hash(args: MockResourceArgs) -> str:
    return hashlib.sha256(f"mock server-ca {args.name}".encode()).hexdigest()


# What a remote command prints, by the script it runs. The bootstrap runs each script as
# `… bash -c '<script>' <script name>`, so the name is the last word of `create`.
_SCRIPT_STDOUT: dict[str, Callable[[MockResourceArgs], Any]] = {
    "read-kubeconfig.sh": lambda args: pulumi.Output.secret(_k3s_admin_kubeconfig(args)),
    "read-ca-hash.sh": _server_ca_hash,
}


def _remote_command(args: MockResourceArgs) -> dict[str, Any]:
    words = str(args.inputs.get("create", "")).split()
    script = words[-1] if words else ""
    stdout = _SCRIPT_STDOUT.get(script, lambda _: "")(args)
    return {"stdout": stdout, "stderr": ""}


ComputedOutputs = Callable[[MockResourceArgs], dict[str, Any]]

# Resource type → its provider-computed outputs. Types not listed echo their inputs only.
def _self_signed_cert(args: MockResourceArgs) -> dict[str, Any]:
    fingerprint = f"{stable_number(args.typ, args.name):012x}"
    return {"certPem": f"-----BEGIN CERTIFICATE-----\nmock-{fingerprint}\n"
                       "-----END CERTIFICATE-----\n"}


COMPUTED_OUTPUTS: dict[str, ComputedOutputs] = {
    "tls:index/selfSignedCert:SelfSignedCert": _self_signed_cert,
    "hcloud:index/server:Server": _server,
    "hcloud:index/loadBalancer:LoadBalancer": _load_balancer,
    "tls:index/privateKey:PrivateKey": _private_key,
    "random:index/randomPassword:RandomPassword": _random_password,
    "random:index/randomBytes:RandomBytes": _random_bytes,
    "command:remote:Command": _remote_command,
}


STACK_REFERENCE = "pulumi:pulumi:StackReference"


class OfflineProviders(Mocks):
    def __init__(self, previous_outputs: dict[str, Any] | None = None,
                 stack_references: dict[str, dict[str, Any]] | None = None,
                 own_stack: str | None = None) -> None:
        self.previous_outputs = dict(previous_outputs or {})
        """What the stack exported last time: answers the program's StackReference to itself
        (empty: a stack that was never deployed)."""
        self.stack_references = {name: dict(outputs)
                                 for name, outputs in (stack_references or {}).items()}
        """Other stacks' outputs by fully qualified name (``org/project/stack``), e.g. a fake
        Cluster Mesh peer; a name not listed reads as a stack that was never deployed."""
        self.own_stack = own_stack
        """This stack's fully qualified name; None: every unlisted reference is to itself."""

    def referenced_outputs(self, stack_name: str) -> dict[str, Any]:
        if stack_name in self.stack_references:
            return dict(self.stack_references[stack_name])
        if self.own_stack is None or stack_name == self.own_stack:
            return dict(self.previous_outputs)
        return {}

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.typ == STACK_REFERENCE:
            stack_name = str(args.inputs.get("name") or args.name)
            return args.name, {"name": stack_name,
                               "outputs": self.referenced_outputs(stack_name),
                               "secretOutputNames": []}
        if args.typ.startswith("hcloud:"):
            resource_id = str(10_000_000 + stable_number(args.typ, args.name) % 90_000_000)
        else:
            resource_id = f"{args.name}-id"
        outputs = dict(args.inputs)
        computed = COMPUTED_OUTPUTS.get(args.typ)
        if computed:
            outputs.update(computed(args))
        return resource_id, outputs

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], None]:
        # No provider functions are answered offline; the program must not depend on them.
        return {}, None
