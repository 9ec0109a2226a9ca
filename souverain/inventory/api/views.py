from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import filters, renderers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from souverain.core.api.csv_export import CSVRenderer, csv_response
from souverain.core.roles import ALL_ROLES, Role
from souverain.tenancy.permissions import (
    OPERATOR_ONLY,
    Access,
    TenantScopedQuerysetMixin,
    access_of,
    membership_of,
    scope_queryset,
)
from souverain.tenancy.services import subtree_ids

from .. import services
from ..filtersets import ProjectMappingFilterSet, ResourceFilterSet, SyncStateFilterSet, ids_match
from ..models import ProjectMapping, Resource, SyncState
from . import serializers
from .pagination import CappedCountPagination

# Everyone reads the inventory, tenant users their tenant's part only; only syncs write it.
INVENTORY_ACCESS = Access(read=ALL_ROLES, tenant_lookup="tenant")

CSV_COLUMNS = [
    ("id", "id"), ("kind", "kind"), ("cloud", "cloud__slug"), ("region", "region__slug"),
    ("project_id", "project_id"), ("tenant", "tenant__slug"), ("external_id", "external_id"), ("name", "name"),
    ("status", "status"), ("tags", "tags"), ("managed", "managed"), ("first_seen", "first_seen"),
    ("last_seen", "last_seen"), ("gone_at", "gone_at"),
]


class NaturalNameOrdering(filters.OrderingFilter):
    """``?ordering=name`` sorts names naturally (web-2 before web-10) through the stored, indexed key
    ``name_sort``; every ordering ends with the id, so pages never overlap nor skip a row."""

    def get_ordering(self, request: Request, queryset: QuerySet, view: Any) -> list[str]:
        ordering = [{"name": "name_sort", "-name": "-name_sort"}.get(field, field)
                    for field in super().get_ordering(request, queryset, view) or []]
        if not any(field.lstrip("-") == "id" for field in ordering):
            ordering.append("-id" if ordering and ordering[0].startswith("-") else "id")
        return ordering


class ResourceViewSet(TenantScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """Every resource of every cloud. The list shows present resources unless ``presence`` says otherwise;
    ``?format=csv`` exports every matching row."""

    access = INVENTORY_ACCESS
    queryset = Resource.objects.all()
    serializer_class = serializers.ResourceSerializer
    filterset_class = ResourceFilterSet
    renderer_classes = [renderers.JSONRenderer, renderers.BrowsableAPIRenderer, CSVRenderer]
    pagination_class = CappedCountPagination
    ordering_fields = ["id", "name", "kind", "status", "first_seen", "last_seen", "gone_at", "project_id",
                       "cloud__slug", "region__slug", "tenant__slug"]
    ordering = ["name_sort", "id"]
    filter_backends = [DjangoFilterBackend, NaturalNameOrdering]

    def get_queryset(self) -> QuerySet:
        queryset = Resource.objects.all()
        membership = membership_of(self.request.user)
        if membership is not None and membership.is_tenant_scoped:
            # The tenant's scope stated first in the form the filter index can use (``filtersets.ids_match``):
            # PostgreSQL keeps one of two equal conditions on a column, the first. The permission layer's own
            # scope is applied right after, as for every view.
            # Their tenant's subtree (the organisation tree): the same rows as scope_queryset's subquery.
            queryset = queryset.filter(ids_match("tenant_id", sorted(subtree_ids(membership.tenant_id))))
        return scope_queryset(queryset, self.request.user, access_of(self, self.request.method))

    def get_serializer_class(self) -> type:
        if self.action == "list" and self.request.query_params.get("attrs", "").lower() not in ("1", "true", "yes"):
            return serializers.ResourceListSerializer
        return super().get_serializer_class()

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        if self.action == "list" and not self.request.query_params.get("presence"):
            queryset = queryset.filter(gone_at__isnull=True)
        return queryset

    @extend_schema(parameters=[
        OpenApiParameter("attrs", OpenApiTypes.BOOL, description="Include each resource's raw attributes"),
        OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"], description="csv: every matching row"),
    ])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        if getattr(request.accepted_renderer, "format", None) == "csv":
            return self._export(self.filter_queryset(self.get_queryset()))
        queryset = self.filter_queryset(self.get_queryset())
        if self.get_serializer_class() is serializers.ResourceListSerializer:
            queryset = queryset.defer("attrs")
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def _export(self, queryset: QuerySet) -> StreamingHttpResponse:
        rows = queryset.values_list(*[path for _, path in CSV_COLUMNS], "cloud_id", "region_id")
        times = services.listing_times()
        names = [name for name, _ in CSV_COLUMNS]
        kind, seen, gone_at = names.index("kind"), names.index("last_seen"), names.index("gone_at")

        def cells(row: tuple[Any, ...]) -> list[Any]:
            values = list(row[:-2])
            listed = times.get((row[-2], row[-1], row[kind]))
            if values[gone_at] is None and listed and listed > values[seen]:
                values[seen] = listed  # unchanged resources are not rewritten: seen at their kind's last listing
            return [";".join(v) if isinstance(v, list) else "" if v is None else v for v in values]

        return csv_response(names, (cells(row) for row in rows.iterator(chunk_size=2000)), "inventory.csv")

    @extend_schema(responses=serializers.ResourceChangeSerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: str | None = None, format: str | None = None) -> Response:
        """What changed, when, and which sync found it, newest first."""
        resource = self.get_object()
        page = self.paginate_queryset(resource.changes.order_by("-time", "-id"))
        return self.get_paginated_response(serializers.ResourceChangeSerializer(page, many=True).data)


class SyncStateViewSet(TenantScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """How fresh each kind of each region is, and why not when a sync failed."""

    access = OPERATOR_ONLY
    queryset = SyncState.objects.select_related("cloud", "region")
    serializer_class = serializers.SyncStateSerializer
    filterset_class = SyncStateFilterSet


class ProjectMappingViewSet(TenantScopedQuerysetMixin, viewsets.ModelViewSet):
    """Which tenant owns which cloud project; changing one re-assigns the project's resources at once."""

    access = Access(read=ALL_ROLES, write=frozenset({Role.OPERATOR_ADMIN}), tenant_lookup="tenant")
    queryset = ProjectMapping.objects.select_related("cloud", "tenant")
    serializer_class = serializers.ProjectMappingSerializer
    filterset_class = ProjectMappingFilterSet
