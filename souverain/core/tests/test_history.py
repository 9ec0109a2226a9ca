"""Issue 13 item 7, change history: it was in neither the API nor the portal. Now ``/api/changes/`` and
``/history/`` read it with filters and a CSV export, operators and auditors all of it, tenants their own objects'."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from souverain.core.context import acting_as
from souverain.core.models import ObjectChange

pytestmark = pytest.mark.django_db


@pytest.fixture
def changes(tenants, role_users):
    """A home-tenant object changed by its admin, and a foreign one; an estate change by an operator."""
    from souverain.tenancy.models import Membership

    home_member = Membership.objects.get(user=role_users["tenant-member"])
    foreign_admin = Membership.objects.get(user=role_users["foreign-admin"])
    with acting_as("tenant-admin", "api", client_request_id="trace-home"):
        home_member.role = "tenant-admin"
        home_member.save()
        home_member.role = "tenant-member"
        home_member.save()
    with acting_as("foreign-admin", "portal"):
        foreign_admin.role = "tenant-member"
        foreign_admin.save()
    with acting_as("operator-admin", "cli"):
        tenants["home"].description = "changed by an operator"
        tenants["home"].save()
    return {"home": home_member, "foreign": foreign_admin}


def test_operators_and_auditors_read_and_filter_every_change(api_as, changes):
    auditor = api_as("auditor")
    membership_type = "tenancy.membership"
    rows = auditor.get("/api/changes/", {"object_type": membership_type, "action": "update"}).json()["results"]
    assert {row["object_repr"].split(" ")[0] for row in rows} == {"tenant-member", "foreign-admin"}
    by_actor = auditor.get("/api/changes/", {"actor": "tenant-admin"}).json()["results"]
    assert len(by_actor) == 2 and all(row["source"] == "api" for row in by_actor)
    assert by_actor[0]["changed_fields"] == ["role"]
    assert {(row["before"]["role"], row["after"]["role"]) for row in by_actor} == {
        ("tenant-member", "tenant-admin"), ("tenant-admin", "tenant-member")}
    traced = auditor.get("/api/changes/", {"request_id": "trace-home"}).json()["results"]
    assert len(traced) == 2 and {row["client_request_id"] for row in traced} == {"trace-home"}
    own_id = traced[0]["request_id"]
    assert len(auditor.get("/api/changes/", {"request_id": own_id}).json()["results"]) == 2
    one = auditor.get("/api/changes/", {"object_type": membership_type, "object_id": changes["foreign"].pk})
    assert [row["username"] for row in one.json()["results"]] == ["foreign-admin", "system"]  # then its creation


def test_time_range_and_bad_input(api_as, changes):
    admin = api_as("operator-admin")
    later = (timezone.now() + timezone.timedelta(minutes=5)).isoformat()
    assert admin.get("/api/changes/", {"since": later}).json()["results"] == []
    assert len(admin.get("/api/changes/", {"until": later}).json()["results"]) >= 4
    bad = admin.get("/api/changes/", {"since": "yesterday"})
    assert bad.status_code == 400 and "since" in bad.json()


def test_tenant_users_read_their_tenants_objects_history_only(api_as, changes):
    member = api_as("tenant-member")
    rows = member.get("/api/changes/").json()["results"]
    from souverain.tenancy.models import Membership

    home = {str(pk) for pk in Membership.objects.filter(tenant=changes["home"].tenant).values_list("pk", flat=True)}
    assert rows and {row["object_id"] for row in rows} == home and str(changes["foreign"].pk) not in home
    foreign = ObjectChange.objects.filter(object_id=str(changes["foreign"].pk),
                                          content_type__model="membership").first()
    assert member.get(f"/api/changes/{foreign.pk}/").status_code == 404
    assert api_as("foreign-admin").get(f"/api/changes/{foreign.pk}/").status_code == 200
    assert api_as(None).get("/api/changes/").status_code in (401, 403)


def test_csv_export_streams_every_matching_row(api_as, changes):
    response = api_as("auditor").get("/api/changes/?format=csv&actor=tenant-admin")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 2 and {row["client_request_id"] for row in rows} == {"trace-home"}
    assert all(row["object_type"] == "tenancy.membership" and '"role"' in row["after"] for row in rows)


def test_the_portal_page_filters_and_speaks_french(client, role_users, changes):
    client.force_login(role_users["tenant-member"])
    page = client.get("/history/", {"actor": "tenant-admin"}).content.decode()
    assert "tenant-admin" in page and "foreign-admin" not in page
    assert "/api/changes/?actor=tenant-admin&amp;format=csv" in page
    client.force_login(role_users["auditor"])
    page = client.get("/history/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Historique des modifications" in page and "foreign-admin" in page


def test_an_object_and_its_history_row_commit_together(transactional_db, tenants):
    """The history row is written after the row's save: Django's save is not atomic, so a failing history left
    the change made and unrecorded."""
    from souverain.core import events

    def broken(event: events.Event) -> None:
        raise RuntimeError("history store unavailable")

    events.add_recorder(broken)
    name = f"never-{uuid.uuid4().hex[:6]}"
    try:
        with pytest.raises(RuntimeError):
            tenants["home"].name = name
            tenants["home"].save()
    finally:
        events.remove_recorder(broken)
    tenants["home"].refresh_from_db()
    assert tenants["home"].name != name
    assert not ObjectChange.objects.filter(content_type=ContentType.objects.get_for_model(tenants["home"]),
                                           after__name=name).exists()
