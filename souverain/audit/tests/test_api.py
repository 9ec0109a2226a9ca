"""The audit API (who reads what, verify, the public key, export) and the offline verify of an export."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from souverain.audit import chain, services
from souverain.audit.models import AuditRecord

pytestmark = pytest.mark.django_db


def _offline(tmp_path: Path, lines: list[str], pem: str) -> subprocess.CompletedProcess:
    export, key = tmp_path / "audit.jsonl", tmp_path / "key.pem"
    export.write_text("".join(lines), encoding="utf-8")
    key.write_text(pem)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}  # no DJANGO_SETTINGS_MODULE, no database
    return subprocess.run([sys.executable, "-m", "souverain.cli.main", "audit", "verify", "--file", str(export),
                           "--public-key", str(key)], capture_output=True, text=True, env=env, timeout=60,
                          cwd=Path(__file__).resolve().parents[3])


def test_changes_made_through_the_api_are_recorded_in_the_chain(api_as, tenants):
    before = AuditRecord.objects.count()
    response = api_as("operator-admin").patch(f"/api/tenants/{tenants['home'].slug}/", {"name": "Ministère 2"},
                                              format="json")
    assert response.status_code == 200, response.content
    record = AuditRecord.objects.order_by("-seq").first()
    assert AuditRecord.objects.count() == before + 1
    assert (record.action, record.object_type, record.object_id) == ("object.update", "tenancy.tenant",
                                                                     str(tenants["home"].pk))
    assert (record.source, record.data_json["after"]["name"]) == ("api", "Ministère 2")
    assert services.verify().ok


def test_operators_and_auditors_read_tenant_users_do_not(api_as, role_users, tenants):
    from django.contrib.auth import get_user_model

    from souverain.tenancy.models import Membership

    bound = get_user_model().objects.create_user(username="auditor-bound", password="x")
    Membership.objects.create(user=bound, role="auditor", tenant=tenants["home"])
    count = AuditRecord.objects.count()
    assert count > 0  # the fixtures' tenants and memberships
    for username in ("operator-admin", "auditor"):
        body = api_as(username).get("/api/audit/records/?limit=1000").json()
        assert body["count"] == count
    for username in ("operator-ops", "tenant-admin", "tenant-member"):
        assert api_as(username).get("/api/audit/records/").status_code == 403
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(bound)
    assert client.get("/api/audit/records/").json()["count"] == 0
    assert client.get("/api/audit/export/").getvalue() == b""
    assert api_as(None).get("/api/audit/records/").status_code in (401, 403)


def test_nobody_writes_records_through_the_api(api_as):
    admin = api_as("operator-admin")
    assert admin.post("/api/audit/records/", {"action": "x"}, format="json").status_code in (403, 405)
    assert admin.delete("/api/audit/records/1/").status_code == 404  # no detail route at all
    assert api_as("auditor").post("/api/audit/checkpoints/").status_code == 403
    created = admin.post("/api/audit/checkpoints/")
    assert created.status_code == 201 and created.json()["number"] == 1


def test_verify_api_reports_the_first_bad_record(api_as, tenants):
    assert api_as("auditor").get("/api/audit/verify/").json()["ok"] is True
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditrecord SET object_repr = 'nothing to see' WHERE seq = 2")
    body = api_as("auditor").get("/api/audit/verify/").json()
    assert (body["ok"], body["first_bad_seq"], body["problems"][0]["kind"]) == (False, 2, "edited")
    assert api_as("auditor").get("/api/audit/verify/?from=bogus").status_code == 400


def test_public_key_checks_the_checkpoints(api_as):
    services.make_checkpoint()
    response = api_as("tenant-member").get("/api/audit/public-key/")
    assert response.status_code == 200
    key = chain.load_public_pem(response.content)
    checkpoint = api_as("auditor").get("/api/audit/checkpoints/").json()["results"][0]
    assert chain.signature_ok(key, checkpoint)
    assert not chain.signature_ok(key, {**checkpoint, "count": checkpoint["count"] + 1})


def test_key_file_is_private_and_made_once(audit_key):
    first = services.public_key_pem()
    assert audit_key.stat().st_mode & 0o777 == 0o600
    assert services.public_key_pem() == first


def test_an_export_verifies_offline_and_one_changed_byte_fails(api_as, tmp_path, tenants):
    for i in range(5):
        api_as("operator-admin").patch(f"/api/tenants/{tenants['home'].slug}/", {"name": f"M {i}"}, format="json")
    services.make_checkpoint()
    lines = list(api_as("auditor").get("/api/audit/export/").streaming_content)
    lines = [line.decode() for line in lines]
    assert json.loads(lines[0])["type"] == "checkpoint"
    pem = services.public_key_pem()
    ok = _offline(tmp_path, lines, pem)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "verified" in ok.stdout
    # One byte of one record: "M 3" becomes "M 4".
    index = next(i for i, line in enumerate(lines) if '"M 3"' in line)
    tampered = lines[:index] + [lines[index].replace('"M 3"', '"M 4"', 1)] + lines[index + 1:]
    bad = _offline(tmp_path, tampered, pem)
    seq = json.loads(lines[index])["seq"]
    assert bad.returncode == 1
    assert f"first bad record seq {seq}" in bad.stdout
    # A truncated file: the checkpoint signed records that are not there.
    short = _offline(tmp_path, lines[:-2], pem)
    assert short.returncode == 1 and "truncated" in short.stdout


def test_offline_verify_imports_no_django(tmp_path):
    script = ("import sys\nfrom souverain.audit import chain\n"
              "print(chain.verify_export([], None).ok, 'django' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                            env={"PATH": os.environ["PATH"]}, cwd=Path(__file__).resolve().parents[3])
    assert result.stdout.split() == ["True", "False"], result.stderr


def test_the_hourly_checkpoint_is_scheduled_for_beat_and_the_in_process_scheduler(settings):
    from souverain.audit.models import AuditCheckpoint
    from souverain.jobs.worker import _schedule

    assert settings.CELERY_BEAT_SCHEDULE["audit-checkpoint"]["schedule"] == 3600
    entry = next(e for e in _schedule() if e["name"] == "audit-checkpoint")
    assert entry["every"] == 3600
    entry["call"](*entry["args"], **entry["kwargs"])
    assert AuditCheckpoint.objects.count() == 1 and services.verify().ok
