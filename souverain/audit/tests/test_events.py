"""Security events reach the chain: logins and failures, API tokens (never their secret), denials, jobs."""

from __future__ import annotations

import pytest

from souverain.audit import services
from souverain.audit.models import AuditRecord

pytestmark = pytest.mark.django_db


def _last(action: str) -> AuditRecord:
    return AuditRecord.objects.filter(action=action).order_by("-seq").first()


def test_token_issue_and_failed_login_are_recorded(api_as, role_users):
    from rest_framework.test import APIClient

    client = APIClient()
    assert client.post("/api/auth/token/", {"username": "auditor", "password": "wrong"}).status_code == 401
    failed = _last("auth.login_failed")
    assert failed is not None and failed.username == "auditor"
    assert "wrong" not in failed.data
    response = client.post("/api/auth/token/", {"username": "auditor", "password": "pw-auditor"})
    assert response.status_code == 200
    issued = _last("auth.token_issued")
    assert (issued.username, issued.data_json["user"], issued.data_json["scope"]) == ("auditor", "auditor", "write")
    assert response.json()["token"] not in issued.data
    assert services.verify().ok


def test_portal_login_is_recorded(role_users, client):
    assert client.post("/login/", {"username": "auditor", "password": "pw-auditor"}).status_code == 302
    assert _last("auth.login").username == "auditor"


def test_permission_denials_are_recorded_api_and_portal(api_as, role_users, client):
    assert api_as("tenant-member").get("/api/audit/records/").status_code == 403
    denied = _last("access.denied")
    assert denied.username == "tenant-member"
    assert denied.data_json["path"] == "/api/audit/records/"
    before = AuditRecord.objects.filter(action="access.denied").count()
    assert api_as(None).get("/api/audit/records/").status_code in (401, 403)  # anonymous: asked to log in only
    assert AuditRecord.objects.filter(action="access.denied").count() == before


def test_jobs_start_and_end_are_recorded(db):
    from souverain.jobs import registry
    from souverain.jobs import services as jobs

    @registry.register("test.audit-echo")
    def echo(job, reporter) -> None:  # noqa: ANN001
        reporter.add(done=1)

    job = jobs.create_job("test.audit-echo", {}, requested_by="ops")
    jobs.run_job(job.pk, worker="test")
    start, end = _last("job.start"), _last("job.end")
    assert (start.object_id, start.username, start.source) == (str(job.pk), "ops", "job")
    assert end.data_json["status"] == "succeeded" and end.seq > start.seq


def test_knowledge_base_releases_are_recorded(kb_loaded):
    releases = AuditRecord.objects.filter(action="kb.release")
    files = {r.data_json["file"] for r in releases}
    assert {"laws", "countries"} <= {f.split(".")[0] for f in files}
    assert all(len(r.data_json["sha256"]) == 64 for r in releases)


def test_a_change_whose_record_cannot_be_written_is_not_made(tenants, monkeypatch):
    from django.db import transaction

    from souverain.core.models import ObjectChange
    from souverain.tenancy.models import Tenant

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(services, "append", broken)
    changes = ObjectChange.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        Tenant.objects.filter(pk=tenants["home"].pk).first().delete()
    assert Tenant.objects.filter(pk=tenants["home"].pk).exists()
    assert ObjectChange.objects.count() == changes


def test_a_write_with_an_api_token_is_recorded_under_its_user(role_users, tenants):
    """The request middleware runs before DRF authenticates a token: the actor must still be the token's user."""
    from rest_framework.test import APIClient

    from souverain.core import tokens
    from souverain.core.models import ObjectChange

    _token, secret = tokens.issue(role_users["operator-admin"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    response = client.patch(f"/api/tenants/{tenants['home'].slug}/", {"name": "By token"}, format="json")
    assert response.status_code == 200, response.content
    record = _last("object.update")
    assert (record.username, record.source) == ("operator-admin", "api")
    assert ObjectChange.objects.filter(object_id=str(tenants["home"].pk)).first().username == "operator-admin"
