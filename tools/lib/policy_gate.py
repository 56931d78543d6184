"""Run the CrossGuard pack in-process over an offline plan.

Each policy gets what the Pulumi analyzer would give it: resource inputs with secrets unwrapped,
wrapped in the SDK's unknown-checking proxy, the resource options, parent and dependencies, and
its own config (schema defaults overlaid by the pack config, in the CLI's
``--policy-pack-config`` JSON format).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from policies.pack import all_policies
from tools.lib.engine import Plan, RecordedResource

Level = Literal["advisory", "mandatory", "disabled"]


@dataclass(frozen=True)
class Violation:
    policy: str
    enforcement_level: Level
    message: str
    urn: str | None

    def to_json(self) -> dict[str, Any]:
        return {"policy": self.policy, "enforcementLevel": self.enforcement_level,
                "message": self.message, "urn": self.urn}


def load_pack_config(path: Path | None) -> dict[str, Any]:
    return json.loads(path.read_text()) if path else {}


def policy_settings(policy: Policy, pack_config: dict[str, Any]) -> tuple[Level, dict[str, Any]]:
    """Enforcement level and config of one policy: schema defaults < ``all`` < its own entry."""
    level: Level = (policy.enforcement_level or EnforcementLevel.ADVISORY).value
    config: dict[str, Any] = {}
    if policy.config_schema:
        for key, schema in policy.config_schema.properties.items():
            if "default" in schema:
                config[key] = schema["default"]
    for entry in (pack_config.get("all"), pack_config.get(policy.name)):
        if isinstance(entry, str):
            level = entry  # type: ignore[assignment]
        elif isinstance(entry, dict):
            level = entry.get("enforcementLevel", level)
            config.update({k: v for k, v in entry.items() if k != "enforcementLevel"})
    return level, config


def _options(resource: RecordedResource) -> PolicyResourceOptions:
    timeouts = resource.options.get("customTimeouts", {})
    return PolicyResourceOptions(
        protect=resource.options["protect"],
        ignore_changes=resource.options["ignoreChanges"],
        delete_before_replace=resource.options["deleteBeforeReplace"],
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(
            _seconds(timeouts.get("create")), _seconds(timeouts.get("update")),
            _seconds(timeouts.get("delete"))),
        additional_secret_outputs=resource.options["additionalSecretOutputs"],
        parent=resource.parent,
    )


def _seconds(duration: str | None) -> float:
    if not duration:
        return 0.0
    units = {"s": 1, "m": 60, "h": 3600}
    return float(duration[:-1]) * units[duration[-1]] if duration[-1] in units else float(duration)


def _run(result: Any) -> None:
    if inspect.isawaitable(result):
        asyncio.run(_await(result))


async def _await(result: Any) -> None:
    await result


def _policy_resources(plan: Plan, props: dict[str, Any]) -> list[PolicyResource]:
    """The stack view: parents and dependencies are resource objects, as the analyzer gives them."""
    by_urn = {
        r.urn: PolicyResource(r.type, props[r.urn], r.urn, r.name, _options(r), None, None, [], {})
        for r in plan.resources
    }
    for recorded in plan.resources:
        resource = by_urn[recorded.urn]
        resource.parent = by_urn.get(recorded.parent) if recorded.parent else None
        resource.dependencies = [by_urn[u] for u in recorded.dependencies if u in by_urn]
        resource.property_dependencies = {
            key: [by_urn[u] for u in urns if u in by_urn]
            for key, urns in recorded.property_dependencies.items()}
    return list(by_urn.values())


# CrossGuard policies receive secrets already decrypted, so no pack policy can tell a secret
# output from a plain one. The offline gate still sees the secret markers: it checks outputs here.
OUTPUT_SECRECY_POLICY = "stack-outputs-keep-secrets"
SECRET_OUTPUT_NAME = re.compile(r"kubeconfig|token|private.?key|password|secret", re.IGNORECASE)


def output_violations(plan: Plan) -> list[Violation]:
    return [Violation(OUTPUT_SECRECY_POLICY, "mandatory",
                      f"Stack output '{name}' looks like a secret but is exported in plain text. "
                      "Fix: export it wrapped in pulumi.Output.secret(...).", None)
            for name, output in sorted(plan.outputs.items())
            if SECRET_OUTPUT_NAME.search(name) and not output.secret]


def evaluate(plan: Plan, pack_config: dict[str, Any] | None = None,
             policies: list[Policy] | None = None) -> list[Violation]:
    pack_config = pack_config or {}
    violations: list[Violation] = list(output_violations(plan)) if policies is None else []
    props = {r.urn: unknown_checking_proxy(r.plain_inputs()) for r in plan.resources}
    stack_resources = _policy_resources(plan, props)
    for policy in policies if policies is not None else all_policies():
        level, config = policy_settings(policy, pack_config)
        if level == "disabled":
            continue

        def report(message: str, urn: str | None = None, *, _default: str | None = None,
                   _policy: str = policy.name, _level: Level = level) -> None:
            violations.append(Violation(_policy, _level, message, urn or _default))

        try:
            if isinstance(policy, ResourceValidationPolicy):
                for resource in plan.resources:
                    args = ResourceValidationArgs(resource.type, props[resource.urn], resource.urn,
                                                  resource.name, _options(resource), None, config)
                    _run(policy.validate(args, lambda m, u=None, _r=resource.urn: report(m, u, _default=_r)))
            elif isinstance(policy, StackValidationPolicy):
                _run(policy.validate(StackValidationArgs(stack_resources, config), report))
        except UnknownValueError:
            # As the CLI does: a policy that reads an unknown value cannot run during preview.
            violations.append(Violation(policy.name, "advisory",
                                        "can't run policy during preview: a value it reads is "
                                        "unknown until deployment", None))
    return violations
