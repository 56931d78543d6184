"""libyaml's emitter writes the same bytes as PyYAML's pure-Python one for every rendered file.

The program renders its machine files (cloud-init user data, k3s config, registries, kubeconfig,
hardening policies) through ``components.yaml_text``, which prefers libyaml for speed. These tests
plan every example stack twice — once as shipped, once with the pure-Python dumpers swapped in —
and require every string input of every resource (user data, command stdin, manifests) to be
byte-identical, so choosing the fast emitter can never change what lands on a node.
"""

from __future__ import annotations

import pytest
import yaml

from components import yaml_text
from tests.helpers import EXAMPLE_STACKS, plan_example


def _string_inputs(plan) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}

    def walk(urn: str, path: str, value) -> None:
        if isinstance(value, str):
            found[(urn, path)] = value
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(urn, f"{path}.{key}", item)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(urn, f"{path}[{index}]", item)

    for resource in plan.resources:
        walk(resource.urn, "", resource.plain_inputs())
    return found


class _PureSafe(yaml.SafeDumper):
    pass


class _PureLiteral(yaml.SafeDumper):
    pass


_PureLiteral.add_representer(str, yaml_text._literal_multiline)


def test_the_program_uses_libyaml_when_pyyaml_has_it():
    assert yaml_text.FAST_EMITTER == bool(yaml.__with_libyaml__)
    if yaml.__with_libyaml__:
        assert issubclass(yaml_text.SafeDumper, yaml.CSafeDumper)


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_rendered_files_are_byte_identical_with_the_pure_python_emitter(stack, monkeypatch):
    if not yaml.__with_libyaml__:
        pytest.skip("PyYAML was built without libyaml: only the pure-Python emitter is in use")
    fast = _string_inputs(plan_example(stack))
    monkeypatch.setattr(yaml_text, "SafeDumper", _PureSafe)
    monkeypatch.setattr(yaml_text, "LiteralBlockDumper", _PureLiteral)
    pure = _string_inputs(plan_example(stack))
    assert fast.keys() == pure.keys()
    differing = [key for key in fast if fast[key] != pure[key]]
    assert differing == []
    # The comparison must cover the rendered YAML documents, not only short strings.
    assert sum("#cloud-config" in text for text in fast.values()) >= 2
