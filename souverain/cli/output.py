"""Rendering results as a rich table or JSON, the same way for every command."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import click
from rich.console import Console
from rich.table import Table

FORMAT_OPTION = click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
                             show_default=True, help="Output format.")

console = Console()
err_console = Console(stderr=True)


def emit(data: Any, fmt: str, columns: Sequence[tuple[str, str]] | None = None, title: str | None = None) -> None:
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
        return
    rows: Iterable[dict[str, Any]] = data if isinstance(data, list) else [data]
    table = Table(title=title, show_lines=False)
    columns = columns or [(key, key) for key in (rows[0] if rows else {})]  # type: ignore[index]
    for _, header in columns:
        table.add_column(header, overflow="fold")  # a cut value is a lost one: fold it onto a new line
    for row in rows:
        table.add_row(*[_cell(row.get(key)) for key, _ in columns])
    console.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    return str(value)


def fail(message: str, code: int = 1) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise SystemExit(code)
