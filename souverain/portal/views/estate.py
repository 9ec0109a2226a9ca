"""The estate: overview map, cloud and region pages."""

from __future__ import annotations

from typing import Any

from django.views.generic import DetailView, TemplateView

from souverain.estate.models import Cloud, Region
from souverain.tenancy.permissions import (
    AUTHENTICATED_READ_ONLY,
    CLOUD_ACCESS,
    CLOUD_PART_ACCESS,
    PortalAccessMixin,
)

from .. import services
from .base import RoleContextMixin, decision_date


class OverviewView(PortalAccessMixin, RoleContextMixin, TemplateView):
    access = AUTHENTICATED_READ_ONLY
    template_name = "portal/overview.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        on, date_error = decision_date(self.request)
        context.update(services.estate_overview(self.request.user, on, self.request.GET.get("view", "")))
        context["date_error"] = date_error
        context["alerts"] = services.certificate_alerts(on, self.request.user)
        return context


class CloudView(PortalAccessMixin, RoleContextMixin, DetailView):
    access = CLOUD_ACCESS  # another customer's private cloud: 404
    queryset = Cloud.objects.all()
    lookup_field = "slug"
    template_name = "portal/cloud.html"
    context_object_name = "cloud"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        on, date_error = decision_date(self.request)
        context.update(services.cloud_page(self.object, on, self.request.user))
        context["date_error"] = date_error
        return context


class RegionView(PortalAccessMixin, RoleContextMixin, DetailView):
    access = CLOUD_PART_ACCESS
    queryset = Region.objects.select_related("cloud")
    template_name = "portal/region.html"
    context_object_name = "region"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        on, date_error = decision_date(self.request)
        context.update(services.region_page(self.object, on))
        context["date_error"] = date_error
        return context
