"""The API load balancer's readiness check: which servers take API traffic, and when.

A TCP check on 6443 passes as soon as k3s listens there, and k3s's supervisor listens well
before the apiserver behind it answers (it replies "apiserver not ready" meanwhile): a joining or
restarting server would take requests it fails. So every server answers the load balancer on its
private address (``PORT``) with ``/readyz`` of its own apiserver, asked with the kube-proxy client
certificate k3s generates on every server (any authenticated client may read ``/readyz``: the
``system:public-info-viewer`` role; k3s turns anonymous access off, k3s-io/k3s#3576, and this
keeps it off). A server about to restart k3s takes itself out of rotation first (a marker file
the answer reads) and waits until the load balancer has noticed.

Ref: Hetzner Cloud API reference, load balancer services: a health check's ``port`` may differ
from the service's, ``protocol: http`` checks a path and status codes, and "an unhealthy target
needs the same number of successful retries to become healthy again". hcloud-cloud-controller-
manager exposes the same independence for TCP services (``load-balancer.hetzner.cloud/
health-check-protocol: tcp | http | https`` and ``health-check-port``,
docs/reference/load_balancer_annotations.md).

Pure: no Pulumi. The load balancer (the check), the bootstrap (the answer, the marker) and the
latency model read the same numbers.
"""

from __future__ import annotations

PORT = 6445
"""Where each server answers the check, on its private address only (the private network is
not filtered by Hetzner firewalls; nothing listens on the public interface). k3s uses 6443 (API,
supervisor) and 6444 (the local apiserver)."""
PATH = "/readyz"
STATUS_CODES = ("200",)

INTERVAL_SECONDS = 5
TIMEOUT_SECONDS = 4
RETRIES = 3


def health_check() -> dict[str, int]:
    """The load balancer service's check timings (``LoadBalancerServiceHealthCheckArgs``)."""
    return {"interval": INTERVAL_SECONDS, "timeout": TIMEOUT_SECONDS, "retries": RETRIES}


def routing_seconds() -> int:
    """Worst case until the load balancer changes its mind about a target, either way. Hetzner
    counts "unsuccessful retries needed until a target is considered unhealthy": read on the
    slow side as the first failed check plus ``RETRIES`` more, each up to an interval apart,
    the last taking up to its timeout (the same count of passes brings it back)."""
    return (RETRIES + 1) * INTERVAL_SECONDS + TIMEOUT_SECONDS


OUT_OF_ROTATION_MARKER = "/run/k3s-hcloud/api-out-of-rotation"
"""While this file exists the server answers "out of rotation". Under /run: a reboot clears it,
so a server never stays out by accident."""
