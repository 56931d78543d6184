"""The default k3s release follows a rule over upstream facts; changing a fact changes the pick."""

from __future__ import annotations

from datetime import date

import pytest

from stack_config import validate_cluster_spec
from tests.helpers import config_problems, minimal_config
from tools import cilium_tested_kubernetes as cilium_docs
from upstream import k3s_support
from upstream.cilium import DEFAULT_VERSION as CILIUM_DEFAULT
from upstream.cilium import SUPPORTED_LINES, line_of
from upstream.k3s import DEFAULT_VERSION, K3sVersion
from upstream.k3s_support import (
    END_OF_LIFE,
    END_OF_LIFE_CHECKED,
    default_kubernetes_minor,
    end_of_life_note,
)

TESTED = {minor: line.tested_kubernetes for minor, line in SUPPORTED_LINES.items()}
DEFAULT_LINE = line_of(CILIUM_DEFAULT).minor  # type: ignore[union-attr]


def pick(tested: dict = TESTED, line: str = DEFAULT_LINE, eol: dict = END_OF_LIFE,
         on: date = END_OF_LIFE_CHECKED) -> tuple[int, int]:
    return default_kubernetes_minor(tested, line, eol, on)


def test_the_pinned_default_tracks_the_minor_the_rule_picks_on_the_facts() -> None:
    assert K3sVersion.parse(DEFAULT_VERSION).kubernetes_minor == pick() == (1, 36)


def test_the_conflict_is_real_on_the_facts() -> None:
    # Only 1.33 is tested by every supported line, and it is end of life on the date checked.
    every = set.intersection(*(k3s_support.tested_minors(t) for t in TESTED.values()))
    assert every == {(1, 33)}
    assert k3s_support.is_end_of_life((1, 33), END_OF_LIFE_CHECKED, END_OF_LIFE)


def test_a_minor_every_line_tests_wins_while_it_is_alive() -> None:
    assert pick(on=date(2026, 6, 27)) == (1, 33)
    assert pick(on=date(2026, 6, 28)) == (1, 36)


def test_the_fallback_follows_the_default_line_range_and_end_of_life() -> None:
    assert pick(tested={**TESTED, "1.20": ((1, 33), (1, 35))}) == (1, 35)
    assert pick(eol={**END_OF_LIFE, (1, 36): date(2026, 11, 1)}) == (1, 35)
    assert pick(line="1.19", tested={"1.19": ((1, 31), (1, 34))},
                on=date(2026, 10, 1)) == (1, 34)


def test_no_alive_minor_is_an_error_not_a_silent_pick() -> None:
    with pytest.raises(ValueError, match="every Kubernetes minor Cilium 1.19 tests is end of life"):
        pick(line="1.19", tested={"1.19": ((1, 31), (1, 34))})


def test_every_minor_a_line_tests_has_an_end_of_life_date() -> None:
    for tested in TESTED.values():
        assert k3s_support.tested_minors(tested) <= set(END_OF_LIFE)


def test_the_default_combination_is_accepted_and_has_no_end_of_life_note() -> None:
    spec = validate_cluster_spec(minimal_config())
    assert spec.k3s.version == DEFAULT_VERSION and spec.cilium.version == CILIUM_DEFAULT
    assert end_of_life_note(spec.k3s.parsed_version.kubernetes_minor, END_OF_LIFE_CHECKED) is None


def test_an_end_of_life_minor_gets_a_note_from_its_end_of_life_day() -> None:
    assert end_of_life_note((1, 34), date(2026, 10, 26)) is None
    note = end_of_life_note((1, 34), date(2026, 10, 27))
    assert note and note.startswith("k3s.version: Kubernetes 1.34 reached end of life on "
                                    "2026-10-27")


def test_an_end_of_life_k3s_release_is_advised_in_the_plan() -> None:
    spec = validate_cluster_spec(minimal_config(k3s={"version": "v1.33.9+k3s1"}))
    assert any(n.startswith("k3s.version: Kubernetes 1.33 reached end of life")
               for n in spec.advisories())


def test_a_combination_outside_the_line_tested_range_is_refused() -> None:
    problems = config_problems(minimal_config(k3s={"version": "v1.37.1+k3s1"}))
    assert any(p.startswith("k3s.version: Kubernetes 1.37 is outside Cilium 1.20's tested "
                            "range 1.33–1.36") for p in problems), problems


@pytest.mark.parametrize("minor", sorted(SUPPORTED_LINES))
def test_each_line_tested_range_is_what_cilium_documents(minor: str) -> None:
    sources = cilium_docs.module_sources(minor)
    if not sources:
        pytest.skip(f"no github.com/cilium/cilium@v{minor}.* in the Go module cache (the "
                    "engine build downloads it; see docs/cilium.md)")
    minors = cilium_docs.tested_minors((sources[-1] / cilium_docs.REQUIREMENTS).read_text())
    assert minors == sorted(minors) and len(minors) == minors[-1][1] - minors[0][1] + 1
    assert (minors[0], minors[-1]) == SUPPORTED_LINES[minor].tested_kubernetes


def test_the_rst_reader_takes_the_list_after_the_tested_sentence() -> None:
    rst = ("Intro\n\nAll Kubernetes versions listed are e2e tested and guaranteed\nto be "
           "compatible.\n\n* 1.33\n* 1.34\n\nAdditionally, see:\n\n* 9.99\n")
    assert cilium_docs.tested_minors(rst) == [(1, 33), (1, 34)]
