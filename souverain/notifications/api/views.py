"""The notifications API: subscriptions (CRUD; tenants manage their own), notifications and the delivery log
(read-only; a tenant's users see their tenant's only)."""

from __future__ import annotations

from rest_framework import viewsets

from souverain.core.roles import ALL_ROLES, OPERATOR_ROLES, Role
from souverain.tenancy.permissions import Access, TenantScopedQuerysetMixin

from ..filtersets import DeliveryFilterSet, NotificationFilterSet, SubscriptionFilterSet
from ..models import Delivery, Notification, Subscription
from .serializers import DeliverySerializer, NotificationSerializer, SubscriptionSerializer

SUBSCRIPTION_ACCESS = Access(read=ALL_ROLES, write=OPERATOR_ROLES | {Role.TENANT_ADMIN}, tenant_lookup="tenant")
LOG_ACCESS = Access(read=ALL_ROLES, tenant_lookup="tenant")


class SubscriptionViewSet(TenantScopedQuerysetMixin, viewsets.ModelViewSet):
    access = SUBSCRIPTION_ACCESS
    queryset = Subscription.objects.select_related("tenant", "user")
    serializer_class = SubscriptionSerializer
    filterset_class = SubscriptionFilterSet
    ordering_fields = ["name", "created", "channel"]
    search_fields = ["name", "email", "url"]


class NotificationViewSet(TenantScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    access = LOG_ACCESS
    queryset = Notification.objects.select_related("tenant")
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilterSet
    ordering_fields = ["created", "event"]
    search_fields = ["subject_en", "subject_fr"]


class DeliveryViewSet(TenantScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    access = LOG_ACCESS
    queryset = Delivery.objects.select_related("tenant", "notification")
    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilterSet
    ordering_fields = ["created", "status", "attempts", "next_attempt"]
    search_fields = ["recipient"]
