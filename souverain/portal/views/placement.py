"""The placement simulator: describe a workload, see where it may live and why not elsewhere; save it, so that
every what-if says whether its placement would change (``mobility.SavedWorkload``)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from souverain.core.roles import ALL_ROLES, OPERATOR_ROLES, TENANT_ROLES
from souverain.mobility import services as mobility_services
from souverain.mobility.models import SavedWorkload
from souverain.policy.workloads import WorkloadError
from souverain.tenancy.permissions import Access, PortalAccessMixin, membership_of, scope_queryset

from .. import services
from ..forms import PlacementForm
from .base import RoleContextMixin

#: Saving a workload writes (a tenant user's, for their tenant only); auditors simulate and read only.
SAVED_WORKLOAD_ACCESS = Access(read=ALL_ROLES, write=OPERATOR_ROLES | TENANT_ROLES, tenant_lookup="tenant")


class PlacementView(PortalAccessMixin, RoleContextMixin, TemplateView):
    # Placement only reads: every role may simulate, tenant users for their own tenant only (as the API). POST
    # saves the simulated workload (the query string's) under a name.
    access = Access(read=ALL_ROLES, write=OPERATOR_ROLES | TENANT_ROLES)
    template_name = "portal/placement.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        submitted = "run" in self.request.GET
        form = PlacementForm(self.request.GET if submitted else None, user=self.request.user)
        context["form"] = form
        membership = membership_of(self.request.user)
        context["can_save"] = membership is not None and membership.role in SAVED_WORKLOAD_ACCESS.write
        context["saved_workloads"] = mobility_services.visible_saved_workloads(self.request.user)
        if submitted and form.is_valid():
            try:
                context["result"] = services.simulate_placement(form.workload(), form.decision_date())
            except WorkloadError as exc:
                context["problems"] = exc.problems
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """Save the workload of the query string (the simulation shown) under the name given."""
        form = PlacementForm(request.GET, user=request.user)
        if "run" not in request.GET or not form.is_valid():
            messages.error(request, _("Simulate the workload first, then save it."))
            return redirect(request.get_full_path())
        try:
            saved = mobility_services.save_workload(request.user, request.POST.get("name", ""), form.workload())
        except mobility_services.SaveError as exc:
            messages.error(request, _("The workload was not saved: %(problems)s")
                           % {"problems": " ".join(exc.problems)})
        else:
            messages.success(request, _("Workload “%(name)s” saved: every what-if now says whether its placement "
                                        "would change.") % {"name": saved.name})
        return redirect(request.get_full_path())


class SavedWorkloadDeleteView(PortalAccessMixin, View):
    """Delete a saved workload (POST only): a tenant user's own tenant's only; any other is a 404."""

    access = SAVED_WORKLOAD_ACCESS
    queryset = SavedWorkload.objects.all()
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int, *args: Any, **kwargs: Any) -> HttpResponse:
        saved = scope_queryset(self.queryset, request.user, self.access).filter(pk=pk).first()
        if saved is None:
            raise Http404("no such saved workload")
        name = saved.name
        saved.delete()
        messages.success(request, _("Saved workload “%(name)s” deleted.") % {"name": name})
        target = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            return redirect("portal:placement")
        return redirect(target)
