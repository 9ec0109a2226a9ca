"""The organisation tree in the portal: the tree the reader may see (their node and the nodes below it; operators:
all), with members and resources per node; a node's page with its effective defaults, children and members; and,
for operator admins and a node's tenant admins, delegated administration: create a child, add a member (an
existing user gets one more membership: a user may belong to several nodes with different roles), change a
member's role, remove a membership; each member's memberships elsewhere are listed, as far as the reader may see
them. The forms are validated by the API's serializers and go through the same services, so the portal and the
API accept and refuse the same things (depth, cycles, stricter-only defaults, subtree scope).

Quotas and usage per node: the provisioning app owns them (``provisioning.quotas``); ``node_figures`` reads each
node's overall limits and its subtree's usage for the tree and the node page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.generic import TemplateView

from souverain.core.roles import Role
from souverain.inventory.models import Resource
from souverain.policy.services import tenant_layer
from souverain.policy.workloads import merge
from souverain.provisioning import quotas
from souverain.provisioning.models import Quota
from souverain.tenancy import services
from souverain.tenancy.api.serializers import MembershipSerializer, TenantSerializer
from souverain.tenancy.api.views import MembershipViewSet, TenantViewSet
from souverain.tenancy.models import Membership, Tenant
from souverain.tenancy.permissions import PortalAccessMixin, is_allowed, membership_of, scope_queryset

from .base import RoleContextMixin

TENANTS_ACCESS = TenantViewSet.access
#: The roles a delegated administrator may grant (an operator admin may grant any, through the API).
GRANTABLE = [Role.TENANT_ADMIN, Role.TENANT_MEMBER, Role.AUDITOR]


def _errors(serializer: Any) -> dict[str, str]:
    return {field: " ".join(str(m) for m in msgs) for field, msgs in serializer.errors.items()}


#: The quota dimensions the tree shows per node (the others are on the quotas page).
SHOWN_QUOTAS = {"instances": _lazy("instances"), "vcpu": "vCPU", "ram_mb": _lazy("RAM (MB)")}


def node_figures(tenants: list[Tenant]) -> dict[int, dict[str, Any]]:
    """Members and resources (not gone) of each node, in two grouped queries; and each node's quota (its overall
    limits, carved out of its parent's: provisioning.quotas) beside its subtree's usage (the inventory and the
    requests in flight, as the provisioning gate counts them), one reading per node."""
    ids = [t.pk for t in tenants]
    members = dict(Membership.objects.filter(tenant_id__in=ids).values_list("tenant_id").annotate(n=Count("id")))
    resources = dict(Resource.objects.filter(tenant_id__in=ids, gone_at__isnull=True).values_list("tenant_id")
                     .annotate(n=Count("id")))
    limits = {q.tenant_id: q.limits() for q in Quota.objects.filter(tenant_id__in=ids, cloud__isnull=True)}
    figures = {}
    for tenant in tenants:
        used = quotas.usage(tenant)
        own = limits.get(tenant.pk, {})
        figures[tenant.pk] = {
            "members": members.get(tenant.pk, 0), "resources": resources.get(tenant.pk, 0),
            "quota": [{"label": label, "used": used[key], "limit": own.get(key), "over": own.get(key) is not None
                       and used[key] > own[key]} for key, label in SHOWN_QUOTAS.items()],
        }
    return figures


def _members_with_their_other_memberships(tenant: Tenant, reader: Any) -> list[Membership]:
    """The node's members, each with ``others``: the memberships the same user holds elsewhere that the reader
    may see (a user may belong to several nodes with different roles), in two queries."""
    members = list(Membership.objects.filter(tenant=tenant).select_related("user"))
    others = scope_queryset(Membership.objects.filter(user_id__in=[m.user_id for m in members])
                            .exclude(tenant=tenant).select_related("tenant"), reader, MembershipViewSet.access)
    by_user: dict[int, list[Membership]] = {}
    for other in others.order_by("pk"):
        by_user.setdefault(other.user_id, []).append(other)
    for member in members:
        member.others = by_user.get(member.user_id, [])
    return members


def _requirements_text(requirements: dict[str, Any]) -> list[str]:
    """The requirements in force, each as ``name`` (a flag) or ``name: value``."""
    texts = []
    for key, value in requirements.items():
        if value is True:
            texts.append(key)
        elif value:
            texts.append(f"{key}: {', '.join(map(str, value)) if isinstance(value, list) else value}")
    return texts


class TenantTreeView(PortalAccessMixin, RoleContextMixin, TemplateView):
    access = TENANTS_ACCESS
    template_name = "portal/tenants.html"
    queryset = Tenant.objects.all()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        tenants = list(scope_queryset(Tenant.objects.all(), self.request.user, self.access))
        figures = node_figures(tenants)
        for tenant in tenants:
            tenant.figures = figures[tenant.pk]
        context["roots"] = services.as_tree(tenants)
        context["count"] = len(tenants)
        return context


class TenantView(PortalAccessMixin, RoleContextMixin, TemplateView):
    access = TENANTS_ACCESS
    template_name = "portal/tenant.html"
    queryset = Tenant.objects.all()
    lookup_field = "slug"

    def get_object(self) -> Tenant:
        found = scope_queryset(Tenant.objects.select_related("parent"), self.request.user, self.access).filter(
            slug=self.kwargs["slug"]).first()
        if found is None:
            raise Http404("no such tenant")
        return found

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        tenant = kwargs.get("node") or self.get_object()
        visible = scope_queryset(Tenant.objects.all(), user, self.access)
        # The path from the root, as far as the reader may see it (a tenant user's starts at their own node).
        lineage = [a for a in services.ancestors(tenant) if visible.filter(pk=a.pk).exists()]
        children = list(tenant.children.all())
        figures = node_figures([tenant, *children])
        for child in children:
            child.figures = figures[child.pk]
        effective = merge([tenant_layer(tenant)])
        context.update({
            "node": tenant, "lineage": lineage, "children": children, "figures": figures[tenant.pk],
            "members": _members_with_their_other_memberships(tenant, user),
            "effective": effective, "requirements": _requirements_text(effective["requirements"]),
            "can_manage_members": is_allowed(user, self.access, "POST"),
            "can_create_child": is_allowed(user, self.access, "POST") and tenant.depth < 5,
            "grantable": [(value, label) for value, label in Role.choices if value in GRANTABLE],
            "form": kwargs.get("form") or {}, "errors": kwargs.get("errors") or {},
        })
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        tenant = self.get_object()
        action = request.POST.get("action")
        context = {"request": request}
        if action == "create-child":
            data = {key: request.POST.get(key, "").strip() for key in ("slug", "name", "description")}
            data.update(parent=tenant.slug, category=tenant.category)
            serializer = TenantSerializer(data=data, context=context)
            success = _("Tenant %(name)s created.")
        elif action == "add-member":
            data = {key: request.POST.get(key, "").strip() for key in ("username", "role", "email", "password")}
            data = {k: v for k, v in data.items() if v}
            data["tenant"] = tenant.slug
            serializer = MembershipSerializer(data=data, context=context)
            success = _("%(name)s added.")
        elif action == "set-role":
            raw = request.POST.get("membership", "")
            found = Membership.objects.filter(tenant=tenant, pk=int(raw)).first() \
                if raw.isdigit() and len(raw) < 19 else None
            if found is None:
                raise Http404("no such member")
            data = {"role": request.POST.get("role", "")}
            serializer = MembershipSerializer(found, data=data, partial=True, context=context)
            success = _("%(name)s's role changed.")
        elif action == "remove-member":
            return self._remove_member(request, tenant)
        else:
            raise Http404("no such action")
        if not serializer.is_valid():
            context_data = self.get_context_data(node=tenant, form={**data, "action": action},
                                                 errors=_errors(serializer))
            return self.render_to_response(context_data, status=400)
        saved = serializer.save()
        name = saved.name if isinstance(saved, Tenant) else saved.user.get_username()
        messages.success(request, success % {"name": name})
        return redirect("portal:tenant", slug=tenant.slug)

    def _remove_member(self, request: HttpRequest, tenant: Tenant) -> HttpResponse:
        """Remove one membership at this node (the user keeps their others); as the API: never one's own for a
        tenant admin. Recorded in the change log and the audit chain as the membership's deletion."""
        raw = request.POST.get("membership", "")
        found = Membership.objects.filter(tenant=tenant, pk=int(raw)).select_related("user").first() \
            if raw.isdigit() and len(raw) < 19 else None
        if found is None:
            raise Http404("no such member")
        actor = membership_of(request.user)
        if actor is not None and actor.is_tenant_scoped and found.user_id == request.user.pk:
            context_data = self.get_context_data(node=tenant, form={"action": "remove-member"},
                                                 errors={"role": _("You cannot remove your own membership.")})
            return self.render_to_response(context_data, status=400)
        found.delete()
        messages.success(request, _("%(name)s is no longer a member of %(tenant)s.")
                         % {"name": found.user.get_username(), "tenant": tenant.name})
        return redirect("portal:tenant", slug=tenant.slug)
