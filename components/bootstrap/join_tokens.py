"""The cluster's join tokens: random secrets, and the secure form joiners use.

- The **cluster token** (servers' ``token-file``) and a separate **agent token** (servers'
  ``agent-token-file``): agents never hold the token that grants server (admin) power.
- A node that joins through the supervisor gets the secure form
  ``K10<sha256 of the server CA>::<user>:<password>`` so it verifies the cluster CA before sending
  credentials; the first server (and servers on an external datastore) use the bare password.

Ref: https://docs.k3s.io/cli/token ("Token Format", "Token Types")
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi
import pulumi_random as random

from components.handles import Role
from upstream.k3s import SECURE_TOKEN_PREFIX, TOKEN_USER_BY_ROLE

TOKEN_LENGTH = 64
_CA_HASH = re.compile(r"^[0-9a-f]{64}$")


class CaHashError(pulumi.RunError):
    """The first server did not report a usable CA hash."""


@dataclass(frozen=True)
class JoinTokens:
    cluster: pulumi.Output[str]
    agent: pulumi.Output[str]
    resources: tuple[pulumi.Resource, ...]


def join_tokens(name: str, opts: pulumi.ResourceOptions) -> JoinTokens:
    # Letters and digits only: a ':' would break the K10<hash>::<user>:<password> format. No
    # keepers: the tokens must never change once the cluster exists.
    cluster = random.RandomPassword(f"{name}-cluster-token", length=TOKEN_LENGTH, special=False,
                                    opts=opts)
    agent = random.RandomPassword(f"{name}-agent-token", length=TOKEN_LENGTH, special=False,
                                  opts=opts)
    return JoinTokens(cluster=pulumi.Output.secret(cluster.result),
                      agent=pulumi.Output.secret(agent.result), resources=(cluster, agent))


def secure_token(ca_hash: str, role: Role, password: str) -> str:
    ca_hash = ca_hash.strip()
    if not _CA_HASH.match(ca_hash):
        raise CaHashError(f"the first server reported '{ca_hash}' as its CA hash, not a SHA-256 "
                          "hex digest; joiners cannot pin the cluster CA. Fix: check k3s on the "
                          "first server (journalctl -u k3s) and run pulumi up again.")
    return f"{SECURE_TOKEN_PREFIX}{ca_hash}::{TOKEN_USER_BY_ROLE[role]}:{password}"
