"""Terminal rendering of a placement: allowed regions ranked, then each denied region with its reasons as a list.

Reasons are sentences with an explanation chain: in a table they would wrap into a column a few words wide, so
each is a list item under its region, wrapped to the terminal with a hanging indent.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from .output import item, say


def _reason(entry: dict[str, Any]) -> Text:
    return Text.assemble((f"{entry['rule']}: ", "bold"), entry["message"])


def _capacity(verdict: dict[str, Any] | None) -> tuple[tuple[str, str], ...]:
    # The capacity verdict for the workload's size (souverain/capacity/fit.py); absent for a what-if on a file.
    if not verdict:
        return ()
    style = {"full": "bold red", "fits": "green"}.get(verdict.get("status", ""), "dim")
    return (("  ", ""), (verdict.get("message", ""), style))


def print_placement(result: dict[str, Any]) -> None:
    allowed, denied = result["allowed"], result["denied"]
    if allowed:
        say(f"Allowed regions on {result.get('date', '')}, best first:")
        for rank, entry in enumerate(allowed, 1):
            item(Text.assemble(f"{rank}. ", (entry["region"], "bold green"), f"  score {entry['score']}",
                               *_capacity(entry.get("capacity"))), 2)
            for warning in entry["warnings"]:
                item(Text.assemble(("warning ", "yellow"), _reason(warning)), 5)
    else:
        item(Text(f"No region may host this workload on {result.get('date', '')}.", style="bold red"))
    if denied:
        say("")
        say(f"Denied regions ({len(denied)}):")
        for entry in denied:
            item(Text(entry["region"], style="bold red"), 2)
            for reason in entry["reasons"]:
                item(_reason(reason), 4, bullet="- ")
                if reason.get("source"):
                    item(f"source: {reason['source']}", 6, style="dim")
