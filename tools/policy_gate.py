"""Run the policy pack over an offline plan.

The CrossGuard pack under ``policies/`` is not written yet (its own issue); until it is, no
policy runs and the plan reports no violations. This module is the one place that will change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from tools.engine import Plan

EnforcementLevel = Literal["advisory", "mandatory", "disabled"]


@dataclass(frozen=True)
class Violation:
    policy: str
    enforcement_level: EnforcementLevel
    message: str
    urn: str | None

    def to_json(self) -> dict[str, Any]:
        return {"policy": self.policy, "enforcementLevel": self.enforcement_level,
                "message": self.message, "urn": self.urn}


def evaluate(plan: Plan) -> list[Violation]:
    return []
