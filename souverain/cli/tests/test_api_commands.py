"""The API client commands as a user runs them, against a live server: token profiles, clear errors, 80-column
output, stable order, and `souverain inventory list` (issue 10, item 15)."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from souverain.cli import client as client_module
from souverain.cli import output
from souverain.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.fixture
def narrow_terminal() -> Iterator[None]:
    """The console of an 80-column terminal (rich reads the width once, when the CLI module loads)."""
    saved = output.console.width
    output.console.width = 80
    yield
    output.console.width = saved


@pytest.fixture
def cli(live_server: Any, example_estate: Any, role_users: dict[str, Any], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, narrow_terminal: None) -> Any:
    """Run `souverain ARGS` in-process against the live server, as the admin (a token from the API's table)."""
    from souverain.core import tokens

    monkeypatch.setenv("SOUVERAIN_URL", live_server.url)
    monkeypatch.setenv("SOUVERAIN_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("SOUVERAIN_PROFILE", raising=False)
    monkeypatch.setenv("SOUVERAIN_TOKEN", tokens.issue(role_users["operator-admin"])[1])

    def run(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return run


def test_token_files_are_per_profile_private_and_stay_with_their_server(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOUVERAIN_CONFIG_DIR", str(tmp_path))
    for name in ("SOUVERAIN_URL", "SOUVERAIN_TOKEN", "SOUVERAIN_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    ops = client_module.save_token("https://ops.example", "t-ops", username="ops", profile="ops")
    audit = client_module.save_token("https://prod.example", "t-audit", username="auditor", profile="audit")
    assert ops == tmp_path / "tokens" / "ops.json" and audit == tmp_path / "tokens" / "audit.json"
    assert stat.S_IMODE(ops.stat().st_mode) == 0o600 and stat.S_IMODE(ops.parent.stat().st_mode) == 0o700
    assert (client_module.Client(profile="ops").url, client_module.Client(profile="ops").token) == (
        "https://ops.example", "t-ops")
    monkeypatch.setenv("SOUVERAIN_PROFILE", "audit")
    assert client_module.Client().token == "t-audit"
    # A token is sent to the server that issued it only.
    monkeypatch.setenv("SOUVERAIN_URL", "https://elsewhere.example")
    assert client_module.Client().token is None
    with pytest.raises(client_module.ApiError, match="letters, digits"):
        client_module.Client(profile="../../etc/passwd")
    assert sorted(p.name for p in (tmp_path / "tokens").iterdir()) == ["audit.json", "ops.json"]


@pytest.mark.django_db(transaction=True)
def test_compliance_report_of_an_unknown_tenant_fails_like_place(cli: Any) -> None:
    result = cli("compliance", "report", "--tenant", "NOPE")
    assert result.exit_code == 1
    assert "unknown tenant 'NOPE'" in result.output and "violation" not in result.output
    placed = cli("place", "--workload", str(EXAMPLES / "workload.yaml"), "--format", "json")
    assert placed.exit_code == 0, placed.output


@pytest.mark.django_db(transaction=True)
def test_outputs_fit_80_columns_with_reasons_as_lists_and_identifiers_whole(cli: Any) -> None:
    from souverain.estate.models import Region

    keys = [f"{r.cloud.slug}/{r.slug}" for r in Region.objects.select_related("cloud")]
    outputs = {}
    for args in (["clouds", "list"], ["regions", "list"],
                 ["region", "exposure", "international/eu-west-1", "--on", "2026-11-25"],
                 ["place", "--workload", str(EXAMPLES / "workload.yaml"), "--on", "2026-11-25"]):
        result = cli(*args)
        assert result.exit_code == 0, result.output
        wide = [line for line in result.output.splitlines() if len(line) > 80]
        assert not wide, (args, wide)
        outputs[args[0]] = result.output
    assert all(key in outputs["regions"] for key in keys)
    placement = outputs["place"].splitlines()
    denied = placement[placement.index(next(line for line in placement if line.startswith("Denied regions"))) + 1:]
    # Each denied region whole on its own line, then its reasons as "- rule: message" items.
    assert denied[0].strip() in keys and denied[1].lstrip().startswith("- ")
    assert "│" not in outputs["place"] and "┃" not in outputs["place"]


@pytest.mark.django_db(transaction=True)
def test_lists_come_in_a_stable_order(cli: Any) -> None:
    clouds = json.loads(cli("clouds", "list", "--format", "json").output)
    assert [c["slug"] for c in clouds] == sorted(c["slug"] for c in clouds)
    regions = json.loads(cli("regions", "list", "--format", "json").output)
    assert [r["key"] for r in regions] == sorted(r["key"] for r in regions)
    assert all(r["datacenters"] == sorted(r["datacenters"]) for r in regions)


@pytest.mark.django_db(transaction=True)
def test_inventory_list_filters_pages_and_sorts_names_naturally(cli: Any, tenants: dict[str, Any],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from souverain.estate.models import Cloud
    from souverain.inventory.tests.factories import make_resource

    cloud = Cloud.objects.get(slug="sovereign")
    for i, name in enumerate(["web-10", "web-2", "Web-1", "db-1", "web-9"]):
        make_resource(cloud, external_id=f"s{i}", name=name, tenant=tenants["home"])
    make_resource(cloud, kind="volume", external_id="v1", name="web-3")
    monkeypatch.setattr(client_module, "PAGE_SIZE", 2)  # three pages for five servers
    asked: list[dict[str, Any]] = []
    real_get = client_module.Client.get

    def recording_get(self: Any, path: str, **params: Any) -> Any:
        asked.append(params)
        return real_get(self, path, **params)

    monkeypatch.setattr(client_module.Client, "get", recording_get)

    rows = list(csv.DictReader(io.StringIO(cli("inventory", "list", "--kind", "server", "--format", "csv").output)))
    assert [r["name"] for r in rows] == ["db-1", "Web-1", "web-2", "web-9", "web-10"]
    # The first page by offset 0, the next ones by the cursor the previous page gave (keyset pages).
    pages = [params for params in asked if params.get("limit") == 2]
    assert len(pages) == 3 and pages[0]["offset"] == 0 and all("offset" not in p and p["cursor"] for p in pages[1:])
    assert {r["tenant"] for r in rows} == {"ministere"} and rows[0]["region"] == "fr-paris-1"

    listed = json.loads(cli("inventory", "list", "-q", "web", "--tenant", "ministere", "--format", "json").output)
    assert [r["name"] for r in listed] == ["Web-1", "web-2", "web-9", "web-10"]

    table = cli("inventory", "list", "--cloud", "sovereign", "--limit", "3")
    assert table.exit_code == 0
    lines = table.output.splitlines()
    assert [line.split()[0] for line in lines[2:5]] == ["db-1", "Web-1", "web-2"]
    assert lines[-1] == "6 resource(s); the first 3 shown (--limit 0 for all, or --format csv)"

    bad = cli("inventory", "list", "--presence", "nope")
    assert bad.exit_code == 2 and "nope" in bad.output
    assert os.environ["SOUVERAIN_URL"].startswith("http://")


@pytest.mark.django_db(transaction=True)
def test_login_then_tokens_list_create_and_revoke(cli: Any, live_server: Any, monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    """Issue 13 item 7: `souverain login` stores a new token each time; `souverain tokens` lists (no secret),
    creates (the secret printed once) and revokes."""
    monkeypatch.delenv("SOUVERAIN_TOKEN")
    logged = cli("login", "--url", live_server.url, "--username", "auditor", "--password", "pw-auditor")
    assert logged.exit_code == 0, logged.output
    stored = json.loads((tmp_path / "config" / "tokens" / "default.json").read_text())["token"]
    assert stored.startswith("sv_")
    created = cli("tokens", "create", "--name", "ci", "--scope", "read", "--days", "3", "--format", "json")
    assert created.exit_code == 0, created.output
    issued = json.loads(created.output)
    listed = cli("tokens", "list", "--format", "json")
    rows = json.loads(listed.output)
    assert {row["name"] for row in rows} >= {"ci"} and stored not in listed.output and issued["token"] not in \
        listed.output
    assert all(row["user"] == "auditor" for row in rows)
    revoked = cli("tokens", "revoke", str(issued["id"]))
    assert revoked.exit_code == 0, revoked.output
    assert {row["status"] for row in json.loads(cli("tokens", "list", "--format", "json").output)
            if row["id"] == issued["id"]} == {"revoked"}
    wrong = cli("login", "--url", live_server.url, "--username", "auditor", "--password", "nope")
    assert wrong.exit_code != 0
