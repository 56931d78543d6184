"""Pure derivations from a stack's plain values: the plans both the config model and the
components read (address plan, placement groups, firewall rules, Cilium Helm values, the
bastion's SSH admission, Cluster Mesh values, resource names).

No Pulumi and no ``stack_config`` or ``components`` imports (``tests/test_layering.py``): the
config model validates with these plans, the components register resources from them.
"""
