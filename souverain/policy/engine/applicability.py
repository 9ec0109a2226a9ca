"""Which packs apply to a workload, from packs.yaml."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _is_set(value: Any) -> bool:
    # A requirement counts when true, a non-empty list or a non-null value ("eucs_level": "high").
    return value not in (None, False, "", [], {})


def applicable_packs(workload: Mapping[str, Any], packs_config: Mapping[str, Any]) -> list[str]:
    """Built-in packs that apply to the workload, in packs.yaml's order.

    A pack applies when the workload has one of its data classes, sets one of its requirements, when it
    always applies, or when the tenant opted in (workload.requirements.packs). Custom packs are not in
    packs.yaml: the engine adds them to every decision.
    """
    classes = set(workload.get("data_classes") or ())
    requirements = workload.get("requirements") or {}
    opted_in = set(requirements.get("packs") or ())
    selected = []
    for name, pack in (packs_config.get("packs") or {}).items():
        when = pack.get("applies_when") or {}
        if (
            name in opted_in
            or when.get("always") is True
            or classes & set(when.get("data_classes") or ())
            or any(_is_set(requirements.get(flag)) for flag in when.get("requirements") or ())
        ):
            selected.append(name)
    return selected
