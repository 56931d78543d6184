"""The servers' side of the API load balancer's readiness check (``cluster_plan/api_readiness.py``).

Creates, when the cluster has an API load balancer:
- ``<key>-api-readiness`` (command:remote:Command) per server: waits for boot, then installs the
  answer to the check (``install-api-readiness.sh``, the answer ``api-readiness.sh`` on stdin);
  re-run only when the answer or its socket change, never restarting k3s. The install asks its
  answer over the private address and fails unless it says 200 (k3s runs) or 503 (not yet).
  The load balancer's service is created (or, on a running cluster, switched to this check)
  only after every server's install passed, so a fault common to every server stops there;
- ``<cluster>-api-routes`` (on the first server, after its k3s): waits until the load balancer
  routes to a ready apiserver. Joiners and the in-cluster layer start after it.

Servers behind the load balancer take themselves out of rotation around a k3s restart
(``rotation_env``, read by ``apply-k3s.sh``).
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_command as command

from cluster_plan import api_readiness
from components.bootstrap import paths
from components.bootstrap.remote_script import remote_script, script_text
from components.handles import NodeHandle
from upstream.k3s import API_PORT, SERVICE_BY_ROLE

ANSWER_SCRIPT = "api-readiness.sh"
TIMEOUTS = pulumi.CustomTimeouts(create="20m", update="10m")
"""The boot wait (up to the boot step's budget) plus the install."""
ROUTES_WAIT_SECONDS = 600
ROUTES_INTERVAL_SECONDS = 5
ROUTES_TIMEOUTS = pulumi.CustomTimeouts(create="15m", update="15m")
"""The wait's own deadline plus a margin: it fails with its hint before Pulumi gives up."""


def _client_env() -> dict[str, str]:
    """The identity /readyz is asked with: the kube-proxy client certificate (least privilege of
    the client certificates k3s keeps on every server), verified against the server CA."""
    return {"CA_FILE": paths.SERVER_CA_FILE, "CLIENT_CERT": paths.KUBE_PROXY_CLIENT_CERT,
            "CLIENT_KEY": paths.KUBE_PROXY_CLIENT_KEY}


def rotation_env() -> dict[str, str]:
    """``apply-k3s.sh``'s inputs on a server behind the load balancer."""
    return {"ROTATION_MARKER": api_readiness.OUT_OF_ROTATION_MARKER,
            "ROTATION_SECONDS": str(api_readiness.routing_seconds())}


def install_answer(server: NodeHandle, connection: command.remote.ConnectionArgs, *, sudo: bool,
                   after: Sequence[pulumi.Resource], parent: pulumi.Resource
                   ) -> command.remote.Command:
    """``<key>-api-readiness``: the server answers the load balancer's check from now on."""
    # stdin carries the answer script to the installer: the boot wait must not read it.
    install = " && ".join([
        remote_script("wait-for-boot.sh", sudo=sudo) + " </dev/null",
        remote_script("install-api-readiness.sh", {
            "LISTEN_ADDRESS": server.private_ip, "PORT": str(api_readiness.PORT),
            "READYZ_URL": f"https://127.0.0.1:{API_PORT}{api_readiness.PATH}",
            "MARKER": api_readiness.OUT_OF_ROTATION_MARKER,
            "K3S_SERVICE": SERVICE_BY_ROLE["server"], **_client_env()}, sudo=sudo)])
    return command.remote.Command(
        f"{server.key}-api-readiness", connection=connection,
        create=install, update=install, stdin=script_text(ANSWER_SCRIPT),
        logging=command.remote.Logging.STDOUT_AND_STDERR,
        opts=pulumi.ResourceOptions(parent=parent, custom_timeouts=TIMEOUTS,
                                    depends_on=[server.server, *after]))


def await_routes(name: str, load_balancer_ip: str,
                 connection: command.remote.ConnectionArgs, *, sudo: bool,
                 after: Sequence[pulumi.Resource], parent: pulumi.Resource
                 ) -> command.remote.Command:
    """``<cluster>-api-routes``: on the first server, until the load balancer routes to it."""
    return command.remote.Command(
        f"{name}-api-routes", connection=connection,
        create=remote_script("await-api-routes.sh", {
            "API_URL": f"https://{load_balancer_ip}:{API_PORT}",
            "WAIT_SECONDS": str(ROUTES_WAIT_SECONDS), "INTERVAL": str(ROUTES_INTERVAL_SECONDS),
            **_client_env()}, sudo=sudo),
        logging=command.remote.Logging.STDOUT_AND_STDERR,
        opts=pulumi.ResourceOptions(parent=parent, custom_timeouts=ROUTES_TIMEOUTS,
                                    depends_on=list(after)))
