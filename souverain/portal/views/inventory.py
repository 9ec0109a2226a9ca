"""The inventory: one filterable, sortable table of every resource, one table per kind with the columns that
kind needs (``kind_tables``: servers with flavor and addresses, volumes with size and attachments…, as Horizon's
panels), and a page per resource. Every table pages the same way (``tables.KeysPaginator``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.db.models import Value
from django.db.models.functions import Concat
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import DetailView, TemplateView
from django_tables2 import RequestConfig

from souverain.core.roles import ALL_ROLES
from souverain.inventory.kinds import KINDS, KindInfo
from souverain.inventory.models import Resource, SyncState
from souverain.tenancy.permissions import Access, PortalAccessMixin, membership_of, scope_queryset

from .. import services
from ..filtersets import PortalResourceFilterSet
from ..kind_tables import kind_table
from ..tables import KeysPaginator, ResourceTable
from .base import RoleContextMixin

# As the inventory API: everyone reads it, tenant users their tenant's part only.
INVENTORY_ACCESS = Access(read=ALL_ROLES, tenant_lookup="tenant")
# The API's ordering names for the table's sortable columns, so the CSV export keeps the page's order.
API_ORDERING = {"name": "name", "kind": "kind", "cloud": "cloud__slug", "region": "region__slug",
                "tenant": "tenant__slug", "status": "status", "last_seen": "last_seen"}


def kind_nav(current: str | None) -> list[dict[str, Any]]:
    """The inventory's tabs: every kind, then all kinds together (the search across kinds)."""
    tabs = [{"url": reverse(f"portal:inventory-{info.listing}"), "label": info.label,
             "current": info.name == current, "kind": info.name} for info in KINDS]
    return [*tabs, {"url": reverse("portal:inventory"), "label": _("All kinds"), "current": current is None,
                    "kind": ""}]


class ResourceListView(PortalAccessMixin, RoleContextMixin, TemplateView):
    access = INVENTORY_ACCESS
    template_name = "portal/inventory.html"
    queryset = Resource.objects.all()
    #: None: every kind (search across kinds); else a kind's listing name (``servers``), from the URL.
    kind: KindInfo | None = None

    def get_queryset(self) -> Any:
        return scope_queryset(Resource.objects.all(), self.request.user, self.access)

    def filterset(self, scoped: Any) -> PortalResourceFilterSet:
        return PortalResourceFilterSet(self.request.GET, queryset=scoped, user=self.request.user)

    def rows(self, filterset: PortalResourceFilterSet) -> Any:
        return filterset.qs.select_related("cloud", "region", "tenant").defer("attrs")

    def table(self, rows: Any, show_tenant: bool) -> Any:
        return ResourceTable(rows, show_tenant=show_tenant)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        scoped = self.get_queryset()
        filterset = self.filterset(scoped)
        rows = self.rows(filterset)
        # Natural name order (web-2 before web-10). Browsing walks the name_sort index and stops after a page; a
        # search or a tag matches few rows scattered over it, which are faster found by one scan and sorted: the
        # same key as an expression no index has (SQLite uses the index when asked).
        selective = any(self.request.GET.get(name) for name in ("q", "tag"))
        rows = rows.order_by(Concat("name_sort", Value("")), "id") if selective else rows.order_by("name_sort", "id")
        membership = membership_of(user)
        table = self.table(rows, show_tenant=not (membership and membership.tenant_id))
        RequestConfig(self.request, paginate={"per_page": 50, "paginator_class": KeysPaginator}).configure(table)
        params = {k: v for k, v in self.request.GET.items() if k in filterset.filters and v}
        if self.kind is not None:
            params["kind"] = self.kind.name
        sort = self.request.GET.get("sort", "")
        if sort.lstrip("-") in API_ORDERING:
            params["ordering"] = ("-" if sort.startswith("-") else "") + API_ORDERING[sort.lstrip("-")]
        context.update({
            "filter": filterset, "table": table,
            "export_url": reverse("resource-list") + "?" + urlencode({"format": "csv", **params}),
            "filtered": bool(params),
            "inventory_empty": not scoped.exists() if not params else False,
            "sync_known": SyncState.objects.exists(),
            "kind": self.kind, "kinds": kind_nav(self.kind.name if self.kind else None),
        })
        return context


class KindListView(ResourceListView):
    """One kind's table (``/inventory/servers/``): the filters of the all-kinds page but the kind, and the kind's
    own columns. Routed once per kind of the registry (``urls.py``), so no URL names a kind that does not exist."""

    def filterset(self, scoped: Any) -> PortalResourceFilterSet:
        assert self.kind is not None
        filterset = super().filterset(scoped.filter(kind=self.kind.name))
        filterset.filters.pop("kind", None)
        return filterset

    def rows(self, filterset: PortalResourceFilterSet) -> Any:
        # attrs are read, for the page's rows only: KeysPaginator fetches the keys first, then those 50 rows.
        return filterset.qs.select_related("cloud", "region", "tenant")

    def table(self, rows: Any, show_tenant: bool) -> Any:
        assert self.kind is not None
        return kind_table(self.kind)(rows, show_tenant=show_tenant)


class ResourceView(PortalAccessMixin, RoleContextMixin, DetailView):
    access = INVENTORY_ACCESS
    queryset = Resource.objects.select_related("cloud", "region", "tenant")
    template_name = "portal/resource.html"
    context_object_name = "resource"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(services.resource_page(self.object, self.request.user))
        return context
