"""Sovereignty alerts (placeholder while the checks are written)."""

from __future__ import annotations

from typing import Any


def run_periodic() -> list[Any]:
    return []
