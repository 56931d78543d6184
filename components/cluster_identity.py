"""The previous run's ``clusterIdentity``, read back, and the gate that refuses destructive edits.

The program reads its own stack's last outputs through a ``StackReference`` to the same stack
(``<organization>/<project>/<stack>``): a stack that was never deployed has no
``clusterIdentity``, so nothing is refused; once the cluster exists, an edit of an identity key
(``stack_config/identity.py``) raises a ``ConfigError`` (a ``RunError``: the CLI prints it
without a traceback) unless acknowledged. The hcloud provider's token waits for that check
(:func:`gated`), so no Hetzner resource is touched — not even with ``--skip-preview`` — before
the edit was found acceptable.
"""

from __future__ import annotations

from typing import Any

import pulumi

from stack_config import ClusterSpec
from stack_config.identity import check_identity

OUTPUT = "clusterIdentity"


def own_stack_name() -> str:
    return f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}"


def previous_identity() -> pulumi.Output[Any]:
    """The ``clusterIdentity`` this stack exported last time (None before the first update)."""
    return pulumi.StackReference(own_stack_name()).get_output(OUTPUT)


def checked_identity(spec: ClusterSpec) -> pulumi.Output[dict]:
    """The current identity, once the previous one allows it (fails the run otherwise)."""
    return previous_identity().apply(
        lambda previous: check_identity(previous, spec, spec.acknowledge))


def gated(value: pulumi.Output[str], identity: pulumi.Output[dict]) -> pulumi.Output[str]:
    """``value`` (secret kept) available only after the identity check passed."""
    return pulumi.Output.all(identity, value).apply(lambda both: both[1])
