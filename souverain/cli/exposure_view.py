"""Terminal rendering of a region's exposure: per law, each channel with its explanation chain, as a list.

The chains are sentences; listed under their law with a hanging indent they stay readable at 80 columns, where
a table's explanation column would be a few words wide. Only the certificates, short values, are a table.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from .output import console, item, make_table, say

_STYLE = {"compelled": "bold red", "informational": "yellow"}


def print_exposure(data: dict[str, Any]) -> None:
    operator = data["operator"]
    item(Text.assemble((data["id"], "bold"), f" — {data['name']} — on {data['date']} — level: ",
                       (data["level"], "bold")))
    item("Operator chain: " + " ← ".join(f"{c['name']} ({c['country']})" for c in operator["chain"]))
    ownership = data["ownership"]
    item(Text.assemble("SecNumCloud §19.6 ownership test: ",
                       ("passed", "green") if ownership["passed"] else ("failed", "red")))
    for line in ownership["explanation"]:
        item(line, 2)
    say("")
    say("Foreign laws:")
    for law in data["laws"]:
        if not law["paths"]:
            item(Text.assemble(("not exposed  ", "green"), (law["name"], "bold"), f" ({law['country']})"), 2)
            if law.get("why_not"):
                item(law["why_not"], 6, style="dim")
            continue
        item(Text.assemble(("exposed      ", "bold red"), (law["name"], "bold"), f" ({law['country']})"), 2)
        for path in law["paths"]:
            channel = str(path["channel"]).replace("_", " ")
            item(Text.assemble((f"{path['strength']}", _STYLE.get(path["strength"], "")), f", {channel}: ",
                               path["explanation"]), 6, bullet="- ")
    certs = make_table(["Scheme", "Version/level", "Valid from", "Until", "Valid", "Held by"],
                       title="Certifications")
    for cert in data["certifications"]:
        valid = "[green]yes[/]" if cert["valid"] else "[red]no[/]"
        certs.add_row(cert["scheme"], " ".join(x for x in (cert["version"], cert["level"]) if x),
                      cert["valid_from"], cert["valid_until"] or "", valid, cert["held_by"])
    say("")
    console.print(certs)
