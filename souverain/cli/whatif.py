"""``souverain whatif``: what if the estate changed? A server-side command, like ``estate apply``: it reads this
machine's database (the live estate, inventory and policies) and writes nothing to it (docs/what-if.md)."""

from __future__ import annotations

import datetime as dt
import os

import click

from .output import emit, fail


@click.command("whatif")
@click.option("--change", "change_file", default=None, type=click.Path(dir_okay=False),
              help="A change file (YAML): edits of the estate and the knowledge base (docs/what-if.md).")
@click.option("--estate", "estate_file", default=None, type=click.Path(dir_okay=False),
              help="A whole alternative estate file, compared with the live estate.")
@click.option("--on", "on", default=None, help="Date of the question YYYY-MM-DD (default: the file's, or today).")
@click.option("--limit", default=200, show_default=True, help="How many affected resources to list.")
@click.option("--language", type=click.Choice(["en", "fr"]), default=None,
              help="Language of the text report [default: from LANG].")
@click.option("--fit-tenant", "fit_tenant", default=None, metavar="SLUG",
              help="Also answer: if this tenant (and the nodes below it) moved to each region, would it fit?")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: a readable report (Markdown); json: the whole answer.")
def whatif(change_file: str | None, estate_file: str | None, on: str | None, limit: int, language: str | None,
           fit_tenant: str | None, fmt: str) -> None:
    """What if the estate changed? Exposure, compliance and placement before and after, without writing."""
    if bool(change_file) == bool(estate_file):
        fail("give exactly one of --change FILE and --estate FILE")
    date = None
    if on:
        try:
            date = dt.date.fromisoformat(on)
        except ValueError:
            fail(f"--on: '{on}' is not a date (YYYY-MM-DD)")
    from .main import _django

    _django()
    from souverain.estate.estatefile import EstateFileError, decode
    from souverain.mobility import report, services
    from souverain.mobility.changes import ChangeFileError

    path = change_file or estate_file
    assert path is not None
    try:
        with open(path, "rb") as handle:
            text = decode(handle.read(), path)
        if change_file:
            question = services.change_question(text, path, date)
        else:
            question = services.estate_question(text, path, date)
    except OSError as exc:
        fail(f"{path}: cannot read the file: {exc.strerror}")
        return
    except (ChangeFileError, EstateFileError) as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        fail(f"{len(exc.problems)} problem(s); nothing was evaluated.")
        return
    tenant = None
    if fit_tenant:
        try:
            tenant = services.fit_tenant_of(fit_tenant)
        except services.FitError as exc:
            fail(f"--fit-tenant: {exc}")
    answer = services.answer(question, on=date, resource_limit=limit, fit_tenant=tenant)
    if fmt == "json":
        emit(answer, "json")
        return
    language = language or ("fr" if os.environ.get("LANG", "").startswith("fr") else "en")
    click.echo(report.markdown(answer, language))
