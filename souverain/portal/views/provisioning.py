"""Self-service provisioning in the portal: the service catalogue, "my requests" with live progress, and the
approvals inbox.

Every decision is the provisioning services' (``provisioning.services``): the catalogue builds the same
``submit`` call as ``POST /api/requests/`` (same validation, same gate, same idempotency), the inbox calls
``decide``, the detail page ``cancel``; the portal only turns form fields into the kind's spec and shows the
answer. A request the gate refuses is kept (status ``refused``) and the catalogue shows its refusal: placement's
reasons region by region, or the quota numbers (asked, used, limit).

What the catalogue offers is what the tenant may use. Regions: those placement allows for the tenant's defaults
and the classes ticked (the choice is re-checked by the gate with the request's own classes), plus "let
Souverain choose". Pickers (HTMX partial ``catalogue/pickers/``) from the inventory of the chosen region (of
every allowed region when Souverain chooses): flavors and images the cloud offers to everyone or the tenant's
subtree owns, networks the subtree owns or shared ones, its security groups. A key pair is not inventoried:
its name is typed.

Scope. Tenant-scoped users ask for their node or one below it and see their subtree's requests and the
approvals they may decide; operators name the tenant and see everything (``REQUEST_ACCESS`` and
``APPROVAL_ACCESS``, the API's policies).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.generic import DetailView, ListView, TemplateView

from souverain.core.roles import OPERATOR_ROLES
from souverain.estate.models import Region
from souverain.inventory.models import Resource
from souverain.policy import services as policy
from souverain.policy.workloads import DATA_CLASSES, WorkloadError
from souverain.provisioning import approvals, execution, quotas, services
from souverain.provisioning.api.actions import ACTION_ACCESS
from souverain.provisioning.api.views import APPROVAL_ACCESS, QUOTA_ACCESS, REQUEST_ACCESS, RULES_ACCESS
from souverain.provisioning.models import QUOTA_FIELDS, Approval, ApprovalPolicy, Quota, ServiceRequest
from souverain.tenancy.models import Tenant
from souverain.tenancy.permissions import (
    CLOUD_ACCESS,
    CLOUD_PART_ACCESS,
    PortalAccessMixin,
    membership_of,
    scope_queryset,
)

from ..forms import DATA_CLASS_LABELS
from .base import RoleContextMixin

AUTO = "auto"
ACTION_LABELS = {"start": _lazy("Start"), "stop": _lazy("Stop"), "reboot": _lazy("Reboot"), "resize": _lazy("Resize"),
                 "delete": _lazy("Delete"), "attach_volume": _lazy("Attach a volume"),
                 "detach_volume": _lazy("Detach a volume"), "associate_floating_ip": _lazy("Associate a floating IP"),
                 "disassociate_floating_ip": _lazy("Disassociate a floating IP")}
#: Actions that lose state or cut access: a second click confirms them.
DESTRUCTIVE = frozenset({"delete", "stop", "detach_volume", "disassociate_floating_ip"})
FLAGS = ("secnumcloud", "eu_only", "customer_held_keys")


# --- who asks, for which tenant ---------------------------------------------------------------------------------


def tenant_choices(user: Any) -> QuerySet:
    """The tenants this user may ask for: their node and those below it; every tenant for operators."""
    membership = membership_of(user)
    if membership is None:
        return Tenant.objects.none()
    if membership.is_tenant_scoped:
        if membership.tenant is None:
            return Tenant.objects.none()
        return Tenant.objects.filter(pk__in=quotas.subtree_ids(membership.tenant)).order_by("name")
    return Tenant.objects.order_by("name")


def chosen_tenant(user: Any, slug: str) -> Tenant | None:
    choices = tenant_choices(user)
    membership = membership_of(user)
    if not slug and membership is not None and membership.tenant_id:
        return membership.tenant
    return choices.filter(slug=slug).first() if slug else None


def allowed_regions(tenant: Tenant | None, user: Any, data_classes: list[str]) -> list[Region]:
    """The regions placement allows for this tenant and these classes, best first, among those the user sees."""
    if tenant is None:
        return []
    try:
        placed = policy.place({"tenant": tenant.slug, "data_classes": data_classes})
    except WorkloadError:
        return []
    keys = [entry["region"] for entry in placed["allowed"]]
    visible = {r.key: r for r in scope_queryset(Region.objects.select_related("cloud"), user, CLOUD_PART_ACCESS)}
    return [visible[key] for key in keys if key in visible]


# --- what the tenant may use in a region ------------------------------------------------------------------------


def _usable(rows: QuerySet, tenant: Tenant, shared: Q) -> QuerySet:
    subtree = quotas.subtree_ids(tenant)
    return rows.filter(Q(tenant_id__in=subtree) | shared)


def pickers(tenant: Tenant | None, regions: list[Region]) -> dict[str, list[str]]:
    """Names of the flavors, images, networks and security groups the tenant may use in these regions."""
    found: dict[str, list[str]] = {"flavors": [], "images": [], "networks": [], "security_groups": []}
    if tenant is None or not regions:
        return found
    clouds = {r.cloud_id for r in regions}
    base = Resource.objects.filter(cloud_id__in=clouds, gone_at__isnull=True).filter(
        Q(region__in=regions) | Q(region__isnull=True))
    public = Q(tenant__isnull=True)
    queries = {
        "flavors": _usable(base.filter(kind="flavor"), tenant, public),
        "images": _usable(base.filter(kind="image"), tenant,
                          public & Q(attrs__visibility__in=["public", "community"])),
        "networks": _usable(base.filter(kind="network"), tenant, Q(attrs__shared=True)),
        "security_groups": _usable(base.filter(kind="security_group"), tenant, Q(pk__in=[])),
    }
    for key, rows in queries.items():
        # A private flavor (is_public false) is offered only to the projects it is shared with: the tenant's own.
        found[key] = sorted({name for name, owner, attrs in rows.values_list("name", "tenant_id", "attrs")
                             if name and not (key == "flavors" and owner is None and attrs.get("is_public") is False)})
    return found


# --- the form's fields → the request ----------------------------------------------------------------------------


def _int(value: str) -> int | str | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        return value  # the spec's validation names the field


def spec_from_form(kind: str, data: Any) -> dict[str, Any]:
    """The kind's spec from the catalogue's fields (empty fields left out: the spec's defaults apply)."""
    def text(name: str) -> str:
        return (data.get(name) or "").strip()

    spec: dict[str, Any] = {}
    if kind == "server":
        spec = {"flavor": text("flavor"), "image": text("image"), "network": text("network")}
        groups = [g for g in data.getlist("security_groups") if g.strip()]
        if groups:
            spec["security_groups"] = groups
        if text("key_name"):
            spec["key_name"] = text("key_name")
        if text("volume_gb"):
            spec["volume_gb"] = _int(text("volume_gb"))
        if data.get("floating_ip"):
            spec["floating_ip"] = True
    elif kind == "volume":
        spec = {"size_gb": _int(text("size_gb"))}
    elif kind == "network":
        spec = {"cidr": text("cidr"), "router": bool(data.get("router"))}
    elif kind == "security_group":
        spec = {"description": text("description")}
        if text("rule_port"):
            port = _int(text("rule_port"))
            spec["rules"] = [{"direction": "ingress", "protocol": text("rule_protocol") or "tcp", "port_min": port,
                              "port_max": port, "remote_ip_prefix": text("rule_remote") or "0.0.0.0/0"}]
    elif kind == "floating_ip":
        spec = {"description": text("description")}
    return spec


def refusal_lines(request: ServiceRequest) -> list[str]:
    """The gate's refusal, one line per reason in the reader's language: placement's reasons or quota numbers."""
    refusal = request.refusal or {}
    french = (get_language() or "en").startswith("fr")
    lines: list[str] = []
    for reason in refusal.get("reasons") or []:
        if isinstance(reason, dict):
            lines.append(str(reason.get("message_fr" if french else "message") or reason.get("message") or reason))
        else:
            lines.append(str(reason))
    for short in refusal.get("shortfalls") or []:
        lines.append(quotas.describe(short)[1 if french else 0])
    for entry in refusal.get("denied") or []:
        reasons = "; ".join(str(r.get("message_fr" if french else "message") or r) if isinstance(r, dict) else str(r)
                            for r in entry.get("reasons") or [])
        lines.append(f"{entry.get('region')}: {reasons}")
    if not lines:
        lines.append(str(refusal.get("message_fr" if french else "message") or request.status_detail))
    return lines


def event_text(event: Any) -> str:
    return event.message_fr if (get_language() or "en").startswith("fr") and event.message_fr else event.message


# --- pages --------------------------------------------------------------------------------------------------------


class CatalogueView(PortalAccessMixin, RoleContextMixin, TemplateView):
    """Pick a kind, a tenant (operators), a region or "let Souverain choose", fill the kind's fields; submit."""

    access = REQUEST_ACCESS
    template_name = "portal/provisioning/catalogue.html"

    def form_values(self, source: Any) -> dict[str, Any]:
        classes = [c for c in source.getlist("data_classes") if c in DATA_CLASSES]
        for given in source.get("classes", "").split(","):  # the placement page's "create here" link
            if given.strip() in DATA_CLASSES and given.strip() not in classes:
                classes.append(given.strip())
        kind = source.get("kind") or "server"
        return {"kind": kind if kind in ServiceRequest.Kind.values else "server", "tenant": source.get("tenant", ""),
                "region": source.get("region", ""), "name": source.get("name", ""), "data_classes": classes,
                "flags": [f for f in FLAGS if source.get(f)], "values": source}

    def context_for(self, values: dict[str, Any]) -> dict[str, Any]:
        user = self.request.user
        tenant = chosen_tenant(user, values["tenant"])
        regions = allowed_regions(tenant, user, values["data_classes"])
        region_keys = [r.key for r in regions]
        chosen = values["region"] if values["region"] in region_keys or values["region"] == AUTO else ""
        if values["region"] and not chosen:
            chosen = values["region"]  # kept: the gate says why it is refused
        target = [r for r in regions if r.key == chosen] if chosen and chosen != AUTO else regions
        return {"form": values, "kinds": ServiceRequest.Kind.choices, "tenants": tenant_choices(user),
                "chosen_tenant": tenant, "regions": regions, "chosen_region": chosen,
                "known_region": chosen in region_keys or chosen == AUTO or not chosen,
                "classes": [(c, DATA_CLASS_LABELS.get(c, c)) for c in DATA_CLASSES],
                "flags": [(f, label) for f, label in (("secnumcloud", _("SecNumCloud-qualified only")),
                                                      ("eu_only", _("EU only")),
                                                      ("customer_held_keys", _("Customer-held encryption keys")))],
                "pick": pickers(tenant, target), "idempotency_key": uuid.uuid4().hex}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(self.context_for(self.form_values(self.request.GET)))
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        values = self.form_values(request.POST)
        tenant = chosen_tenant(request.user, values["tenant"])
        errors: dict[str, list[str]] = {}
        if tenant is None:
            errors["tenant"] = [_("Choose the tenant the request is for.")]
        else:
            region = values["region"]
            try:
                made, _created = services.submit(
                    tenant=tenant, user=request.user, kind=values["kind"], name=values["name"],
                    spec=spec_from_form(values["kind"], request.POST), region=None if region == AUTO else region,
                    auto=region == AUTO, data_classes=values["data_classes"],
                    requirements={flag: True for flag in values["flags"]},
                    idempotency_key=request.POST.get("idempotency_key", ""))
            except services.RequestInvalid as exc:
                errors = exc.errors
            else:
                if made.status == ServiceRequest.Status.REFUSED:
                    messages.error(request, _("Request refused: %(reason)s") % {
                        "reason": " ".join(refusal_lines(made))})
                else:
                    messages.success(request, _("Request #%(id)s recorded: %(status)s.") % {
                        "id": made.pk, "status": made.get_status_display()})
                return redirect("portal:request", pk=made.pk)
        context = self.get_context_data()
        context.update(self.context_for(values))
        context["errors"] = errors
        return self.render_to_response(context, status=400)


class CataloguePickersView(CatalogueView):
    """The region and picker fields of the catalogue for the kind, tenant, region and classes chosen (HTMX)."""

    template_name = "portal/provisioning/includes/pickers.html"
    http_method_names = ["get"]


class RequestListView(PortalAccessMixin, RoleContextMixin, ListView):
    """The requests in the user's scope, newest first; ``?mine=1``: only those the user made."""

    access = REQUEST_ACCESS
    template_name = "portal/provisioning/requests.html"
    context_object_name = "requests"
    paginate_by = 50

    def get_queryset(self) -> QuerySet:
        queryset = scope_queryset(ServiceRequest.objects.select_related("tenant", "region__cloud"),
                                  self.request.user, self.access)
        if self.request.GET.get("mine"):
            queryset = queryset.filter(requester=self.request.user)
        status = self.request.GET.get("status", "")
        if status in ServiceRequest.Status.values:
            queryset = queryset.filter(status=status)
        return queryset

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["statuses"] = ServiceRequest.Status.choices
        context["status"] = self.request.GET.get("status", "")
        context["mine"] = bool(self.request.GET.get("mine"))
        return context


class RequestView(PortalAccessMixin, RoleContextMixin, DetailView):
    """A request: what was asked, its status, refusal or created objects, its timeline and approvals; while it
    moves (awaiting approval, approved, running) the status part polls itself every two seconds (HTMX)."""

    access = REQUEST_ACCESS
    queryset = ServiceRequest.objects.select_related("tenant", "region__cloud", "job")
    template_name = "portal/provisioning/request.html"
    context_object_name = "req"

    def get_template_names(self) -> list[str]:
        if self.request.headers.get("HX-Request") and self.request.GET.get("part") == "live":
            return ["portal/provisioning/includes/live.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        req = self.object
        timeline = list(req.events.order_by("at", "pk"))
        for event in timeline:
            event.text = event_text(event)
        context.update({
            "timeline": timeline, "approvals": list(req.approvals.select_related("approver_tenant")),
            "moving": req.status in ServiceRequest.IN_FLIGHT,
            "refusal": refusal_lines(req) if req.status == ServiceRequest.Status.REFUSED else [],
            "progress": round((req.job.progress or 0) * 100) if req.job_id and req.job.progress is not None else None,
            "may_cancel": services.may_cancel(membership_of(self.request.user), req) and req.status in (
                ServiceRequest.Status.SUBMITTED, ServiceRequest.Status.AWAITING_APPROVAL,
                ServiceRequest.Status.APPROVED),
        })
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        req = self.get_object()
        try:
            services.cancel(req.pk, request.user, request.POST.get("reason", ""))
        except services.NotAllowed as exc:
            messages.error(request, str(exc))
        except services.WrongState as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Request cancelled."))
        return redirect("portal:request", pk=req.pk)


def inbox(user: Any) -> QuerySet:
    """The approvals this user may decide now (as ``/api/approvals/?mine=true``), oldest request first."""
    queryset = scope_queryset(Approval.objects.select_related("request__tenant", "request__region__cloud",
                                                              "approver_tenant"), user, APPROVAL_ACCESS)
    membership = membership_of(user)
    queryset = queryset.filter(status=Approval.Status.PENDING).exclude(request__requester=user)
    if membership is not None and membership.role in OPERATOR_ROLES:
        queryset = queryset.filter(approver__role=approvals.OPERATOR)
    elif membership is not None and membership.tenant_id:
        queryset = queryset.filter(approver_tenant_id=membership.tenant_id, approver__role=membership.role)
    else:
        queryset = queryset.none()
    return queryset.order_by("request_id", "level")


class ApprovalsView(PortalAccessMixin, RoleContextMixin, TemplateView):
    """The approvals inbox: approve or reject each with a comment (a rejection ends the request)."""

    access = APPROVAL_ACCESS
    template_name = "portal/provisioning/approvals.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        pending = list(inbox(self.request.user))
        for approval in pending:
            approval.total = approval.request.approvals.count()
        context["pending"] = pending
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            approval_id = int(request.POST.get("approval", ""))
        except ValueError:
            raise Http404 from None
        approval = scope_queryset(Approval.objects.filter(pk=approval_id), request.user, APPROVAL_ACCESS).first()
        if approval is None:
            raise Http404
        approve = request.POST.get("decision") == "approve"
        try:
            decided = services.decide(approval.pk, request.user, approve=approve,
                                      comment=request.POST.get("comment", ""))
        except (services.NotAllowed, services.WrongState) as exc:
            messages.error(request, str(exc))
        else:
            text = _("Request #%(id)s approved.") if approve else _("Request #%(id)s rejected.")
            messages.success(request, text % {"id": decided.pk})
        return redirect(reverse("portal:approvals"))



# --- day-2 actions on an inventoried server ----------------------------------------------------------------------


class ResourceActionsView(PortalAccessMixin, RoleContextMixin, DetailView):
    """The day-2 actions panel of a server's page (loaded by HTMX from the resource page) and its form's target.

    GET: the actions the user may take now (none for a read-only role; what the server's last known status
    allows), with the flavors, volumes and floating IPs of its project to pick from. POST: the same checks and
    job as ``POST /api/inventory/resources/<id>/actions/`` (``execution.request_action``); destructive actions
    (delete, stop, detach, disassociate) ask for a second click."""

    access = ACTION_ACCESS
    queryset = Resource.objects.select_related("cloud", "region", "tenant")
    template_name = "portal/provisioning/includes/actions.html"
    context_object_name = "resource"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        from souverain.tenancy.permissions import is_allowed

        context = super().get_context_data(**kwargs)
        server = self.object
        may_act = is_allowed(self.request.user, self.access, "POST")
        actions = execution.available_actions(server) if may_act else []
        same_project = Resource.objects.filter(cloud_id=server.cloud_id, project_id=server.project_id,
                                               gone_at__isnull=True)
        context.update({
            "actions": [(a, ACTION_LABELS.get(a, a), a in DESTRUCTIVE) for a in actions],
            "flavors": sorted(set(Resource.objects.filter(kind="flavor", cloud_id=server.cloud_id, gone_at__isnull=True)
                                  .values_list("name", flat=True))) if "resize" in actions else [],
            "volumes": list(same_project.filter(kind="volume").values_list("external_id", "name")),
            "floating_ips": list(same_project.filter(kind="floating_ip").values_list("external_id", "name")),
        })
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        server = self.get_object()
        action = request.POST.get("action", "")
        given = {name: request.POST.get(name, "").strip() for name in execution.ACTION_ARGS.get(action, ())
                 if request.POST.get(name, "").strip()}
        if action == "reboot" and request.POST.get("type"):
            given["type"] = request.POST["type"]
        try:
            job = execution.request_action(server, action, given, user=request.user)
        except execution.ActionRefused as exc:
            messages.error(request, _("Action refused: %(field)s: %(message)s") % {"field": exc.field,
                                                                                   "message": exc.message})
        else:
            messages.success(request, _("%(action)s queued (job #%(job)s).") % {
                "action": ACTION_LABELS.get(action, action), "job": job.pk})
        return redirect("portal:resource", pk=server.pk)


# --- quotas and approval rules (operators; tenant admins for the nodes below theirs) -----------------------------


class QuotasView(PortalAccessMixin, RoleContextMixin, TemplateView):
    """The quotas in the user's scope with their subtree's usage (what is over its limit flagged: resources
    created outside Souverain count), a form to set a node's limits (``quotas.set_quota``: the carving is checked,
    the refusal gives the numbers), and for operators the active approval rules, which operator-admins replace
    (``approvals.upload``: validated whole, each problem with its line and column)."""

    access = QUOTA_ACCESS
    template_name = "portal/provisioning/quotas.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        from souverain.estate.models import Cloud

        context = super().get_context_data(**kwargs)
        user = self.request.user
        membership = membership_of(user)
        scoped = scope_queryset(Quota.objects.select_related("tenant", "cloud"), user, QUOTA_ACCESS)
        context["rows"] = [{**row, "cells": [(row["usage"][f], row["quota"].limits()[f], f in row["over"])
                                              for f in QUOTA_FIELDS]}
                           for row in quotas.report(scoped.order_by("tenant__name", "cloud__slug"))]
        context["fields"] = QUOTA_FIELDS
        context["settable"] = [t for t in tenant_choices(user) if quotas.may_set(membership, t)]
        context["clouds"] = scope_queryset(Cloud.objects.order_by("slug"), user, CLOUD_ACCESS)
        context["sees_rules"] = membership is not None and membership.role in RULES_ACCESS.read
        context["edits_rules"] = membership is not None and membership.role in RULES_ACCESS.write
        active = ApprovalPolicy.objects.filter(active=True).order_by("-number").first()
        context["active_rules"] = active
        context.setdefault("rules_source", active.source if active else "")
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from souverain.estate.models import Cloud

        membership = membership_of(request.user)
        errors: dict[str, list[str]] = {}
        extra: dict[str, Any] = {}
        if request.POST.get("form") == "rules":
            if membership is None or membership.role not in RULES_ACCESS.write:
                raise PermissionDenied
            extra["rules_source"] = request.POST.get("source", "")
            try:
                policy = approvals.upload(extra["rules_source"], request.user.get_username())
            except approvals.RulesInvalid as exc:
                errors["source"] = [_("line %(line)s, column %(column)s: %(message)s") % {
                    "line": p.line, "column": p.column, "message": f"{p.field + ': ' if p.field else ''}{p.message}"}
                    for p in exc.problems]
            else:
                messages.success(request, _("Approval rules version %(number)s active.") % {"number": policy.number})
                return redirect("portal:quotas")
        else:
            tenant = next((t for t in tenant_choices(request.user) if t.slug == request.POST.get("tenant")), None)
            if tenant is None or not quotas.may_set(membership, tenant):
                errors["tenant"] = [_("Quotas of this node are set by the level above it.")]
            cloud = None
            if request.POST.get("cloud"):
                cloud = scope_queryset(Cloud.objects.filter(slug=request.POST["cloud"]), request.user,
                                       CLOUD_ACCESS).first()
                if cloud is None:
                    errors["cloud"] = [_("Unknown cloud “%(slug)s”.") % {"slug": request.POST["cloud"]}]
            limits: dict[str, int | None] = {}
            for name in QUOTA_FIELDS:
                value = request.POST.get(name, "").strip()
                if not value:
                    limits[name] = None
                elif value.isdigit():
                    limits[name] = int(value)
                else:
                    errors[name] = [_("a whole number, or empty for no limit")]
            if not errors and tenant is not None:
                try:
                    quotas.set_quota(tenant, cloud, limits)
                except quotas.QuotaRefused as exc:
                    errors = exc.errors
                else:
                    messages.success(request, _("Quota of %(tenant)s saved.") % {"tenant": tenant.name})
                    return redirect("portal:quotas")
        context = self.get_context_data(**extra)
        context["errors"] = errors
        context["posted"] = request.POST
        return self.render_to_response(context, status=400)
