"""``souverain whatif``: the seed question as text and JSON, and a bad change file refused with its places."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from souverain.cli.main import main

from .test_whatif import ON, SEED, resource

pytestmark = pytest.mark.django_db


def test_the_seed_question_from_the_command_line(example_estate, tenants, tmp_path):
    resource("sovereign/fr-paris-1", tenants["home"], name="ministry-vm")
    runner = CliRunner()
    text = runner.invoke(main, ["whatif", "--change", str(SEED), "--on", ON.isoformat(), "--language", "en"])
    assert text.exit_code == 0, text.output
    assert "### sovereign/fr-paris-1" in text.output and "National Intelligence Law of the PRC" in text.output
    assert "image" not in text.output and "server ministry-vm (sovereign/fr-paris-1, ministere)" in text.output
    french = runner.invoke(main, ["whatif", "--change", str(SEED), "--on", ON.isoformat(), "--language", "fr"])
    assert "Loi sur le renseignement national de la RPC" in french.output and "Ressources" in french.output
    as_json = runner.invoke(main, ["whatif", "--change", str(SEED), "--on", ON.isoformat(), "--format", "json"])
    answer = json.loads(as_json.output)
    assert [item["name"] for item in answer["resources"]["list"]] == ["ministry-vm"]
    assert answer["date"] == ON.isoformat()

    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nchanges:\n  - backups: {region: sovereign/nowhere, datacenters: []}\n",
                   encoding="utf-8")
    refused = runner.invoke(main, ["whatif", "--change", str(bad)])
    assert refused.exit_code == 1
    assert f"{bad}:3:" in refused.output and "changes[0].backups.region: unknown region" in refused.output
    both = runner.invoke(main, ["whatif", "--change", str(bad), "--estate", str(bad)])
    assert both.exit_code == 1 and "exactly one of" in both.output
    as_json = runner.invoke(main, ["whatif", "--change", str(SEED), "--on", ON.isoformat(), "--format", "json",
                                   "--fit-tenant", "ministere"])
    fit = json.loads(as_json.output)["fit"]
    assert fit["tenant"] == "ministere" and fit["regions"]["sovereign/fr-paris-1"]["servers"] == 0
    unknown = runner.invoke(main, ["whatif", "--change", str(SEED), "--fit-tenant", "nowhere"])
    assert unknown.exit_code == 1 and "--fit-tenant: no tenant 'nowhere'" in unknown.output
