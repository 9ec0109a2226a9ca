"""The inventory: one filterable, sortable table of every resource, and a page per resource."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.db.models import Value
from django.db.models.functions import Concat
from django.urls import reverse
from django.views.generic import DetailView, TemplateView
from django_tables2 import RequestConfig

from souverain.core.roles import ALL_ROLES
from souverain.inventory.models import Resource, SyncState
from souverain.tenancy.permissions import Access, PortalAccessMixin, membership_of, scope_queryset

from .. import services
from ..filtersets import PortalResourceFilterSet
from ..tables import KeysPaginator, ResourceTable
from .base import RoleContextMixin

# As the inventory API: everyone reads it, tenant users their tenant's part only.
INVENTORY_ACCESS = Access(read=ALL_ROLES, tenant_lookup="tenant")
# The API's ordering names for the table's sortable columns, so the CSV export keeps the page's order.
API_ORDERING = {"name": "name", "kind": "kind", "cloud": "cloud__slug", "region": "region__slug",
                "tenant": "tenant__slug", "status": "status", "last_seen": "last_seen"}


class ResourceListView(PortalAccessMixin, RoleContextMixin, TemplateView):
    access = INVENTORY_ACCESS
    template_name = "portal/inventory.html"
    queryset = Resource.objects.all()

    def get_queryset(self) -> Any:
        return scope_queryset(Resource.objects.all(), self.request.user, self.access)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        scoped = self.get_queryset()
        filterset = PortalResourceFilterSet(self.request.GET, queryset=scoped, user=user)
        rows = filterset.qs.select_related("cloud", "region", "tenant").defer("attrs")
        # Natural name order (web-2 before web-10). Browsing walks the name_sort index and stops after a page; a
        # search or a tag matches few rows scattered over it, which are faster found by one scan and sorted: the
        # same key as an expression no index has (SQLite uses the index when asked).
        selective = any(self.request.GET.get(name) for name in ("q", "tag"))
        rows = rows.order_by(Concat("name_sort", Value("")), "id") if selective else rows.order_by("name_sort", "id")
        membership = membership_of(user)
        table = ResourceTable(rows, show_tenant=not (membership and membership.tenant_id))
        RequestConfig(self.request, paginate={"per_page": 50, "paginator_class": KeysPaginator}).configure(table)
        params = {k: v for k, v in self.request.GET.items() if k in filterset.filters and v}
        sort = self.request.GET.get("sort", "")
        if sort.lstrip("-") in API_ORDERING:
            params["ordering"] = ("-" if sort.startswith("-") else "") + API_ORDERING[sort.lstrip("-")]
        context.update({
            "filter": filterset, "table": table,
            "export_url": reverse("resource-list") + "?" + urlencode({"format": "csv", **params}),
            "filtered": bool(params),
            "inventory_empty": not scoped.exists() if not params else False,
            "sync_known": SyncState.objects.exists(),
        })
        return context


class ResourceView(PortalAccessMixin, RoleContextMixin, DetailView):
    access = INVENTORY_ACCESS
    queryset = Resource.objects.select_related("cloud", "region", "tenant")
    template_name = "portal/resource.html"
    context_object_name = "resource"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(services.resource_page(self.object, self.request.user))
        return context
