"""Issue 13 item 7, API tokens: before, DRF's authtoken kept one plain key per user, identical at every login,
never expiring, not revocable, readable in the database. Each test here failed against that."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from souverain.core import tokens
from souverain.core.models import ApiToken

pytestmark = pytest.mark.django_db


def _login(username: str, password: str) -> dict:
    response = APIClient().post("/api/auth/token/", {"username": username, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def _with(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def test_each_login_issues_a_new_token_stored_only_as_its_digest(role_users):
    first, second = _login("auditor", "pw-auditor"), _login("auditor", "pw-auditor")
    assert first["token"] != second["token"]
    stored = ApiToken.objects.filter(user=role_users["auditor"])
    assert stored.count() == 2
    for token in (first["token"], second["token"]):
        row = stored.get(digest=hashlib.sha256(token.encode()).hexdigest())
        # The secret is nowhere in the row: only its first characters, to recognise it in a list.
        assert all(token not in str(value) for value in row.__dict__.values())
        assert len(row.prefix) < 12
    assert _with(first["token"]).get("/api/users/me/").json()["username"] == "auditor"


def test_a_token_expires(role_users, settings):
    settings.SOUVERAIN_TOKEN_DAYS = 30
    issued = _login("auditor", "pw-auditor")
    row = ApiToken.objects.get(digest=tokens.digest(issued["token"]))
    assert dt.timedelta(days=29) < row.expires - timezone.now() <= dt.timedelta(days=30)
    ApiToken.objects.filter(pk=row.pk).update(expires=timezone.now() - dt.timedelta(seconds=1))
    response = _with(issued["token"]).get("/api/users/me/")
    assert response.status_code == 401 and "expired" in response.json()["detail"]


def test_a_revoked_token_is_refused_and_the_user_lists_theirs_without_secrets(role_users):
    one, two = _login("tenant-member", "pw-tenant-member"), _login("tenant-member", "pw-tenant-member")
    client = _with(one["token"])
    listed = client.get("/api/tokens/").json()["results"]
    assert len(listed) == 2 and one["token"] not in str(listed) and two["token"] not in str(listed)
    target = ApiToken.objects.get(digest=tokens.digest(two["token"]))
    assert client.delete(f"/api/tokens/{target.pk}/").status_code == 204
    refused = _with(two["token"]).get("/api/users/me/")
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    assert client.get("/api/users/me/").status_code == 200
    assert {row["status"] for row in client.get("/api/tokens/").json()["results"]} == {"active", "revoked"}


def test_a_read_token_cannot_write(role_users, tenants):
    client = _with(tokens.issue(role_users["operator-admin"], scope="read")[1])
    assert client.get(f"/api/tenants/{tenants['home'].slug}/").status_code == 200
    response = client.patch(f"/api/tenants/{tenants['home'].slug}/", {"name": "no"}, format="json")
    assert response.status_code == 403 and "read-only" in response.json()["detail"]


def test_create_shows_the_secret_once_and_checks_its_input(role_users):
    client = _with(tokens.issue(role_users["tenant-admin"])[1])
    created = client.post("/api/tokens/", {"name": "ci", "scope": "read", "expires_in_days": 7}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["token"].startswith("sv_") and body["scope"] == "read" and body["name"] == "ci"
    assert _with(body["token"]).get("/api/users/me/").status_code == 200
    assert "token" not in client.get("/api/tokens/").json()["results"][0]
    bad = client.post("/api/tokens/", {"scope": "admin"}, format="json")
    assert bad.status_code == 400 and "scope" in bad.json()
    assert client.post("/api/tokens/", {"expires_in_days": 100000}, format="json").status_code == 400


def test_users_see_and_revoke_only_their_own_tokens_operator_admins_everyones(role_users):
    mine, _ = tokens.issue(role_users["tenant-member"], name="member's")
    theirs, _ = tokens.issue(role_users["foreign-admin"], name="foreign's")
    member = _with(tokens.issue(role_users["tenant-member"])[1])
    assert {row["name"] for row in member.get("/api/tokens/").json()["results"]} == {"member's", ""}
    assert member.delete(f"/api/tokens/{theirs.pk}/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked is None
    admin = _with(tokens.issue(role_users["operator-admin"])[1])
    names = {row["name"] for row in admin.get("/api/tokens/", {"user": "foreign-admin"}).json()["results"]}
    assert names == {"foreign's"}
    assert admin.delete(f"/api/tokens/{theirs.pk}/").status_code == 204
    theirs.refresh_from_db()
    assert theirs.revoked is not None and theirs.revoked_by == "operator-admin"
    assert mine.user == role_users["tenant-member"]


def test_issue_and_revocation_are_audited_without_the_secret(role_users):
    from souverain.audit.models import AuditRecord

    token, secret = tokens.issue(role_users["auditor"], name="audited")
    tokens.revoke(token, actor="operator-admin")
    issued = AuditRecord.objects.filter(action="auth.token_issued").last()
    revoked = AuditRecord.objects.filter(action="auth.token_revoked").last()
    assert issued.data_json["name"] == "audited" and secret not in issued.data and secret not in revoked.data
    assert revoked.username == "operator-admin"


def test_plain_authtoken_keys_are_migrated_hashed(transactional_db, role_users):
    """The data migration: an authtoken table's plain keys become digests, and the plain keys are deleted."""
    import importlib

    from django.apps import apps
    from django.db import connection

    migration = importlib.import_module("souverain.core.migrations.0003_hash_plain_tokens")

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamp, user_id bigint)")
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, %s, %s)",
                       ["0123456789abcdef0123456789abcdef01234567", timezone.now(), role_users["auditor"].pk])
    try:
        with connection.schema_editor() as editor:
            migration.hash_plain_tokens(apps, editor)
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM authtoken_token")
            assert cursor.fetchone()[0] == 0
        response = _with("0123456789abcdef0123456789abcdef01234567").get("/api/users/me/")
        assert response.status_code == 200 and response.json()["username"] == "auditor"
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE authtoken_token")
