"""Terminal rendering of a placement: allowed regions ranked, then each denied region with its reasons."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from .output import console


def print_placement(result: dict[str, Any]) -> None:
    allowed = Table(title=f"Allowed regions ({result.get('date', '')})")
    for header in ("Region", "Score", "Warnings"):
        allowed.add_column(header, overflow="fold")
    for entry in result["allowed"]:
        allowed.add_row(entry["region"], str(entry["score"]),
                        "\n".join(f"{w['rule']}: {w['message']}" for w in entry["warnings"]))
    console.print(allowed if result["allowed"] else "[bold red]No region may host this workload.[/]")
    denied = Table(title="Denied regions")
    for header in ("Region", "Rule", "Why", "Source"):
        denied.add_column(header, overflow="fold")
    for entry in result["denied"]:
        for i, reason in enumerate(entry["reasons"]):
            denied.add_row(entry["region"] if i == 0 else "", reason["rule"], reason["message"], reason["source"])
    if result["denied"]:
        console.print(denied)
