"""Other stacks' names as ``pulumi.StackReference`` needs them."""

from __future__ import annotations

import pulumi


def qualified(stack: str) -> str:
    """``stack`` or ``project/stack`` completed to ``org/project/stack`` like this stack's."""
    parts = stack.split("/")
    prefix = [pulumi.get_organization(), pulumi.get_project()][: 3 - len(parts)]
    return "/".join([*prefix, *parts])
