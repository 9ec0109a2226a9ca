"""The delivery machinery against a real SMTP server and a real HTTP receiver on loopback."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from souverain.audit.models import AuditRecord
from souverain.core.roles import Role
from souverain.notifications import services
from souverain.notifications.models import Channel, Delivery, Notification, Subscription

pytestmark = pytest.mark.django_db


def _webhook(receiver, **fields) -> Subscription:
    subscription = Subscription(name=fields.pop("name", "SOC webhook"), channel=Channel.WEBHOOK, url=receiver.url,
                                **fields)
    subscription.secret = receiver.secret
    subscription.save()
    return subscription


def test_one_notification_is_one_mail_in_the_recipients_language_and_one_signed_webhook(
        smtp_server, webhook_receiver, run_jobs):
    Subscription.objects.create(name="SOC mail", channel=Channel.EMAIL, email="soc@operator.example",
                                language="fr")
    _webhook(webhook_receiver, language="en")

    notification = services.notify(
        "request.approval_needed", subject={"en": "Request 7 needs your approval", "fr": "La demande 7 attend "
                                                                                            "votre approbation"},
        body={"en": "A server in Paris 1.", "fr": "Un serveur à Paris 1."}, link="/requests/7/",
        payload={"request": 7}, actor="alice")

    # Nothing is sent in the caller's thread: the deliveries wait for the job.
    assert set(notification.deliveries.values_list("status", flat=True)) == {Delivery.Status.PENDING}
    assert smtp_server.messages == [] and webhook_receiver.requests == []
    run_jobs(services.JOB_KIND)

    assert len(smtp_server.messages) == 1
    recipients, message = smtp_server.messages[0]
    assert recipients == ["soc@operator.example"]
    assert message["Subject"] == "[Souverain] La demande 7 attend votre approbation"
    text = message.get_content()
    assert "Un serveur à Paris 1." in text and "/requests/7/" in text

    [document] = webhook_receiver.verified()
    assert len(webhook_receiver.requests) == 1
    headers = webhook_receiver.requests[0]["headers"]
    assert headers["X-Souverain-Event"] == "request.approval_needed"
    assert document["timestamp"] == int(headers["X-Souverain-Timestamp"])
    assert document["subject"] == {"en": "Request 7 needs your approval",
                                   "fr": "La demande 7 attend votre approbation"}
    assert document["payload"] == {"request": 7} and document["link"] == "/requests/7/"

    log = {d.channel: d for d in notification.deliveries.all()}
    assert log[Channel.EMAIL].status == log[Channel.WEBHOOK].status == Delivery.Status.SENT
    assert log[Channel.WEBHOOK].response_code == 200 and log[Channel.WEBHOOK].attempts == 1
    # The notification is an audit record, attributed to its actor.
    record = AuditRecord.objects.get(action="notification.create", object_id=str(notification.pk))
    assert '"actor":"alice"' in record.data


def test_a_tampered_body_does_not_verify(webhook_receiver, run_jobs):
    _webhook(webhook_receiver)
    services.notify("request.done", subject="Done")
    run_jobs(services.JOB_KIND)
    request = webhook_receiver.requests[0]
    request["body"] = request["body"].replace(b"Done", b"Dome")
    assert webhook_receiver.verified() == []


def test_a_500_is_retried_with_exponential_backoff_then_succeeds(webhook_receiver, settings):
    settings.SOUVERAIN_NOTIFICATION_BACKOFF = 60
    webhook_receiver.statuses = [500, 503]
    _webhook(webhook_receiver)
    notification = services.notify("request.failed", subject="Request 9 failed")
    delivery = notification.deliveries.get()
    t0 = timezone.now()

    assert services.deliver_pending(now=t0) == {"sent": 0, "retry": 1, "failed": 0}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == (Delivery.Status.PENDING, 1, 500)
    assert "receiver says no" in delivery.last_error
    assert delivery.next_attempt == t0 + dt.timedelta(seconds=60)
    # Not due before its time.
    assert services.deliver_pending(now=t0 + dt.timedelta(seconds=59)) == {"sent": 0, "retry": 0, "failed": 0}

    t1 = t0 + dt.timedelta(seconds=60)
    assert services.deliver_pending(now=t1) == {"sent": 0, "retry": 1, "failed": 0}
    delivery.refresh_from_db()
    assert delivery.next_attempt == t1 + dt.timedelta(seconds=120)  # doubled
    assert delivery.response_code == 503

    assert services.deliver_pending(now=t1 + dt.timedelta(seconds=120)) == {"sent": 1, "retry": 0, "failed": 0}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code, delivery.last_error) == (
        Delivery.Status.SENT, 3, 200, "")
    # Three POSTs, each signed; the same notification each time.
    assert len(webhook_receiver.verified()) == 3
    assert {d["id"] for d in webhook_receiver.verified()} == {notification.pk}


def test_attempts_are_bounded_then_the_delivery_fails(webhook_receiver, settings):
    settings.SOUVERAIN_NOTIFICATION_BACKOFF = 1
    settings.SOUVERAIN_NOTIFICATION_MAX_ATTEMPTS = 3
    webhook_receiver.statuses = [500] * 10
    _webhook(webhook_receiver)
    delivery = services.notify("request.failed", subject="x").deliveries.get()
    now = timezone.now()
    outcomes = []
    for _ in range(5):
        now += dt.timedelta(hours=1)
        outcomes.append(services.deliver_pending(now=now))
    assert [o["retry"] for o in outcomes] == [1, 1, 0, 0, 0]
    assert [o["failed"] for o in outcomes] == [0, 0, 1, 0, 0]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt) == (Delivery.Status.FAILED, 3, None)
    assert len(webhook_receiver.requests) == 3


def test_a_refused_connection_is_a_retry_not_a_crash(settings):
    settings.SOUVERAIN_NOTIFICATION_BACKOFF = 5
    Subscription.objects.create(name="dead", channel=Channel.WEBHOOK, url="http://127.0.0.1:9/nothing")
    delivery = services.notify("request.done", subject="x").deliveries.get()
    assert services.deliver_pending() == {"sent": 0, "retry": 1, "failed": 0}
    delivery.refresh_from_db()
    assert "ConnectionError" in delivery.last_error and delivery.response_code is None


def test_the_retry_pass_queues_a_job_for_due_deliveries_only(webhook_receiver, run_jobs, settings):
    settings.SOUVERAIN_NOTIFICATION_BACKOFF = 3600
    webhook_receiver.statuses = [500]
    _webhook(webhook_receiver)
    notification = services.notify("request.done", subject="x")
    run_jobs(services.JOB_KIND)
    assert services.queue_due() == []  # due in an hour
    assert services.queue_due(timezone.now() + dt.timedelta(hours=2)) == [notification.pk]
    assert services.queue_due(timezone.now() + dt.timedelta(hours=2)) == []  # one job waiting is enough


def test_the_same_fact_is_told_once(smtp_server, run_jobs):
    Subscription.objects.create(name="SOC", channel=Channel.EMAIL, email="soc@operator.example")
    first = services.notify("alert.x", subject="x", dedup_key="fact-1")
    again = services.notify("alert.x", subject="x", dedup_key="fact-1")
    assert first.pk == again.pk and Notification.objects.count() == 1
    run_jobs(services.JOB_KIND)
    assert len(smtp_server.messages) == 1


def test_recipients_by_role_and_tenant_never_cross_tenants(tenants, role_users, smtp_server, run_jobs):
    for username, user in role_users.items():
        user.email = f"{username}@example.org"
        user.save()
    # Operator-wide: every tenant admin (each only for their own tenant's events) and the operator admins.
    Subscription.objects.create(name="all tenant admins", channel=Channel.EMAIL, role=Role.TENANT_ADMIN)
    Subscription.objects.create(name="operators", channel=Channel.EMAIL, role=Role.OPERATOR_ADMIN)
    # The foreign tenant's own subscription.
    Subscription.objects.create(name="other corp team", channel=Channel.EMAIL, tenant=tenants["foreign"],
                                email="team@other-corp.example")

    services.notify("request.done", tenant=tenants["home"], subject="Home request done")
    services.notify("alert.audit_verification_failed", subject="Chain broken")
    run_jobs(services.JOB_KIND)

    sent = {(tuple(rcpt), msg["Subject"]) for rcpt, msg in smtp_server.messages}
    assert sent == {
        (("tenant-admin@example.org",), "[Souverain] Home request done"),
        (("operator-admin@example.org",), "[Souverain] Home request done"),
        (("operator-admin@example.org",), "[Souverain] Chain broken"),
    }
    assert not Delivery.objects.filter(recipient__in=["foreign-admin@example.org", "team@other-corp.example"])


def test_event_patterns_and_inactive_subscriptions():
    Subscription.objects.create(name="alerts only", channel=Channel.EMAIL, email="a@x.example", events=["alert.*"])
    Subscription.objects.create(name="off", channel=Channel.EMAIL, email="b@x.example", is_active=False)
    assert services.notify("request.done", subject="x").deliveries.count() == 0
    assert list(services.notify("alert.cloud_stale", subject="y").deliveries.values_list("recipient", flat=True)) \
        == ["a@x.example"]


def test_lazy_text_is_rendered_in_both_languages():
    from django.utils.translation import gettext_lazy

    notification = services.notify("x", subject=gettext_lazy("Password"))
    assert (notification.subject_en, notification.subject_fr) == ("Password", "Mot de passe")


def test_the_secret_is_stored_encrypted():
    subscription = Subscription(name="hook", channel=Channel.WEBHOOK, url="https://hooks.example/x")
    subscription.secret = "very-secret-value"
    subscription.save()
    stored = Subscription.objects.values_list("secret_encrypted", flat=True).get()
    assert "very-secret-value" not in stored
    assert Subscription.objects.get().secret == "very-secret-value"


def test_a_tenants_webhook_into_the_operators_network_is_refused_and_never_sent(
        tenants, webhook_receiver, api_as, settings):
    refused = api_as("tenant-admin").post("/api/notifications/subscriptions/", {
        "name": "sneaky", "channel": "webhook", "url": webhook_receiver.url}, format="json")
    assert refused.status_code == 400 and "operator's network" in str(refused.json()["url"])

    # One stored anyway (before the rule, or by an operator for the tenant): never sent, failed at once.
    _webhook(webhook_receiver, tenant=tenants["home"])
    delivery = services.notify("request.done", tenant=tenants["home"], subject="x").deliveries.get()
    assert services.deliver_pending() == {"sent": 0, "retry": 0, "failed": 1}
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED and "127.0.0.1" in delivery.last_error
    assert webhook_receiver.requests == []

    settings.SOUVERAIN_WEBHOOK_ALLOW_PRIVATE = True  # an operator who wants it
    services.notify("request.done", tenant=tenants["home"], subject="y")
    assert services.deliver_pending() == {"sent": 1, "retry": 0, "failed": 0}
    assert len(webhook_receiver.verified()) == 1


def test_a_parent_nodes_subscribers_hear_its_childrens_events_never_the_reverse(tenants, smtp_server, run_jobs):
    from django.contrib.auth import get_user_model

    from souverain.tenancy.models import Membership, Tenant

    parent = Tenant.objects.create(slug="ministere-tutelle", name="Tutelle")
    child = Tenant.objects.create(slug="direction", name="Direction", parent=parent)
    Subscription.objects.create(name="parent", channel=Channel.EMAIL, email="rssi@tutelle.example", tenant=parent)
    Subscription.objects.create(name="child", channel=Channel.EMAIL, email="it@direction.example", tenant=child)
    users = get_user_model().objects
    for username, tenant in (("boss", parent), ("clerk", child)):
        user = users.create_user(username=username, email=f"{username}@example.org", password="x")
        Membership.objects.create(user=user, role=Role.TENANT_ADMIN, tenant=tenant)
    Subscription.objects.create(name="every tenant admin", channel=Channel.EMAIL, role=Role.TENANT_ADMIN)

    services.notify("request.done", tenant=child, subject="child event")
    services.notify("request.done", tenant=parent, subject="parent event")
    run_jobs(services.JOB_KIND)
    sent = sorted((rcpt[0], msg["Subject"].removeprefix("[Souverain] ")) for rcpt, msg in smtp_server.messages)
    assert sent == [
        ("boss@example.org", "child event"), ("boss@example.org", "parent event"),
        ("clerk@example.org", "child event"),
        ("it@direction.example", "child event"),
        ("rssi@tutelle.example", "child event"), ("rssi@tutelle.example", "parent event"),
    ]


def test_a_removed_subscription_gets_nothing_more(webhook_receiver):
    subscription = _webhook(webhook_receiver)
    delivery = services.notify("request.done", subject="x").deliveries.get()
    subscription.delete()
    assert services.deliver_pending() == {"sent": 0, "retry": 0, "failed": 1}
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED and "removed" in delivery.last_error
    assert webhook_receiver.requests == []
