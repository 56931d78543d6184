"""The Hetzner Cloud layer: network, firewalls, SSH keys, bastion/NAT, control plane, worker pools.

``infrastructure.HetznerInfrastructure`` is the entry point; it hands ``components.handles`` records
to the k3s bootstrap. The pure modules (``address_plan``, ``placement``, ``firewall_rules``,
``cloud_init``) import nothing from Pulumi, so the config validator can use them too. Keep this
file free of imports: ``stack_config`` imports the pure modules through this package.
"""
