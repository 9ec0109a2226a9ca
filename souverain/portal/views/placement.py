"""The placement simulator: describe a workload, see where it may live and why not elsewhere."""

from __future__ import annotations

from typing import Any

from django.views.generic import TemplateView

from souverain.core.roles import ALL_ROLES
from souverain.policy.workloads import WorkloadError
from souverain.tenancy.permissions import Access, PortalAccessMixin

from .. import services
from ..forms import PlacementForm
from .base import RoleContextMixin


class PlacementView(PortalAccessMixin, RoleContextMixin, TemplateView):
    # Placement only reads: every role may simulate, tenant users for their own tenant only (as the API).
    access = Access(read=ALL_ROLES)
    template_name = "portal/placement.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        submitted = "run" in self.request.GET
        form = PlacementForm(self.request.GET if submitted else None, user=self.request.user)
        context["form"] = form
        if submitted and form.is_valid():
            try:
                context["result"] = services.simulate_placement(form.workload(), form.decision_date())
            except WorkloadError as exc:
                context["problems"] = exc.problems
        return context
