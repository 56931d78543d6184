"""Remote commands: pinned host keys, no secret in command text, no secret in the logs.

pulumi-command without ``connection.hostKey`` trusts whatever key answers; a failing command's
error message contains its full command text and output, so a secret there ends up in logs and
CI output. The analyzer hands policies secrets already decrypted, so secrets
in text are recognised by their shape.
"""

from __future__ import annotations

import re

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.rules.types import REMOTE_COMMAND

_TEXT_KEYS = ("create", "update", "delete")
# Literal values only: `$VAR`, `"$VAR"` and `--token-file` are how secrets should travel.
SECRET_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("a k3s secure join token", re.compile(r"K10[0-9a-f]{64}::")),
    ("a k3s token", re.compile(r"\b(K3S_TOKEN|K3S_AGENT_TOKEN)=(?![\"']?\$)[^\s\"']+")),
    ("a k3s token", re.compile(r"--(agent-)?token[= ](?![\"']?\$)[^\s\"']+")),
    ("the Hetzner API token", re.compile(r"\bHCLOUD_TOKEN=(?![\"']?\$)[^\s\"']+")),
    ("a datastore password", re.compile(r"--datastore-endpoint[= ]\S*://[^:/\s]+:[^@\s$]+@")),
)
# Files whose content is a secret; a command printing one must not log its stdout.
SECRET_FILES = re.compile(r"/etc/rancher/k3s/k3s\.yaml|/var/lib/rancher/k3s/server/(node-)?token"
                          r"|/etc/rancher/k3s/(cluster|agent)-token")
QUIET_LOGGING = ("stderr", "none")


def _host_key(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != REMOTE_COMMAND:
        return
    connection = args.props.get("connection") or {}
    if not connection.get("hostKey"):
        report(f"Remote command '{args.name}' does not pin the server's host key "
               "(connection.host_key): it would trust any machine that answers on "
               f"{connection.get('host') or 'its host'}. Fix: set connection.host_key to the "
               "server's public host key (k3s-hcloud generates one per server).", None)
    proxy = connection.get("proxy")
    if proxy and not proxy.get("hostKey"):
        report(f"Remote command '{args.name}' does not pin the jump host's key "
               "(connection.proxy.host_key). Fix: pin the bastion's public host key.", None)


def _secret_in_text(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != REMOTE_COMMAND:
        return
    environment = args.props.get("environment") or {}
    texts = [(key, str(args.props.get(key) or "")) for key in _TEXT_KEYS]
    texts += [(f"environment.{name}", f"{name}={value}") for name, value in environment.items()]
    for where, text in texts:
        for what, shape in SECRET_SHAPES:
            if shape.search(text):
                report(f"Remote command '{args.name}' has {what} in its {where} text: failures "
                       "print the whole command, so it would land in logs and CI output. Fix: "
                       "send it on stdin (marked secret) and have the script write a file.", None)
                break


def _secret_output_logged(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != REMOTE_COMMAND:
        return
    text = " ".join(str(args.props.get(key) or "") for key in _TEXT_KEYS)
    stdin = str(args.props.get("stdin") or "")
    handles_secret = bool(SECRET_FILES.search(text)) or any(
        shape.search(stdin) for _, shape in SECRET_SHAPES)
    logging = args.props.get("logging") or "stdoutAndStderr"
    if handles_secret and logging not in QUIET_LOGGING:
        report(f"Remote command '{args.name}' handles a secret (a secret file or secret stdin) "
               f"and logs {logging}: its output would be shown in clear. Fix: set logging to "
               "'stderr' or 'none' and mark stdout secret.", None)


host_key_pinned = ResourceValidationPolicy(
    name="remote-command-host-key-pinned",
    description="Every remote command pins the host key of the server (and jump host) it uses.",
    validate=_host_key,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps="Set connection.host_key (and proxy.host_key).",
    url="https://www.pulumi.com/registry/packages/command/api-docs/remote/command/",
)

no_secret_in_text = ResourceValidationPolicy(
    name="remote-command-no-secret-in-text",
    description="No secret in a remote command's text or environment (stdin only).",
    validate=_secret_in_text,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    remediation_steps="Pass secrets on stdin and write them to files the program reads.",
)

secret_output_not_logged = ResourceValidationPolicy(
    name="remote-command-secret-output-not-logged",
    description="A remote command that reads or receives a secret does not log its stdout.",
    validate=_secret_output_logged,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps="logging: stderr (or none), and additional_secret_outputs for stdout.",
)

POLICIES = [host_key_pinned, no_secret_in_text, secret_output_not_logged]
