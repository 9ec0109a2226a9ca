"""`souverain evidence build|verify`: signed, reproducible evidence packs (souverain/audit/evidence.py).

``build`` runs on the server's machine, with its settings and database (like ``audit checkpoint``), and signs
with the audit key; remote users download the same pack from ``GET /api/evidence/``. ``verify`` needs neither:
it imports only the pure ``audit.evidence_pack`` (no Django), so an auditor runs it on their own machine.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import click

from .output import FORMAT_OPTION, emit, fail, say


@click.group()
def evidence() -> None:
    """Evidence packs: build one for a tenant or a region on a date, verify one offline."""


@evidence.command("build")
@click.option("--tenant", default=None, metavar="SLUG", help="The tenant (with its subtree).")
@click.option("--region", default=None, metavar="CLOUD/REGION", help="A region (with --tenant: narrows to it).")
@click.option("--on", "on", required=True, metavar="DATE", help="The pack's date, YYYY-MM-DD.")
@click.option("--lang", type=click.Choice(["fr", "en"]), default="fr", show_default=True,
              help="The PDF report's language.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The ZIP to write ('-': stdout).")
def evidence_build(tenant: str | None, region: str | None, on: str, lang: str, output: str) -> None:
    """Build the signed ZIP (evidence.json, report.pdf, manifest.json, signature.json) from the database."""
    try:
        day = dt.date.fromisoformat(on)
    except ValueError:
        fail(f"--on: '{on}' is not a date (YYYY-MM-DD)")
    if not tenant and not region:
        fail("give --tenant SLUG or --region CLOUD/REGION")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "souverain.project.settings")
    import django

    django.setup()
    from souverain.audit.evidence import build_pack
    from souverain.estate.models import Region
    from souverain.tenancy.models import Tenant

    found_tenant = found_region = None
    if tenant:
        found_tenant = Tenant.objects.filter(slug=tenant).first()
        if found_tenant is None:
            fail(f"--tenant: unknown tenant '{tenant}'")
    if region:
        cloud_slug, _, region_slug = region.partition("/")
        found_region = Region.objects.select_related("cloud").filter(cloud__slug=cloud_slug, slug=region_slug).first()
        if found_region is None:
            fail(f"--region: unknown region '{region}' (cloud/region)")
    pack = build_pack(tenant=found_tenant, region=found_region, on=day, language=lang)
    if output == "-":
        sys.stdout.buffer.write(pack)
        return
    Path(output).write_bytes(pack)
    say(f"{output}: {len(pack)} bytes, evidence pack of {tenant or region} on {day.isoformat()} ({lang})")


@evidence.command("verify")
@click.argument("pack", type=click.Path(dir_okay=False, exists=True))
@click.option("--public-key", "public_key", default=None, type=click.Path(dir_okay=False, exists=True),
              help="The server's PEM public key (GET /api/audit/public-key/); without it only the pack's own "
                   "key is checked, which proves integrity, not who signed.")
@FORMAT_OPTION
def evidence_verify(pack: str, public_key: str | None, fmt: str) -> None:
    """Check a pack offline: each member against the signed manifest, the signature, the container byte for
    byte. Exit 1 naming the member at fault."""
    from souverain.audit import evidence_pack  # no Django: runs anywhere the package is installed

    key = None
    if public_key is not None:
        try:
            key = evidence_pack.load_public_pem(Path(public_key).read_bytes())
        except ValueError as exc:
            fail(f"--public-key: {exc}")
    verdict = evidence_pack.verify(Path(pack).read_bytes(), key)
    if fmt == "json":
        emit(verdict.as_dict(), fmt)
    else:
        for member in verdict.members:
            say(f"{member['name']}: {member['size']} bytes, sha256 {member['sha256'][:16]}")
        for problem in verdict.problems:
            say(f"{problem['member']}: {problem['message']}")
        if verdict.ok:
            checked = "the given public key" if verdict.key_checked else "the key it carries (no --public-key)"
            say(f"verified: pack of {verdict.date}, signed by key {verdict.key_id}, checked against {checked}")
        else:
            say(f"FAILED: {verdict.problems[0]['member']}")
    if not verdict.ok:
        raise SystemExit(1)
