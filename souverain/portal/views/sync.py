"""Sync status: where each cloud's credentials come from, last sync per cloud, stale parts with their errors, and
running jobs polled with HTMX."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from souverain.core.roles import OPERATOR_ROLES, Role
from souverain.estate.models import Cloud
from souverain.inventory import credentials
from souverain.inventory import services as inventory
from souverain.tenancy.permissions import Access, PortalAccessMixin, membership_of

from .. import services
from .base import RoleContextMixin

# As the jobs API: operators and auditors read, operators start syncs.
SYNC_ACCESS = Access(read=OPERATOR_ROLES | {Role.AUDITOR}, write=OPERATOR_ROLES)


def _visible_jobs(request: HttpRequest, jobs: list[Any]) -> list[Any]:
    """An auditor bound to a tenant sees the jobs about that tenant's objects only, as in the jobs API."""
    membership = membership_of(request.user)
    if membership is None or not membership.is_tenant_scoped:
        return jobs
    return [job for job in jobs if job.tenant_id == membership.tenant_id]


class SyncView(PortalAccessMixin, RoleContextMixin, TemplateView):
    access = SYNC_ACCESS
    template_name = "portal/sync.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(services.sync_status())
        context["running"] = _visible_jobs(self.request, context["running"])
        context["recent"] = _visible_jobs(self.request, context["recent"])
        # Where each cloud's credentials come from, as this server process finds them (a CLI sync may read
        # another clouds.yaml): "found at /path", "encrypted in the database", or what is missing and a hint.
        located = credentials.locate_all([entry["cloud"] for entry in context["clouds"]])
        for entry in context["clouds"]:
            entry["credentials"] = located[entry["cloud"].pk]
        context["not_configured"] = [entry for entry in context["clouds"] if not entry["credentials"].configured]
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """Start a sync of one cloud (or of all), incremental or full."""
        slug = request.POST.get("cloud", "")
        clouds = [slug] if slug else []
        if slug and not Cloud.objects.filter(slug=slug).exists():
            messages.error(request, _("Unknown cloud."))
            return redirect("portal:sync")
        full = request.POST.get("full") == "1"
        job = inventory.request_sync(clouds, full=full, requested_by=request.user.get_username())
        messages.success(request, _("Sync job #%(id)s queued.") % {"id": job.pk})
        return redirect("portal:sync")


class SyncJobsView(PortalAccessMixin, RoleContextMixin, TemplateView):
    """The running-jobs panel alone, for HTMX polling: it stops polling once nothing is running."""

    access = SYNC_ACCESS
    template_name = "portal/includes/sync_jobs.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["running"] = _visible_jobs(self.request, services.running_jobs())
        return context
