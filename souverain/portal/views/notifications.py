"""Notifications: the subscriptions the reader may see (and, for operators and tenant admins, add and remove), the
latest notifications and the delivery log. Tenant users see their own tenant's only; the form is validated by the
API's serializer, so the portal and the API accept and refuse the same things."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from souverain.core.roles import TENANT_ROLES, Role
from souverain.notifications.api.serializers import SubscriptionSerializer
from souverain.notifications.api.views import SUBSCRIPTION_ACCESS
from souverain.notifications.models import Channel, Delivery, Language, Notification, Subscription
from souverain.tenancy.permissions import PortalAccessMixin, is_allowed, membership_of, scope_queryset

from .base import RoleContextMixin

LIMIT = 50


class NotificationsView(PortalAccessMixin, RoleContextMixin, TemplateView):
    access = SUBSCRIPTION_ACCESS
    template_name = "portal/notifications.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        language = "fr" if (get_language() or "en").startswith("fr") else "en"
        notifications = list(scope_queryset(Notification.objects.select_related("tenant"), user, self.access)[:LIMIT])
        for notification in notifications:
            notification.text = notification.subject(language)
        deliveries = list(scope_queryset(Delivery.objects.select_related("notification", "tenant"), user,
                                         self.access)[:LIMIT])
        for delivery in deliveries:
            delivery.text = delivery.notification.subject(language)
        membership = membership_of(user)
        scoped = membership is not None and membership.is_tenant_scoped
        roles = [(value, label) for value, label in Role.choices if not scoped or value in TENANT_ROLES]
        context.update({
            "subscriptions": scope_queryset(Subscription.objects.select_related("tenant", "user"), user, self.access),
            "notifications": notifications, "deliveries": deliveries,
            "can_manage": is_allowed(user, self.access, "POST"),
            "channels": Channel.choices, "languages": Language.choices, "roles": roles,
            "form": kwargs.get("form") or {}, "errors": kwargs.get("errors") or {},
        })
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.POST.get("action") == "delete":
            found = scope_queryset(Subscription.objects.all(), request.user, self.access).filter(
                pk=request.POST.get("id") if str(request.POST.get("id", "")).isdigit() else None).first()
            if found is None:
                raise Http404
            found.delete()
            messages.success(request, _("Subscription removed."))
            return redirect("portal:notifications")
        data = {key: request.POST.get(key, "").strip() for key in ("name", "channel", "email", "url", "secret",
                                                                    "language", "role")}
        data["events"] = [e.strip() for e in request.POST.get("events", "").replace(",", " ").split() if e.strip()]
        serializer = SubscriptionSerializer(data={k: v for k, v in data.items() if v not in ("", None)},
                                            context={"request": request})
        if not serializer.is_valid():
            errors = {field: " ".join(str(m) for m in msgs) for field, msgs in serializer.errors.items()}
            context = self.get_context_data(form=data, errors=errors)
            return self.render_to_response(context, status=400)
        serializer.save()
        messages.success(request, _("Subscription added."))
        return redirect("portal:notifications")
