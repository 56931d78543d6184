"""The explicit hcloud provider, so the token is one secret input and never ambient state."""

from __future__ import annotations

import os

import pulumi
import pulumi_hcloud as hcloud

from stack_config.errors import ConfigError, ConfigProblem

TOKEN_HELP = (
    "set it as a secret: `pulumi config set --secret hcloud:token`, or import an ESC environment "
    "whose pulumiConfig sets hcloud:token (or environmentVariables HCLOUD_TOKEN).")


def hcloud_token() -> pulumi.Output[str]:
    """The Hetzner API token as a secret Output, even when the stack stored it in plain text.

    Fails before any resource is registered when neither ``hcloud:token`` nor ``HCLOUD_TOKEN``
    is set, instead of letting the provider fail halfway through a deployment.
    """
    config = pulumi.Config("hcloud")
    if config.get_secret("token") is None and not os.environ.get("HCLOUD_TOKEN"):
        problem = ConfigProblem("hcloud:token", f"no Hetzner Cloud API token. Fix: {TOKEN_HELP}")
        raise ConfigError([problem])
    token = config.get_secret("token")
    if token is None:
        token = pulumi.Output.from_input(os.environ["HCLOUD_TOKEN"])
    return pulumi.Output.secret(token)


def hcloud_provider(name: str, token: pulumi.Output[str],
                    opts: pulumi.ResourceOptions | None = None) -> hcloud.Provider:
    return hcloud.Provider(name, token=token, opts=opts)
