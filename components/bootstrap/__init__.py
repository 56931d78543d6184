"""The k3s bootstrap layer: from booted servers to a joined cluster and its kubeconfig."""
