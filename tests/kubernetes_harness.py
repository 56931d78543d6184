"""Plan the Kubernetes layer on its own, through the real offline engine.

Until the lead wires the layers into ``K3sCluster``, a small program stands in for the rest of
the stack: it loads the stack config exactly as ``__main__.py`` does, creates an hcloud Network
(standing in for the infrastructure layer's) and instantiates ``KubernetesLayer`` with a literal
kubeconfig secret (TEST DATA: no cluster exists; the mocks never connect). Replace these calls
with whole-program plans (``tests.helpers.plan_example``) once the layers are wired.
"""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from tests.helpers import PROJECT_DIR, write_stack_file
from tools.lib.engine import Plan, run_program
from tools.lib.stack_files import load_stack_config

HARNESS_PROGRAM = '''
import sys

sys.path.insert(0, {project_dir!r})

import pulumi
import pulumi_hcloud as hcloud

from components.kubernetes import KubernetesLayer
from components.provider import hcloud_token
from stack_config import load_cluster_spec

# TEST DATA: a literal kubeconfig; the offline engine never connects to it.
TEST_KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- name: harness
  cluster: {{server: "https://127.0.0.1:6443", certificate-authority-data: dGVzdA==}}
users:
- name: harness
  user: {{client-certificate-data: dGVzdA==, client-key-data: SEFSTkVTUy1URVNULUtFWQ==}}
contexts:
- name: harness
  context: {{cluster: harness, user: harness}}
current-context: harness
"""

spec = load_cluster_spec()
for advisory in spec.advisories():
    pulumi.log.warn(advisory)
network = hcloud.Network("harness-network", ip_range=str(spec.network.cidr))
layer = KubernetesLayer(spec.cluster_name, spec, pulumi.Output.secret(TEST_KUBECONFIG),
                        hcloud_token(), network.id, cluster_identity="harness-ca",
                        depends_on=[network])
if layer.gateway_name is not None:
    pulumi.export("gatewayName", layer.gateway_name)
    pulumi.export("gatewayNamespace", layer.gateway_namespace)
'''

# The literal above, for tests that look for leaks.
TEST_KUBECONFIG_MARKER = "SEFSTkVTUy1URVNULUtFWQ=="
NETWORK_TYPE = "hcloud:index/network:Network"


@cache
def harness_dir() -> Path:
    directory = Path(tempfile.mkdtemp(prefix="k8s-layer-harness-"))
    (directory / "__main__.py").write_text(HARNESS_PROGRAM.format(project_dir=str(PROJECT_DIR)))
    return directory


def plan_layer_stack_file(stack_file: Path, stack: str | None = None) -> Plan:
    return run_program(harness_dir(), load_stack_config(PROJECT_DIR, stack_file, stack))


def plan_layer_example(stack: str) -> Plan:
    return plan_layer_stack_file(PROJECT_DIR / f"Pulumi.{stack}.yaml")


def plan_layer_config(directory: Path, config: dict[str, Any], stack: str = "test") -> Plan:
    return plan_layer_stack_file(write_stack_file(directory, config, stack), stack)
