"""The stack configuration: one typed model tree, validated once at the top of the program.

Data flows one way: ``Pulumi.<stack>.yaml`` → :func:`load_cluster_spec` → :class:`ClusterSpec` →
components. Nothing in this package performs I/O during validation.
"""

from stack_config.errors import ConfigError
from stack_config.loader import PROJECT, load_cluster_spec, validate_cluster_spec
from stack_config.schema import ClusterSpec

__all__ = ["PROJECT", "ClusterSpec", "ConfigError", "load_cluster_spec", "validate_cluster_spec"]
