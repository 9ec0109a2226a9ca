"""Capacity API: the latest capacity per region and per availability zone, and the history.

- ``/api/capacity/regions/``: the newest measured snapshot of each region (sums per resource class, and per zone);
  ``/api/capacity/regions/<region id>/`` adds the providers as measured.
- ``/api/capacity/zones/``: the newest figures of each zone, one row per zone and resource class.
- ``/api/capacity/history/``: every figure measured, filtered by region, zone, class and ``since``/``until``.

Who reads what: operators and auditors every region; tenant users the regions they may use - public clouds and
the private clouds dedicated to their tenant (``dedicated_lookup``; another customer's region answers 404).
Measuring is a job: ``POST /api/jobs/ {"kind": "capacity.sync", "params": {"clouds": [...]}}``.
"""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import mixins, viewsets

from souverain.core.roles import ALL_ROLES
from souverain.tenancy.permissions import Access, TenantScopedQuerysetMixin

from ..filtersets import CapacityFigureFilterSet, CapacitySnapshotFilterSet
from ..models import CapacityFigure, CapacitySnapshot
from . import serializers

CAPACITY_ACCESS = Access(read=ALL_ROLES, dedicated_lookup="region__cloud__dedicated_to")


class RegionCapacityViewSet(TenantScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """Each region's capacity as last measured (allocatable, used, free vCPU, RAM and disk; per zone too)."""

    access = CAPACITY_ACCESS
    queryset = CapacitySnapshot.objects.select_related("region__cloud").prefetch_related("figures")
    serializer_class = serializers.CapacitySnapshotSerializer
    filterset_class = CapacitySnapshotFilterSet
    lookup_field = "region_id"
    ordering_fields = ["taken_at"]
    ordering = ["region__cloud__slug", "region__slug"]

    def get_queryset(self) -> QuerySet:
        return super().get_queryset().filter(pk__in=CapacitySnapshot.latest().values("pk"))

    def get_serializer_class(self) -> type:
        if self.action == "retrieve":
            return serializers.CapacitySnapshotDetailSerializer
        return serializers.CapacitySnapshotSerializer


class ZoneCapacityViewSet(TenantScopedQuerysetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Each availability zone's capacity as last measured, one row per zone and resource class (a list only: a row
    is read in the history by its id)."""

    access = CAPACITY_ACCESS
    queryset = CapacityFigure.objects.select_related("region__cloud").exclude(zone="")
    serializer_class = serializers.CapacityFigureSerializer
    filterset_class = CapacityFigureFilterSet
    ordering = ["region__cloud__slug", "region__slug", "zone", "resource_class"]

    def get_queryset(self) -> QuerySet:
        return super().get_queryset().filter(snapshot__in=CapacitySnapshot.latest().values("pk"))


class CapacityHistoryViewSet(TenantScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """Every figure measured, oldest first: filter by region, zone, resource class, since and until."""

    access = CAPACITY_ACCESS
    queryset = CapacityFigure.objects.select_related("region__cloud")
    serializer_class = serializers.CapacityFigureSerializer
    filterset_class = CapacityFigureFilterSet
    ordering_fields = ["taken_at"]
    ordering = ["taken_at", "region_id", "zone", "resource_class"]
