from __future__ import annotations

from typing import Any

from django.views.generic import TemplateView

from souverain.estate.models import Cloud, Region
from souverain.tenancy.permissions import AUTHENTICATED_READ_ONLY, PortalAccessMixin


class HomeView(PortalAccessMixin, TemplateView):
    access = AUTHENTICATED_READ_ONLY
    template_name = "portal/home.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["clouds"] = Cloud.objects.select_related("operator").prefetch_related("regions")
        context["region_count"] = Region.objects.count()
        return context
