"""Call a policy the way the analyzer does, on one resource or a whole stack of them."""

from __future__ import annotations

from typing import Any

from pulumi_policy import (
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from tools.lib.policy_gate import policy_settings

UNKNOWN = UNKNOWN_STRING_VALUE


def options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], False, [], PolicyCustomTimeouts(0, 0, 0), [])


def check_resource(policy: Policy, resource_type: str, props: dict[str, Any], name: str = "r",
                   config: dict[str, Any] | None = None) -> list[str]:
    """Messages the policy reports for one resource (schema defaults < ``config``)."""
    _, settings = policy_settings(policy, {policy.name: config or {}})
    messages: list[str] = []
    args = ResourceValidationArgs(resource_type, unknown_checking_proxy(props), f"urn:{name}",
                                  name, options(), None, settings)
    policy.validate(args, lambda message, urn=None: messages.append(message))
    return messages


def stack_resource(resource_type: str, props: dict[str, Any], name: str,
                   dependencies: list[PolicyResource] | None = None) -> PolicyResource:
    return PolicyResource(resource_type, unknown_checking_proxy(props), f"urn:{name}", name,
                          options(), None, None, dependencies or [], {})


def check_stack(policy: Policy, resources: list[PolicyResource],
                config: dict[str, Any] | None = None) -> list[str]:
    _, settings = policy_settings(policy, {policy.name: config or {}})
    messages: list[str] = []
    policy.validate(StackValidationArgs(resources, settings),
                    lambda message, urn=None: messages.append(message))
    return messages
