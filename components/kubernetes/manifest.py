"""Register one rendered manifest (``apiVersion``/``kind``/``metadata``/``spec``) as a resource.

The renderers in this package return plain dicts, tested without Pulumi; this is the only place
that turns such a dict into a ``kubernetes.apiextensions.CustomResource``.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as kubernetes


def custom_resource(resource_name: str, manifest: dict[str, Any],
                    opts: pulumi.ResourceOptions) -> kubernetes.apiextensions.CustomResource:
    return kubernetes.apiextensions.CustomResource(
        resource_name,
        api_version=manifest["apiVersion"],
        kind=manifest["kind"],
        metadata=manifest["metadata"],
        spec=manifest["spec"],
        opts=opts)
