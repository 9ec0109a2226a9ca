"""One delivery machinery for every sender: provisioning (approval needed, request done, request failed) and the
sovereignty alerts (alerts.py) call ``notify`` and nothing else.

notify. ``notify(event, tenant=…, subject=…, body=…, link=…, payload=…, actor=…, dedup_key=…)`` writes, in the
caller's transaction, one Notification (subject and body in English and French, the link to the page that explains
it, a JSON payload) and one Delivery row per recipient, records an audit event (``notification.create``), and
queues a ``notifications.deliver`` job once the transaction commits: the request thread never waits for a mail
server or a webhook. A ``dedup_key`` names the fact told (e.g. "cert-expiry:42:30"): a second notify with the same
key returns the first notification and sends nothing (a unique column, so two racing callers cannot both send).

Recipients. Each active Subscription that wants the event (its patterns, empty = every event) and may see it: a
subscription bound to a tenant hears only the events of that tenant and of the tenants below it in the organisation
tree (as its users see their node and the nodes below), one bound to no tenant (the operator's cyber-defence team)
hears every event. A webhook subscription is one recipient (its URL). An e-mail subscription
with an address is one recipient; without one, its recipients are the active users with an e-mail address that its
user / role / tenant filters name, each checked again on its own: a user bound to a tenant never receives the event
of a tenant outside its subtree, nor an event about no tenant (a public cloud's failing sync, the audit chain). One
Delivery per (notification, channel, recipient): two subscriptions naming the same address send one mail.

Delivery. The job claims each due delivery with one conditional UPDATE (two workers never send the same one),
then sends it: e-mail through Django's mail framework (``EMAIL_*`` settings) in the subscription's language; a
webhook as a JSON POST whose body is signed - ``X-Souverain-Signature: sha256=<hex HMAC-SHA256(secret, body)>`` -
with ``X-Souverain-Timestamp`` (the body carries the same timestamp, so the signature covers it and a receiver can
refuse replays) and ``X-Souverain-Event``/``X-Souverain-Delivery``. A 2xx is sent; anything else (status,
timeout, refused connection, SMTP error) is written on the row (attempts, last error, response code) and retried
after ``backoff(attempts)`` = base x 2^(attempts-1) seconds, up to ``max_attempts``, then failed. The periodic
``notifications-retry`` entry queues a job for the deliveries whose time has come. No jitter: the recipients are a
handful of mail servers and webhooks, not a fleet of clients stampeding one server.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.functional import Promise

from souverain.core import events
from souverain.core.context import current_actor

from .models import Channel, Delivery, Language, Notification, Subscription

if TYPE_CHECKING:
    from souverain.tenancy.models import Tenant

log = logging.getLogger(__name__)

JOB_KIND = "notifications.deliver"
SIGNATURE_HEADER = "X-Souverain-Signature"
TIMESTAMP_HEADER = "X-Souverain-Timestamp"
#: A claimed delivery is another worker's again after this long (its worker died mid-send).
CLAIM_LEASE = dt.timedelta(minutes=5)

Text = str | Mapping[str, str] | Promise


def backoff_base() -> float:
    return float(getattr(settings, "SOUVERAIN_NOTIFICATION_BACKOFF", 30.0))


def max_attempts() -> int:
    return int(getattr(settings, "SOUVERAIN_NOTIFICATION_MAX_ATTEMPTS", 6))


def webhook_timeout() -> float:
    return float(getattr(settings, "SOUVERAIN_WEBHOOK_TIMEOUT", 10.0))


def backoff(attempts: int) -> dt.timedelta:
    """Delay before the next try after ``attempts`` failed ones: base, 2 x base, 4 x base …"""
    return dt.timedelta(seconds=backoff_base() * (2 ** max(0, attempts - 1)))


def _in_both(text: Text | None) -> tuple[str, str]:
    """English and French of a text given as one string, a {"en":, "fr":} mapping or a lazy translation."""
    if text is None:
        return "", ""
    if isinstance(text, Mapping):
        english = str(text.get("en", "") or "")
        return english, str(text.get("fr", "") or english)
    if isinstance(text, Promise):
        with translation.override("en"):
            english = str(text)
        with translation.override("fr"):
            return english, str(text)
    return str(text), str(text)


# --- notify ------------------------------------------------------------------------------------------------


def notify(event: str, *, tenant: Tenant | None = None, subject: Text, body: Text | None = None, link: str = "",
           payload: dict[str, Any] | None = None, actor: str | None = None,
           dedup_key: str | None = None, tenant_copy: bool = False) -> Notification:
    """Record a notification, its deliveries and its audit record; send them from a job after the commit."""
    if dedup_key:
        known = Notification.objects.filter(dedup_key=dedup_key).first()
        if known is not None:
            return known
    subject_en, subject_fr = _in_both(subject)
    body_en, body_fr = _in_both(body)
    if actor is None:
        current = current_actor()
        actor = current.username if current else "system"
    clean_payload = json.loads(json.dumps(payload or {}, cls=DjangoJSONEncoder))
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                event=event[:64], tenant=tenant, subject_en=subject_en[:300], subject_fr=subject_fr[:300],
                body_en=body_en, body_fr=body_fr, link=link[:500], payload=clean_payload, actor=actor[:150],
                dedup_key=dedup_key[:300] if dedup_key else None, tenant_copy=tenant_copy and tenant is not None)
            deliveries = _create_deliveries(notification)
            events.emit("notification.create", object_type="notifications.notification",
                        object_id=str(notification.pk), object_repr=subject_en[:200],
                        data={"event": event, "tenant": tenant.slug if tenant else None, "link": link,
                              "payload": clean_payload, "actor": actor, "deliveries": len(deliveries),
                              "dedup_key": dedup_key})
    except IntegrityError:
        if dedup_key:  # another caller told the same fact between our look-up and our insert
            return Notification.objects.get(dedup_key=dedup_key)
        raise
    if deliveries:
        _queue(notification)
    return notification


def _queue(notification: Notification) -> None:
    from souverain.jobs import services as jobs

    jobs.submit(JOB_KIND, {"notification": notification.pk}, requested_by="system",
                tenant=notification.tenant)


def lineage(tenant: Tenant) -> list[int]:
    """The tenant and its ancestors (ids, root first): the nodes whose users and subscriptions see its events (the
    organisation tree: a node's users see their node and every node below it)."""
    from souverain.tenancy import tree

    return tree.ids_of(tenant.path) if tenant.path else [tenant.pk]


def subscriptions_for(event: str, tenant: Tenant | None) -> list[Subscription]:
    audience = Q(tenant__isnull=True) | Q(tenant_id__in=lineage(tenant)) if tenant is not None \
        else Q(tenant__isnull=True)
    scoped = Subscription.objects.filter(audience, is_active=True).select_related("user", "tenant")
    return [s for s in scoped.order_by("id") if s.wants(event)]


def _may_see(user: Any, tenant: Tenant | None) -> bool:
    """Whether one of the user's memberships sees this tenant's events (one without a tenant sees all)."""
    held = list(user.memberships.all())
    if not held:
        return bool(user.is_superuser)
    seen = set(lineage(tenant)) if tenant is not None else set()
    return any(m.tenant_id is None or m.tenant_id in seen for m in held)


def email_recipients(subscription: Subscription, tenant: Tenant | None, *,
                     tenant_users_only: bool = False) -> list[str]:
    """The addresses an e-mail subscription sends this tenant's event to (``tenant_users_only``: only the users
    bound to the tenant or one above it). A user with several memberships qualifies through any one of them that
    has the subscription's role and tenant (both on the same membership)."""
    if subscription.email:
        return [subscription.email]
    users = get_user_model().objects.filter(is_active=True).exclude(email="").prefetch_related("memberships")
    if subscription.user_id:
        users = users.filter(pk=subscription.user_id)
    if not (subscription.user_id or subscription.role or subscription.tenant_id):
        return []  # nobody named: an empty filter must not mean "every user"
    from souverain.tenancy.models import Membership

    held = Membership.objects.all()
    if subscription.role:
        held = held.filter(role=subscription.role)
    if subscription.tenant_id:
        held = held.filter(tenant_id=subscription.tenant_id)
    if tenant_users_only and tenant is not None:
        held = held.filter(tenant_id__in=lineage(tenant))
    if subscription.role or subscription.tenant_id or (tenant_users_only and tenant is not None):
        users = users.filter(pk__in=held.values("user_id"))
    return [user.email for user in users.order_by("pk") if _may_see(user, tenant)]


def _create_deliveries(notification: Notification) -> list[Delivery]:
    now = timezone.now()
    seen: set[tuple[str, str]] = set()
    rows = []
    copy_for = notification.tenant_id if notification.tenant_copy else None
    for subscription in subscriptions_for(notification.event, notification.tenant):
        operator_wide = subscription.tenant_id is None
        if subscription.channel == Channel.WEBHOOK:
            # A copy for a tenant is not sent again to an operator-wide webhook: it had the original.
            recipients = [subscription.url] if subscription.url and not (copy_for and operator_wide) else []
        elif copy_for and operator_wide:
            # Nor to operator-wide addresses; but an operator-wide subscription naming tenant users by role
            # reaches the copy's tenant users (the original, about no tenant, is not theirs to see).
            recipients = [] if subscription.email else email_recipients(subscription, notification.tenant,
                                                                         tenant_users_only=True)
        else:
            recipients = email_recipients(subscription, notification.tenant)
        for recipient in recipients:
            if (subscription.channel, recipient) in seen:
                continue
            seen.add((subscription.channel, recipient))
            rows.append(Delivery(notification=notification, subscription=subscription, tenant=notification.tenant,
                                 channel=subscription.channel, recipient=recipient[:500],
                                 language=subscription.language, next_attempt=now))
    return Delivery.objects.bulk_create(rows)


# --- delivering --------------------------------------------------------------------------------------------


def due_deliveries(now: dt.datetime | None = None) -> Any:
    return Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt__lte=now or timezone.now())


def deliver_pending(*, notification_id: int | None = None, now: dt.datetime | None = None) -> dict[str, int]:
    """Send every due delivery (of one notification, or all); returns counts by outcome."""
    queryset = due_deliveries(now)
    if notification_id is not None:
        queryset = queryset.filter(notification_id=notification_id)
    counts = {"sent": 0, "retry": 0, "failed": 0}
    for delivery_id in list(queryset.order_by("id").values_list("id", flat=True)):
        outcome = deliver(delivery_id, now=now)
        if outcome:
            counts[outcome] += 1
    return counts


def _claim(delivery_id: int, now: dt.datetime) -> Delivery | None:
    taken = Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PENDING, next_attempt__lte=now).update(
        next_attempt=now + CLAIM_LEASE)
    if not taken:
        return None
    return Delivery.objects.select_related("notification", "subscription").get(pk=delivery_id)


def deliver(delivery_id: int, *, now: dt.datetime | None = None) -> str | None:
    """One attempt at one delivery: "sent", "retry", "failed", or None when it is not due (or taken)."""
    now = now or timezone.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return None
    if delivery.subscription_id is None:  # unsubscribed since: nothing more is sent (unsigned, or to nobody)
        delivery.status, delivery.next_attempt = Delivery.Status.FAILED, None
        delivery.last_error = "the subscription was removed before this delivery was sent"
        delivery.save(update_fields=["status", "next_attempt", "last_error"])
        return "failed"
    delivery.attempts += 1
    try:
        if delivery.channel == Channel.WEBHOOK:
            if delivery.subscription_id and delivery.subscription.tenant_id:
                check_tenant_webhook(delivery.recipient)
            delivery.response_code = _post_webhook(delivery, now)
        else:
            _send_email(delivery)
    except Exception as exc:  # noqa: BLE001 - whatever failed is written on the row and retried
        delivery.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        delivery.response_code = getattr(exc, "status_code", delivery.response_code)
        if delivery.attempts >= max_attempts() or isinstance(exc, WebhookForbidden):
            delivery.status = Delivery.Status.FAILED
            delivery.next_attempt = None
            outcome = "failed"
        else:
            delivery.next_attempt = now + backoff(delivery.attempts)
            outcome = "retry"
        log.warning("delivery %s (%s → %s) attempt %s: %s", delivery.pk, delivery.channel, delivery.recipient,
                    delivery.attempts, delivery.last_error)
    else:
        delivery.status = Delivery.Status.SENT
        delivery.sent_at = timezone.now()
        delivery.next_attempt = None
        delivery.last_error = ""
        outcome = "sent"
    delivery.save(update_fields=["attempts", "status", "next_attempt", "last_error", "response_code", "sent_at"])
    return outcome


def absolute_link(link: str) -> str:
    base = str(getattr(settings, "SOUVERAIN_BASE_URL", "") or "").rstrip("/")
    return f"{base}{link}" if link.startswith("/") and base else link


def render_email(notification: Notification, language: str) -> tuple[str, str]:
    subject = notification.subject(language)
    body = notification.body(language) or subject
    if notification.link:
        label = "Pour en savoir plus" if language == Language.FR else "Details"
        body = f"{body}\n\n{label} : {absolute_link(notification.link)}" if language == Language.FR else \
            f"{body}\n\n{label}: {absolute_link(notification.link)}"
    return f"[Souverain] {subject}", body + "\n"


def _send_email(delivery: Delivery) -> None:
    subject, body = render_email(delivery.notification, delivery.language)
    message = EmailMessage(subject=subject, body=body, to=[delivery.recipient],
                           headers={"X-Souverain-Event": delivery.notification.event,
                                    "Content-Language": delivery.language})
    message.send(fail_silently=False)


class WebhookForbidden(Exception):
    """A tenant's webhook pointing into the operator's own network: never sent, never retried."""

    def __init__(self, host: str, address: str) -> None:
        super().__init__(f"{host} resolves to {address}, an address inside the operator's network")
        self.host, self.address = host, address


def private_address(host: str) -> str | None:
    """The first loopback, private, link-local or reserved address ``host`` resolves to; None when it has none."""
    import ipaddress
    import socket

    try:
        infos = socket.getaddrinfo(host, None)
    except (OSError, UnicodeError, ValueError):
        return None  # unresolvable: the POST fails on its own and is retried
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global:
            return str(address)
    return None


def check_tenant_webhook(url: str) -> None:
    """Tenants' webhooks go to the internet only (unless ``SOUVERAIN_WEBHOOK_ALLOW_PRIVATE``): Souverain's server sits
    inside the operator's network, and a tenant must not make it POST to the operator's internal services."""
    from urllib.parse import urlsplit

    if getattr(settings, "SOUVERAIN_WEBHOOK_ALLOW_PRIVATE", False):
        return
    host = urlsplit(url).hostname or ""
    found = private_address(host)
    if found:
        raise WebhookForbidden(host, found)


class WebhookRefused(Exception):
    def __init__(self, status_code: int, text: str) -> None:
        super().__init__(f"HTTP {status_code}: {text[:300]}")
        self.status_code = status_code


def webhook_body(delivery: Delivery, timestamp: int) -> bytes:
    notification = delivery.notification
    document = {
        "id": notification.pk, "delivery": delivery.pk, "event": notification.event, "timestamp": timestamp,
        "tenant": notification.tenant.slug if notification.tenant_id else None,
        "subject": {"en": notification.subject_en, "fr": notification.subject_fr},
        "body": {"en": notification.body_en, "fr": notification.body_fr},
        "link": absolute_link(notification.link), "payload": notification.payload,
        "created": notification.created.isoformat(), "language": delivery.language,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _post_webhook(delivery: Delivery, now: dt.datetime) -> int:
    import requests

    timestamp = int(now.timestamp())
    body = webhook_body(delivery, timestamp)
    secret = delivery.subscription.secret if delivery.subscription_id else ""
    headers = {"Content-Type": "application/json", "User-Agent": "Souverain-Webhook/1",
               TIMESTAMP_HEADER: str(timestamp), "X-Souverain-Event": delivery.notification.event,
               "X-Souverain-Delivery": str(delivery.pk)}
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, body)
    response = requests.post(delivery.recipient, data=body, headers=headers, timeout=webhook_timeout(),
                             allow_redirects=False)
    if not 200 <= response.status_code < 300:
        raise WebhookRefused(response.status_code, response.text)
    return response.status_code


def queue_due(now: dt.datetime | None = None) -> list[int]:
    """The periodic retry: one job per notification with deliveries due (none already waiting for it)."""
    from souverain.jobs.models import Job

    due = set(due_deliveries(now).values_list("notification_id", flat=True))
    waiting = {job.params.get("notification") for job in Job.objects.filter(kind=JOB_KIND, status=Job.Status.QUEUED)}
    jobs = []
    for notification in Notification.objects.filter(pk__in=due - waiting).order_by("pk"):
        _queue(notification)
        jobs.append(notification.pk)
    return jobs


def validate_job_params(params: dict[str, Any]) -> dict[str, Any]:
    notification = params.get("notification")
    if not isinstance(notification, int) or isinstance(notification, bool):
        raise ValueError("notification: an integer id is required")
    return {"notification": notification}
