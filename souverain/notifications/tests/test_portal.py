"""The portal's notifications page: in English and French, tenant-scoped, the form validated like the API."""

from __future__ import annotations

import pytest

from souverain.notifications import services
from souverain.notifications.models import Channel, Subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def both_tenants(tenants):
    Subscription.objects.create(name="ministry hook", channel=Channel.WEBHOOK, url="https://m.example/",
                                tenant=tenants["home"])
    Subscription.objects.create(name="Other Corp hook", channel=Channel.WEBHOOK, url="https://o.example/",
                                tenant=tenants["foreign"])
    services.notify("request.done", tenant=tenants["home"],
                    subject={"en": "Ministry request done", "fr": "Demande du ministère terminée"},
                    link="/inventory/")
    services.notify("request.done", tenant=tenants["foreign"], subject="Other Corp request done")
    return tenants


def test_the_page_in_english_and_french_shows_only_the_readers_tenant(client, role_users, both_tenants):
    client.force_login(role_users["tenant-member"])
    page = client.get("/notifications/").content.decode()
    assert "Delivery log" in page and "ministry hook" in page and "Ministry request done" in page
    assert "Other Corp" not in page
    assert "Add a subscription" not in page  # members read only

    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    page = client.get("/notifications/").content.decode()
    for text in ("Journal des envois", "Abonnements", "Demande du ministère terminée", "Dernières notifications"):
        assert text in page, text
    assert "Other Corp" not in page


def test_an_operator_sees_everything(client, role_users, both_tenants):
    client.force_login(role_users["operator-ops"])
    page = client.get("/notifications/").content.decode()
    assert "ministry hook" in page and "Other Corp hook" in page and "Add a subscription" in page


def test_a_tenant_admin_adds_and_removes_its_own_subscription(client, role_users, both_tenants):
    client.force_login(role_users["tenant-admin"])
    bad = client.post("/notifications/", {"action": "create", "name": "hook", "channel": "webhook"})
    assert bad.status_code == 400 and "A webhook subscription needs a URL." in bad.content.decode()
    done = client.post("/notifications/", {"action": "create", "name": "RSSI", "channel": "email",
                                           "email": "rssi@ministere.example", "events": "alert.* request.failed",
                                           "language": "fr"})
    assert done.status_code == 302
    created = Subscription.objects.get(name="RSSI")
    assert created.tenant == both_tenants["home"] and created.events == ["alert.*", "request.failed"]
    assert created.created_by == "tenant-admin"

    foreign = Subscription.objects.get(name="Other Corp hook")
    assert client.post("/notifications/", {"action": "delete", "id": foreign.pk}).status_code == 404
    assert client.post("/notifications/", {"action": "delete", "id": created.pk}).status_code == 302
    assert not Subscription.objects.filter(pk=created.pk).exists()
    assert Subscription.objects.filter(pk=foreign.pk).exists()


def test_a_member_cannot_write(client, role_users, both_tenants):
    client.force_login(role_users["tenant-member"])
    response = client.post("/notifications/", {"action": "create", "name": "x", "channel": "email",
                                               "email": "x@y.example"})
    assert response.status_code == 403
    assert not Subscription.objects.filter(name="x").exists()


def test_the_forms_refusals_are_in_french(client, role_users, both_tenants):
    client.force_login(role_users["tenant-admin"])
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    refused = client.post("/notifications/", {"action": "create", "name": "hook", "channel": "webhook"})
    assert refused.status_code == 400
    assert "Un abonnement par webhook a besoin d&#x27;une URL." in refused.content.decode()
