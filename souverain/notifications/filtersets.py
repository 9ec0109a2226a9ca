from __future__ import annotations

import django_filters

from .models import Channel, Delivery, Notification, Subscription


class SubscriptionFilterSet(django_filters.FilterSet):
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    tenant = django_filters.CharFilter(field_name="tenant__slug", help_text="Tenant slug")

    class Meta:
        model = Subscription
        fields = ["channel", "tenant", "role", "is_active"]


class NotificationFilterSet(django_filters.FilterSet):
    event = django_filters.CharFilter()
    tenant = django_filters.CharFilter(field_name="tenant__slug", help_text="Tenant slug")

    class Meta:
        model = Notification
        fields = ["event", "tenant"]


class DeliveryFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Delivery.Status.choices)
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    notification = django_filters.NumberFilter(field_name="notification_id")
    event = django_filters.CharFilter(field_name="notification__event")
    tenant = django_filters.CharFilter(field_name="tenant__slug", help_text="Tenant slug")

    class Meta:
        model = Delivery
        fields = ["status", "channel", "notification", "event", "tenant"]
