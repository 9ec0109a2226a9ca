"""Notifications: who wants to hear about what (Subscription), what happened (Notification) and each attempt to tell
one recipient (Delivery, the delivery log). See services.py for the design note."""

from __future__ import annotations

import fnmatch

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from souverain.core import crypto
from souverain.core.models import ChangeLoggedModel
from souverain.core.roles import Role
from souverain.tenancy.models import Tenant


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Webhook")


class Language(models.TextChoices):
    EN = "en", "English"
    FR = "fr", "Français"


class Subscription(ChangeLoggedModel):
    """Who hears about which events, and how.

    Who: a role and/or a tenant and/or one user. A subscription bound to a tenant hears only that tenant's events
    (a tenant manages its own); one bound to no tenant (the operator's cyber-defence team) hears every event.
    E-mail goes to ``email`` when given, else to each user the role/tenant/user filters name; a webhook goes to
    its URL, signed with its secret (stored encrypted, never shown back).
    """

    name = models.CharField(_("name"), max_length=200)
    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="notification_subscriptions")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="notification_subscriptions")
    #: Event types or shell patterns ("alert.*"); empty: every event.
    events = models.JSONField(_("events"), default=list, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    email = models.EmailField(_("e-mail address"), blank=True)
    url = models.URLField(_("webhook URL"), max_length=500, blank=True)
    secret_encrypted = models.TextField(blank=True)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.FR)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.CharField(max_length=150, blank=True)

    changelog_exclude = ("secret_encrypted",)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def secret(self) -> str:
        return crypto.decrypt_json(self.secret_encrypted).get("secret", "") if self.secret_encrypted else ""

    @secret.setter
    def secret(self, value: str) -> None:
        self.secret_encrypted = crypto.encrypt_json({"secret": value}) if value else ""

    def wants(self, event: str) -> bool:
        return not self.events or any(fnmatch.fnmatchcase(event, pattern) for pattern in self.events)


class Notification(models.Model):
    """One event worth telling, in both languages, with the page that explains it."""

    event = models.CharField(max_length=64, db_index=True)
    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    subject_en = models.CharField(max_length=300)
    subject_fr = models.CharField(max_length=300)
    body_en = models.TextField(blank=True)
    body_fr = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    actor = models.CharField(max_length=150, blank=True)
    #: The fact this notification tells, once: a second notify() with the same key returns the first one.
    dedup_key = models.CharField(max_length=300, null=True, blank=True, unique=True)
    #: A copy, for one tenant, of a fact told to the operator: the subscriptions bound to no tenant (who hear every
    #: event) already had the original, so only the tenant's own subscriptions hear the copy.
    tenant_copy = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.event}: {self.subject_en}"

    def subject(self, language: str) -> str:
        return self.subject_fr if language == Language.FR and self.subject_fr else self.subject_en

    def body(self, language: str) -> str:
        return self.body_fr if language == Language.FR and self.body_fr else self.body_en


class Delivery(models.Model):
    """One notification to one recipient over one channel: the delivery log."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    subscription = models.ForeignKey(Subscription, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="deliveries")
    #: The notification's tenant, copied so that scoping the log needs no join.
    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="notification_deliveries")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipient = models.CharField(max_length=500)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.FR)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt = models.DateTimeField(null=True, blank=True, db_index=True)
    last_error = models.TextField(blank=True)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [models.UniqueConstraint(fields=["notification", "channel", "recipient"],
                                               name="notifications_delivery_once_per_recipient")]

    def __str__(self) -> str:
        return f"{self.channel} → {self.recipient} ({self.status})"


class ExposureState(models.Model):
    """The (law, channel) pairs last seen reaching a region: what the exposure alert compares against."""

    region = models.OneToOneField("estate.Region", on_delete=models.CASCADE, related_name="+")
    pairs = models.JSONField(default=list)  # sorted "law:channel" strings
    version = models.PositiveIntegerField(default=0)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.region_id}: {len(self.pairs)} laws/channels"
