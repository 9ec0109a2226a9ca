"""Rendering results as a table, a list, JSON or CSV, the same way for every command.

Tables are for short values: light borders, the first column (the row's identifier: a slug, a cloud/region
key) never cut, list values one per line, so that they fit an 80-column terminal. Long text (a denial's reason,
an explanation chain) is never put in a table cell, where it would wrap into a column a word wide: it is
printed as an indented list item whose continuation lines keep the indent (``item``).
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import click
from rich import box
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

FORMAT_OPTION = click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
                             show_default=True, help="Output format.")

console = Console()
err_console = Console(stderr=True)
#: A table column is never narrower than its longest word, up to this many characters.
MIN_WIDTH_CAP = 32


def make_table(columns: Sequence[str], title: str | None = None) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left", show_edge=False)
    for i, header in enumerate(columns):
        # The identifier column stays whole; other values fold onto new lines rather than being cut.
        table.add_column(header, no_wrap=i == 0, overflow="fold")
    return table


def emit(data: Any, fmt: str, columns: Sequence[tuple[str, str]] | None = None, title: str | None = None) -> None:
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
        return
    rows: list[dict[str, Any]] = data if isinstance(data, list) else [data]
    columns = columns or [(key, key) for key in (rows[0] if rows else {})]
    if fmt == "csv":
        write_csv(rows, columns)
        return
    cells = [[cell(row.get(key)) for key, _ in columns] for row in rows]
    table = make_table([header for _, header in columns], title)
    for i, column in enumerate(table.columns):
        # Each column at least as wide as its longest word (up to a limit): when space runs short, long text
        # folds at spaces rather than slugs being cut in the middle.
        words = [len(word) for values in cells for word in values[i].split()]
        column.min_width = min(max(words, default=0), MIN_WIDTH_CAP)
    for values in cells:
        table.add_row(*values)
    console.print(table)


def write_csv(rows: Iterable[dict[str, Any]], columns: Sequence[tuple[str, str]], *, header: bool = True) -> None:
    """CSV on stdout: lists joined with ';' (one cell each), absent values empty."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    if header:
        writer.writerow([title for _, title in columns])
    for row in rows:
        writer.writerow([";".join(map(str, v)) if isinstance(v := row.get(key), list) else "" if v is None else v
                         for key, _ in columns])


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "\n".join(cell(v) for v in value)
    return str(value)


def item(text: str | Text, indent: int = 0, style: str | None = None, bullet: str = "") -> None:
    """One list item, wrapped to the terminal; its continuation lines are indented past the bullet."""
    body = text if isinstance(text, Text) else Text(text, style=style or "")
    if not bullet:
        console.print(Padding(body, (0, 0, 0, indent), expand=False), highlight=False)
        return
    grid = Table.grid()
    grid.add_column(width=indent + len(bullet), no_wrap=True)
    grid.add_column()
    grid.add_row(" " * indent + bullet, body)
    console.print(grid, highlight=False)


def say(message: str) -> None:
    """A plain line (paths and URLs unbroken and unstyled)."""
    console.print(message, highlight=False, soft_wrap=True)


def fail(message: str, code: int = 1) -> None:
    # Text, not markup: a message quoting an API body may hold brackets.
    err_console.print(Text.assemble(("error:", "bold red"), " ", message), highlight=False)
    raise SystemExit(code)
