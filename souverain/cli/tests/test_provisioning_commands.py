"""`souverain server create`, `requests`, `approvals`, `approve`, `reject`, `quotas` against a live server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from souverain.cli import output
from souverain.cli.main import main

TWO_LEVELS = """
rules:
  - name: restricted-data
    when: {data_classes: [diffusion_restreinte]}
    approvers: [{role: tenant-admin}, {role: operator}]
"""


@pytest.fixture
def cli_as(live_server: Any, example_estate: Any, role_users: dict[str, Any], tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Any:
    from django.utils import timezone

    from souverain.core import tokens
    from souverain.estate.models import Region
    from souverain.inventory.models import Resource
    from souverain.inventory.services import digest
    from souverain.provisioning import approvals

    region = Region.objects.get(cloud__slug="sovereign", slug="fr-paris-1")
    flavor = {"id": "f-small", "name": "m1.small", "vcpus": 2, "ram": 2048}
    now = timezone.now()
    Resource.objects.create(kind="flavor", cloud=region.cloud, region=region, external_id="f-small", name="m1.small",
                            attrs=flavor, attrs_hash=digest(flavor), first_seen=now, last_seen=now)
    approvals.upload(TWO_LEVELS, "test")
    monkeypatch.setenv("SOUVERAIN_URL", live_server.url)
    monkeypatch.setenv("SOUVERAIN_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("SOUVERAIN_PROFILE", raising=False)
    saved = output.console.width
    output.console.width = 100
    issued = {name: tokens.issue(role_users[name])[1] for name in ("operator-admin", "tenant-admin", "tenant-member")}

    def run(username: str, *args: str) -> Result:
        monkeypatch.setenv("SOUVERAIN_TOKEN", issued[username])
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    yield run
    output.console.width = saved


@pytest.mark.django_db(transaction=True)
def test_request_refused_then_made_approved_twice_and_listed(cli_as: Any) -> None:
    base = ["server", "create", "--name", "web-1", "--flavor", "m1.small", "--image", "debian-12",
            "--network", "private"]
    refused = cli_as("tenant-member", *base, "--region", "international/eu-west-1")
    assert refused.exit_code == 1
    assert "refused (placement)" in refused.output and "secnumcloud.vendor_access" in refused.output
    assert cli_as("tenant-member", *base).exit_code == 1  # neither --region nor --auto
    made = cli_as("tenant-member", *base, "--auto", "--idempotency-key", "cli-1", "--format", "json")
    assert made.exit_code == 0, made.output
    request = json.loads(made.output)
    assert request["status"] == "awaiting_approval" and request["region"] == "sovereign/fr-paris-1"
    again = cli_as("tenant-member", *base, "--auto", "--idempotency-key", "cli-1", "--format", "json")
    assert json.loads(again.output)["id"] == request["id"]
    inbox = cli_as("tenant-admin", "approvals", "--format", "json")
    assert [row["request"] for row in json.loads(inbox.output)] == [request["id"]]
    first = cli_as("tenant-admin", "approve", str(request["id"]), "--comment", "fine")
    assert first.exit_code == 0 and "awaiting_approval" in first.output
    second = cli_as("operator-admin", "approve", str(request["id"]))
    assert second.exit_code == 0 and "approved" in second.output, second.output
    shown = cli_as("tenant-member", "requests", "show", str(request["id"]))
    assert "approval_requested" in shown.output and "fine" in shown.output and "queued" in shown.output
    listed = json.loads(cli_as("tenant-member", "requests", "list", "--format", "json").output)
    assert [(r["id"], r["status"]) for r in listed] == [(request["id"], "approved"), (request["id"] - 1, "refused")]


@pytest.mark.django_db(transaction=True)
def test_reject_cancel_and_quotas(cli_as: Any) -> None:
    base = ["server", "create", "--name", "db-1", "--flavor", "m1.small", "--image", "debian-12",
            "--network", "private", "--region", "sovereign/fr-paris-1", "--format", "json"]
    one = json.loads(cli_as("tenant-member", *base).output)
    rejected = cli_as("tenant-admin", "reject", str(one["id"]), "--comment", "no")
    assert rejected.exit_code == 0 and "rejected" in rejected.output
    assert cli_as("tenant-admin", "reject", str(one["id"])).exit_code == 1  # nothing pending any more
    two = json.loads(cli_as("tenant-member", *base).output)
    assert "cancelled" in cli_as("tenant-member", "requests", "cancel", str(two["id"])).output
    set_quota = cli_as("operator-admin", "quotas", "set", "ministere", "--vcpu", "1", "--format", "json")
    assert set_quota.exit_code == 0, set_quota.output
    over = cli_as("tenant-member", *base[:-2])
    assert over.exit_code == 1 and "asked 2, used 0, limit 1" in over.output
    listed = cli_as("tenant-member", "quotas", "list")
    assert "ministere" in listed.output and "0/1" in listed.output
