"""``workerPools[].autoscaling``: the part of a pool the cluster-autoscaler sizes, and its limits.

A pool with ``autoscaling: {min, max}`` has two kinds of nodes:

- ``count`` nodes Pulumi creates and owns (``<pool>-1`` … ``<pool>-<count>``, on the pool's
  address block, bootstrapped over SSH like any worker). ``count`` defaults to ``min``;
- up to ``max - count`` nodes the cluster-autoscaler creates and deletes in the node group
  ``<cluster>-<pool>``. They are not in Pulumi state.

The autoscaler never touches Pulumi's nodes (they carry no ``hcloud/node-group`` label, so the
Hetzner provider does not count them in any group) and Pulumi never touches the autoscaler's.
The pool therefore always has between ``count`` (≥ ``min``) and ``max`` nodes.

Upstream facts used here (cluster-autoscaler ``cloudprovider/hetzner``, the pinned release):
- servers are named ``<node group>-<random int63 in hex>`` (``newNodeName``): at most 16 hex
  digits after the group name, and server names are RFC 1123 labels (≤ 63 characters);
- a node group's servers may join one placement group, and the provider refuses to start when
  the node groups sharing a placement group may grow past 10 servers (``maxPlacementGroupSize``);
- servers attach to ``HCLOUD_NETWORK`` at creation and Hetzner assigns their address: the lowest
  free one of the subnet, which ``address_plan.py`` keeps free in block 0.

Pure: no Pulumi.
"""

from __future__ import annotations

from pydantic import NonNegativeInt, PositiveInt, model_validator

from stack_config.base import StrictModel
from stack_config.errors import KeyedValueError
from upstream.cluster_autoscaler import (  # noqa: F401 (re-exported for the config model)
    AUTO_ASSIGNED_HOSTS,
    MAX_AUTOSCALED_SERVERS,
    NODE_GROUP_PLACEMENT_LABEL,
    RESERVED_FOR_LOAD_BALANCERS,
)
from upstream.hetzner import MAX_RESOURCE_NAME, MAX_SERVERS_PER_PLACEMENT_GROUP

# ``newNodeName``: fmt.Sprintf("%s-%x", group, rand.Int63()) → '-' plus up to 16 hex digits.
SERVER_NAME_SUFFIX = 1 + 16
MAX_NODE_GROUP_NAME = MAX_RESOURCE_NAME - SERVER_NAME_SUFFIX

class AutoscalingConfig(StrictModel):
    """The pool's size range; the cluster-autoscaler keeps it between ``min`` and ``max``."""

    min: NonNegativeInt = 0
    """Fewest nodes the cluster-autoscaler scales the pool down to."""
    max: PositiveInt
    """Most nodes the cluster-autoscaler scales the pool up to."""

    @model_validator(mode="after")
    def _ordered(self) -> "AutoscalingConfig":
        if self.max < self.min:
            raise KeyedValueError("max", f"max ({self.max}) is smaller than min ({self.min}).",
                                  "set max to min or more.")
        return self


def node_group_name(cluster: str, pool: str) -> str:
    """The Hetzner provider's node group id: server-name prefix and ``hcloud/node-group`` label.

    The cluster name keeps two clusters in one Hetzner project apart: the provider finds a
    group's servers by that label alone.
    """
    return f"{cluster}-{pool}"


def autoscaled_share(count: int, maximum: int) -> int:
    """How many servers the autoscaler may create for the pool (Pulumi owns the other ``count``)."""
    return maximum - count


def spreads_autoscaled_nodes(share: int) -> bool:
    """Whether the autoscaler's servers of a pool get a spread placement group of their own.

    The provider puts all servers of a node group into its one placement group and refuses to
    start if that group could exceed 10 servers; a larger share runs without spread.
    """
    return 0 < share <= MAX_SERVERS_PER_PLACEMENT_GROUP
