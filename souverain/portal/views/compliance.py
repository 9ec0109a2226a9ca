"""Compliance: open violations, the rules (built-in packs and operators' policies) with their Rego and tests,
and uploading a new version of an operator's policy (checked exactly as the API checks it)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import FormView, TemplateView
from django_tables2 import RequestConfig

from souverain.core.roles import ALL_ROLES, OPERATOR_ROLES, Role
from souverain.policy import services as policy_services
from souverain.policy.models import OperatorPolicy, Violation
from souverain.policy.tasks import queue as queue_compliance_pass
from souverain.tenancy.permissions import Access, PortalAccessMixin, membership_of, scope_queryset

from .. import services
from ..filtersets import PortalViolationFilterSet
from ..forms import PolicyUploadForm
from ..tables import KeysPaginator, ViolationTable
from .base import RoleContextMixin

# Everyone reads the rules (tenants should know what they are held to) and their own tenant's violations.
# Operators start a compliance pass (it also runs after syncs, policy and estate changes, and daily).
COMPLIANCE_ACCESS = Access(read=ALL_ROLES, write=OPERATOR_ROLES, tenant_lookup="tenant")
UPLOAD_ACCESS = Access(read=frozenset({Role.OPERATOR_ADMIN}), write=frozenset({Role.OPERATOR_ADMIN}))


class ComplianceView(PortalAccessMixin, RoleContextMixin, TemplateView):
    access = COMPLIANCE_ACCESS
    template_name = "portal/compliance.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context.update(services.compliance_overview(user))
        scoped = scope_queryset(Violation.objects.filter(resolved_at__isnull=True), user, self.access)
        filterset = PortalViolationFilterSet(self.request.GET or None, queryset=scoped, user=user)
        rows = filterset.qs.select_related("tenant", "region__cloud", "resource").defer("denial__reason",
                                                                                         "resource__attrs")
        membership = membership_of(user)
        table = ViolationTable(rows, show_tenant=not (membership and membership.tenant_id))
        RequestConfig(self.request, paginate={"per_page": 50, "paginator_class": KeysPaginator}).configure(table)
        context.update({"filter": filterset, "table": table,
                        "filtered": any(self.request.GET.get(name) for name in filterset.filters)})
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        job = queue_compliance_pass("manual")
        messages.success(request, _("Compliance pass queued (job #%(id)s).") % {"id": job.pk})
        return redirect("portal:compliance")


class RuleView(PortalAccessMixin, RoleContextMixin, TemplateView):
    """``compliance/rules/hds/`` (a built-in pack) or ``compliance/rules/acme/`` (an operator's policy)."""

    access = COMPLIANCE_ACCESS
    template_name = "portal/rule.html"
    queryset = OperatorPolicy.objects.all()
    lookup_field = "name"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        page = services.rule_page(self.kwargs["name"], self.request.user)
        if page is None:
            raise Http404("no such rule")
        context.update(page)
        return context


class PolicyUploadView(PortalAccessMixin, RoleContextMixin, FormView):
    access = UPLOAD_ACCESS
    template_name = "portal/policy_upload.html"
    form_class = PolicyUploadForm

    def get_initial(self) -> dict[str, Any]:
        name = self.request.GET.get("name", "")
        policy = OperatorPolicy.objects.select_related("active_version").filter(name=name).first() if name else None
        if policy is None:
            return {"name": name}
        latest = policy.active_version or policy.versions.order_by("-number").first()
        return {"name": policy.name, "description": policy.description,
                "source": latest.source if latest else "", "tests": latest.test_source if latest else ""}

    def form_valid(self, form: PolicyUploadForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            result = policy_services.upload_policy(data["name"], data["source"], data["tests"], self.request.user,
                                                   data["description"])
        except policy_services.PolicyRefused as refused:  # invalid name, module over a limit: nothing stored
            for error in refused.errors:
                where = f"{error['module']}:{error['line']}:{error['column']}: " if error.get("line") else ""
                form.add_error(error["field"], f"{where}{error['message']}")
            return self.form_invalid(form)
        if result.activated:
            messages.success(self.request, _("Version %(number)s of %(name)s compiled, passed its tests and is now "
                                             "active.") % {"number": result.version.number, "name": data["name"]})
            return redirect(reverse("portal:rule", args=[data["name"]]))
        errors = services.error_excerpts(result.errors, data["source"], data["tests"])
        return self.render_to_response(self.get_context_data(form=form, result=result, errors=errors))
