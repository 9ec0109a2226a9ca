from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from rest_framework import serializers

from souverain.core.api import RejectUnknownFieldsMixin
from souverain.core.roles import TENANT_ROLES
from souverain.tenancy.models import Tenant
from souverain.tenancy.permissions import tenant_of

from .. import services
from ..models import Channel, Delivery, Notification, Subscription


class SubscriptionSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    tenant = serializers.SlugRelatedField(slug_field="slug", queryset=Tenant.objects.all(), required=False,
                                          allow_null=True,
                                          help_text="Tenant whose events it hears; null: every event (operators)")
    user = serializers.SlugRelatedField(slug_field="username", queryset=get_user_model().objects.all(),
                                        required=False, allow_null=True)
    secret = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=200,
                                   help_text="Webhook HMAC-SHA256 key; stored encrypted, never shown back")
    has_secret = serializers.SerializerMethodField()
    events = serializers.ListField(child=serializers.CharField(max_length=64), required=False, max_length=50,
                                   help_text='Event types or patterns ("alert.*"); empty: every event')

    class Meta:
        model = Subscription
        fields = ["id", "name", "tenant", "role", "user", "events", "channel", "email", "url", "secret",
                  "has_secret", "language", "is_active", "created_by", "created", "last_updated"]
        read_only_fields = ["id", "has_secret", "created_by", "created", "last_updated"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        own_tenant = tenant_of(request.user) if request is not None else None
        if own_tenant is not None:
            # A tenant user's choices (the browsable API's form too) name no other tenant nor its users.
            self.fields["tenant"].queryset = Tenant.objects.filter(pk=own_tenant.pk)
            self.fields["user"].queryset = get_user_model().objects.filter(memberships__tenant=own_tenant).distinct()

    def get_has_secret(self, subscription: Subscription) -> bool:
        return bool(subscription.secret_encrypted)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance: Subscription | None = self.instance
        own_tenant = tenant_of(self.context["request"].user)
        value = {f: attrs.get(f, getattr(instance, f, None)) for f in ("tenant", "role", "user", "channel", "email",
                                                                      "url")}
        if own_tenant is not None:
            # Tenant users manage their own tenant's subscriptions only.
            if "tenant" in attrs and attrs["tenant"] not in (None, own_tenant):
                raise serializers.ValidationError({"tenant": _("You may only subscribe for your own tenant.")})
            attrs["tenant"] = value["tenant"] = own_tenant
            if value["role"] and value["role"] not in TENANT_ROLES:
                raise serializers.ValidationError({"role": _("A tenant subscription names a tenant role.")})
            user = value["user"]
            if user is not None and not user.memberships.filter(tenant=own_tenant).exists():
                raise serializers.ValidationError({"user": _("This user is not a member of your tenant.")})
        channel = value["channel"]
        if channel == Channel.WEBHOOK and not value["url"]:
            raise serializers.ValidationError({"url": _("A webhook subscription needs a URL.")})
        if channel == Channel.EMAIL and not (value["email"] or value["role"] or value["user"] or value["tenant"]):
            raise serializers.ValidationError(
                {"email": _("An e-mail subscription needs an address, or a role, user or tenant whose users get it.")})
        if value["url"] and not str(value["url"]).lower().startswith(("http://", "https://")):
            raise serializers.ValidationError({"url": _("Only http and https URLs are accepted.")})
        if value["url"] and value["tenant"] is not None and "url" in attrs:
            try:
                services.check_tenant_webhook(str(value["url"]))
            except services.WebhookForbidden as exc:
                raise serializers.ValidationError({"url": _(
                    "%(host)s resolves to %(address)s, an address inside the operator's network: not accepted for a "
                    "tenant's webhook.") % {"host": exc.host, "address": exc.address}})
        return attrs

    def create(self, validated: dict[str, Any]) -> Subscription:
        secret = validated.pop("secret", "")
        subscription = Subscription(**validated, created_by=self.context["request"].user.get_username())
        subscription.secret = secret
        subscription.save()
        return subscription

    def update(self, instance: Subscription, validated: dict[str, Any]) -> Subscription:
        if "secret" in validated:
            instance.secret = validated.pop("secret")
        return super().update(instance, validated)


class NotificationSerializer(serializers.ModelSerializer):
    tenant = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)

    class Meta:
        model = Notification
        fields = ["id", "event", "tenant", "subject_en", "subject_fr", "body_en", "body_fr", "link", "payload",
                  "actor", "tenant_copy", "created"]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    tenant = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    event = serializers.CharField(source="notification.event", read_only=True)
    subject = serializers.SerializerMethodField()

    class Meta:
        model = Delivery
        fields = ["id", "notification", "event", "subject", "subscription", "tenant", "channel", "recipient",
                  "language", "status", "attempts", "next_attempt", "last_error", "response_code", "created",
                  "sent_at"]
        read_only_fields = fields

    def get_subject(self, delivery: Delivery) -> str:
        return delivery.notification.subject(delivery.language)
