"""Upstream versions and the compatibility facts that depend on them.

One place, read by the config validator (``stack_config``), the components and the policy pack
(``policies``), so a fact is written once. Each fact cites where it was read.
"""
