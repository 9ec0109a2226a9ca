"""The notifications API: subscriptions CRUD with roles and tenant isolation, the delivery log read-only."""

from __future__ import annotations

import pytest

from souverain.notifications import services
from souverain.notifications.models import Channel, Delivery, Subscription

pytestmark = pytest.mark.django_db

URL = "/api/notifications/subscriptions/"


def test_a_tenant_admin_subscribes_for_its_own_tenant_only(api_as, tenants):
    client = api_as("tenant-admin")
    created = client.post(URL, {"name": "our SIEM", "channel": "webhook", "url": "https://siem.ministere.example/in",
                                "secret": "k3y", "events": ["alert.*", "request.*"]}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["tenant"] == "ministere" and body["has_secret"] is True and "secret" not in body
    subscription = Subscription.objects.get(pk=body["id"])
    assert subscription.secret == "k3y" and "k3y" not in subscription.secret_encrypted

    refused = client.post(URL, {"name": "theirs", "channel": "email", "email": "x@y.example",
                                "tenant": "other-corp"}, format="json")
    assert refused.status_code == 400 and "tenant" in refused.json()
    operator_role = client.post(URL, {"name": "ops", "channel": "email", "role": "operator-admin"}, format="json")
    assert operator_role.status_code == 400 and "role" in operator_role.json()
    assert Subscription.objects.count() == 1


def test_bad_input_names_the_field(api_as):
    client = api_as("operator-admin")
    no_url = client.post(URL, {"name": "hook", "channel": "webhook"}, format="json")
    assert no_url.status_code == 400 and "url" in no_url.json()
    nobody = client.post(URL, {"name": "mail", "channel": "email"}, format="json")
    assert nobody.status_code == 400 and "email" in nobody.json()
    scheme = client.post(URL, {"name": "hook", "channel": "webhook", "url": "ftp://x.example/"}, format="json")
    assert scheme.status_code == 400 and "url" in scheme.json()
    unknown = client.post(URL, {"name": "m", "channel": "email", "email": "a@b.example", "colour": "red"},
                          format="json")
    assert unknown.status_code == 400 and "colour" in unknown.json()
    assert not Subscription.objects.exists()


def test_tenants_never_see_each_others_subscriptions_or_deliveries(api_as, tenants):
    home = Subscription.objects.create(name="home hook", channel=Channel.WEBHOOK, url="https://h.example/",
                                       tenant=tenants["home"])
    foreign = Subscription.objects.create(name="foreign hook", channel=Channel.WEBHOOK, url="https://f.example/",
                                          tenant=tenants["foreign"])
    soc = Subscription.objects.create(name="SOC", channel=Channel.WEBHOOK, url="https://soc.example/")
    services.notify("request.done", tenant=tenants["home"], subject="home done")
    services.notify("request.done", tenant=tenants["foreign"], subject="foreign done")

    def ids(client, path):
        return sorted(row["id"] for row in client.get(path).json()["results"])

    member = api_as("tenant-member")
    assert ids(member, URL) == [home.pk]
    assert ids(api_as("foreign-admin"), URL) == [foreign.pk]
    assert ids(api_as("operator-ops"), URL) == sorted([home.pk, foreign.pk, soc.pk])
    home_deliveries = sorted(Delivery.objects.filter(tenant=tenants["home"]).values_list("pk", flat=True))
    assert ids(member, "/api/notifications/deliveries/") == home_deliveries
    assert len(home_deliveries) == 2  # the tenant's own hook and the SOC's (which hears every event)
    assert {r["subject_en"] for r in member.get("/api/notifications/notifications/").json()["results"]} == {
        "home done"}
    assert member.get(f"{URL}{foreign.pk}/").status_code == 404
    foreign_delivery = Delivery.objects.filter(tenant=tenants["foreign"]).first()
    assert member.get(f"/api/notifications/deliveries/{foreign_delivery.pk}/").status_code == 404

    # Members read, admins write; nobody touches another tenant's subscription.
    assert member.patch(f"{URL}{home.pk}/", {"name": "x"}, format="json").status_code == 403
    admin = api_as("tenant-admin")
    assert admin.delete(f"{URL}{foreign.pk}/").status_code == 404
    assert admin.patch(f"{URL}{home.pk}/", {"tenant": "other-corp"}, format="json").status_code == 400
    assert Subscription.objects.get(pk=home.pk).tenant == tenants["home"]
    assert admin.delete(f"{URL}{home.pk}/").status_code == 204


def test_the_delivery_log_is_read_only(api_as):
    Subscription.objects.create(name="SOC", channel=Channel.EMAIL, email="soc@x.example")
    delivery = services.notify("x", subject="x").deliveries.get()
    client = api_as("operator-admin")
    row = client.get(f"/api/notifications/deliveries/{delivery.pk}/").json()
    assert row["status"] == "pending" and row["recipient"] == "soc@x.example" and row["attempts"] == 0
    assert client.post("/api/notifications/deliveries/", {}, format="json").status_code in (403, 405)
    assert client.delete(f"/api/notifications/deliveries/{delivery.pk}/").status_code in (403, 405)
    assert Delivery.objects.filter(pk=delivery.pk).exists()


def test_operators_may_start_an_exposure_check_and_bad_params_name_the_field(api_as):
    client = api_as("operator-ops")
    started = client.post("/api/jobs/", {"kind": "notifications.exposure", "params": {"trigger": "manual"}},
                          format="json")
    assert started.status_code == 202 and started.json()["params"] == {"trigger": "manual"}
    bad = client.post("/api/jobs/", {"kind": "notifications.exposure", "params": {"trigger": "whenever"}},
                      format="json")
    assert bad.status_code == 400 and "trigger" in str(bad.json()["params"])
    bad = client.post("/api/jobs/", {"kind": "notifications.deliver", "params": {"notification": "x"}},
                      format="json")
    assert bad.status_code == 400 and "notification" in str(bad.json()["params"])
