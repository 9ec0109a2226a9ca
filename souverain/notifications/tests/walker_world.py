"""The notifications' objects in the route walker's world: a subscription, a notification and its delivery for
each tenant, and an operator-wide alert (no tenant); the foreign tenant's carry the foreign markers."""

from __future__ import annotations

from typing import Any


def populate(tenants: dict[str, Any]) -> None:
    from souverain.notifications.models import Channel, Delivery, Notification, Subscription

    for tenant, text in ((tenants["foreign"], "foreign-vm of Other Corp"), (tenants["home"], "ministry server")):
        subscription = Subscription(tenant=tenant, name=f"hook for {text}", channel=Channel.WEBHOOK,
                                    url=f"https://hooks.example/{tenant.slug}")
        subscription.secret = f"secret-{tenant.slug}"
        subscription.save()
        notification = Notification.objects.create(event="request.done", tenant=tenant, subject_en=f"Done: {text}",
                                                   subject_fr=f"Terminé : {text}", link="/inventory/")
        Delivery.objects.create(notification=notification, subscription=subscription, tenant=tenant,
                                channel=Channel.WEBHOOK, recipient=subscription.url, status=Delivery.Status.SENT,
                                attempts=1, response_code=200)
    Notification.objects.create(event="alert.audit_verification_failed", subject_en="Operator-only: chain broken",
                                subject_fr="Réservé à l'opérateur : chaîne rompue")
