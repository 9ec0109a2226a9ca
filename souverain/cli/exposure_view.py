"""Terminal rendering of a region's exposure: per law, per channel, with the explanation chains."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from .output import console

_STYLE = {"compelled": "bold red", "informational": "yellow", None: "green"}


def print_exposure(data: dict[str, Any]) -> None:
    operator = data["operator"]
    console.print(f"[bold]{data['id']}[/] — {data['name']} — on {data['date']} — level: [bold]{data['level']}[/]")
    chain = " ← ".join(f"{c['name']} ({c['country']})" for c in operator["chain"])
    console.print(f"Operator chain: {chain}")
    ownership = data["ownership"]
    verdict = "[green]passed[/]" if ownership["passed"] else "[red]failed[/]"
    console.print(f"SecNumCloud §19.6 ownership test: {verdict}")
    for line in ownership["explanation"]:
        console.print(f"  {line}", highlight=False)
    table = Table(title="Foreign laws")
    for header in ("Law", "Country", "Exposed", "Channel", "Explanation"):
        table.add_column(header, overflow="fold")
    for law in data["laws"]:
        if not law["paths"]:
            table.add_row(law["name"], law["country"], "[green]no[/]", "", law["why_not"] or "")
            continue
        for i, path in enumerate(law["paths"]):
            style = _STYLE.get(path["strength"], "")
            table.add_row(law["name"] if i == 0 else "", law["country"] if i == 0 else "",
                          f"[{style}]{path['strength']}[/]", path["channel"], path["explanation"])
    console.print(table)
    certs = Table(title="Certifications")
    for header in ("Scheme", "Version/level", "Valid from", "Valid until", "Valid on date", "Held by"):
        certs.add_column(header)
    for cert in data["certifications"]:
        valid = "[green]yes[/]" if cert["valid"] else "[red]no[/]"
        certs.add_row(cert["scheme"], " ".join(x for x in (cert["version"], cert["level"]) if x),
                      cert["valid_from"], cert["valid_until"] or "", valid, cert["held_by"])
    console.print(certs)
