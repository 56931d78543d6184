"""The k3s bootstrap layer: from booted servers to a joined cluster and its kubeconfig.

Pure renderers (``k3s_config``, ``registries``, ``hardening``, ``kubeconfig``, ``bundle``), the
SSH ``connection`` factory, the shell ``scripts/`` and the components ``K3sBootstrap`` /
``K3sNode``. The interface to other layers is :class:`K3sBootstrap` (``kubeconfig``, ``ready``).
"""

from components.bootstrap.bootstrap import K3sBootstrap

__all__ = ["K3sBootstrap"]
