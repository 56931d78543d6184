"""Shared building blocks of the config models: strict camelCase models and domain types."""

from __future__ import annotations

import re
import types
import typing
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_network
from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from stack_config.errors import KeyedValueError, KeyedValueErrors
from upstream.hetzner import NETWORK_ZONE_BY_LOCATION

StackReferenceName = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+){0,2}$")]
"""``stack``, ``project/stack`` or ``org/project/stack``, as ``pulumi stack ls`` spells it."""

# Validation context key: the top-level keys the Pulumi CLI marks secret.
SECRET_KEYS_CONTEXT = "secretKeys"


def _plain_annotation(annotation: Any) -> Any:
    """``Annotated[int, ...] | None`` → ``int``; other unions and containers stay as they are."""
    while typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return _plain_annotation(members[0])
    return annotation


def is_text_annotation(annotation: Any) -> bool:
    """True for fields whose value is text (``str``, a ``Literal`` of strings)."""
    plain = _plain_annotation(annotation)
    if typing.get_origin(plain) is Literal:
        return all(isinstance(v, str) for v in typing.get_args(plain))
    return plain is str


class StrictModel(BaseModel):
    """Keys are written in camelCase (as in ``Pulumi.<stack>.yaml``); unknown keys are errors.

    Counts and switches are strict: YAML ``true`` is not the count 1, and ``1`` or ``"yes"`` is
    not a switch (pydantic's lax mode would convert both silently).
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        validate_default=True,
        use_attribute_docstrings=True,
    )

    @model_validator(mode="before")
    @classmethod
    def _strict_numbers_and_switches(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        problems = []
        for name, field in cls.model_fields.items():
            key = field.alias or name
            if key not in data and name not in data:
                continue
            value = data.get(key, data.get(name))
            plain = _plain_annotation(field.annotation)
            if plain is int and isinstance(value, bool):
                problems.append(KeyedValueError(
                    key, f"{str(value).lower()} is a switch, not a number.",
                    "write a whole number, e.g. 3."))
            elif plain is int and isinstance(value, float):
                problems.append(KeyedValueError(key, f"{value} is not a whole number.",
                                                "write a whole number, e.g. 3."))
            elif plain in _ADDRESS_TYPES and not isinstance(value, (str, plain)):
                # pydantic would read a number as a packed address (167772160 → 10.0.0.0/32).
                problems.append(KeyedValueError(
                    key, f"{value!r} is not an address or network written as text.",
                    "write it like 10.42.0.0/16 (networks) or 10.0.0.5 (addresses)."))
            elif plain is bool and not isinstance(value, bool):
                problems.append(KeyedValueError(
                    key, f"{value!r} is not true or false.", "write true or false (unquoted)."))
        if problems:
            raise KeyedValueErrors(problems)
        return data


_ADDRESS_TYPES = (IPv4Network, IPv6Network, IPv4Address, IPv6Address)


def text_rule(pattern: str, what: str, example: str) -> AfterValidator:
    """A string check whose error names what was expected, never the regular expression.

    ``fullmatch``: a ``$`` in ``re.match`` also matches before a trailing newline, which would
    let ``"dev\n"`` through to resource names.
    """
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"{value!r} is not {what}. Fix: write it like {example}.")
        return value

    return AfterValidator(check)


_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def _dns_label(value: str) -> str:
    if not _DNS_LABEL.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a DNS label. Fix: use 1-63 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit.")
    return value


def _cidr(value: Any) -> Any:
    if isinstance(value, (IPv4Network, IPv6Network)):
        return value
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a network in CIDR form. Fix: write it like "
                         "203.0.113.0/24 or 2001:db8::/32.")
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
ServerType = Annotated[str, text_rule(r"[a-z]+[0-9]+[a-z]*", "a Hetzner server type name",
                                      "cx23 or cax21 (lowercase letters then digits)")]
Image = Annotated[str, text_rule(r"[a-z0-9][-a-z0-9._]*", "a Hetzner image name",
                                 "ubuntu-24.04")]

DEFAULT_IMAGE = "ubuntu-24.04"
DEFAULT_SERVER_TYPE = "cx23"
