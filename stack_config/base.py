"""Shared building blocks of the config models: strict camelCase models and domain types."""

from __future__ import annotations

import re
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, StringConstraints
from pydantic.alias_generators import to_camel

from upstream.hetzner import NETWORK_ZONE_BY_LOCATION


class StrictModel(BaseModel):
    """Keys are written in camelCase (as in ``Pulumi.<stack>.yaml``); unknown keys are errors."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        validate_default=True,
        use_attribute_docstrings=True,
    )


_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def _dns_label(value: str) -> str:
    if not _DNS_LABEL.match(value):
        raise ValueError(
            f"'{value}' is not a DNS label. Fix: use 1-63 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit.")
    return value


def _cidr(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return ip_network(value, strict=True)
    except ValueError as error:
        raise ValueError(
            f"'{value}' is not a network in CIDR form ({error}). "
            "Fix: write it like 203.0.113.0/24 or 2001:db8::/32, with no host bits set.") from None


# RFC 1123 label: what Hetzner server names, Kubernetes node names and k3s node names all accept.
DnsLabel = Annotated[str, AfterValidator(_dns_label)]
# An IPv4 or IPv6 network; one clear error instead of one per union member.
Cidr = Annotated[IPv4Network | IPv6Network, BeforeValidator(_cidr)]
Location = Literal[tuple(NETWORK_ZONE_BY_LOCATION)]  # type: ignore[valid-type]
# Server types change names over time (cx22 → cx23); only the shape is checked offline.
ServerType = Annotated[str, StringConstraints(pattern=r"^[a-z]+[0-9]+[a-z]*$")]
Image = Annotated[str, StringConstraints(min_length=1)]

DEFAULT_IMAGE = "ubuntu-24.04"
DEFAULT_SERVER_TYPE = "cx23"
