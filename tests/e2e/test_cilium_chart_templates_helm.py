"""The chart's side of every mirrored ``fail``/``required``: the real chart refuses each refused
case with its own message and renders each accepted one (our side: test_cilium_chart_templates)."""

from __future__ import annotations

import pytest

from tests.cilium_template_cases import CASES, SCHEMA_SHADOWED, case_values
from tests.e2e.cilium_helm import cilium_chart
from tests.test_cilium_chart_templates import _line_cases

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(("minor", "start"), _line_cases())
def test_the_real_chart_refuses_with_this_message_and_renders_the_fix(minor: str,
                                                                     start: str) -> None:
    chart = cilium_chart(minor)
    refused, accepted = CASES[start]
    render = chart.render(case_values(refused))
    assert not render.ok
    expected = SCHEMA_SHADOWED.get(start, start.split("%s")[0].strip())
    assert expected in render.error
    fixed = chart.render(case_values(accepted))
    assert fixed.ok, fixed.error
