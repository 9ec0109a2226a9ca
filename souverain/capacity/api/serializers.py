from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import CapacityFigure, CapacitySnapshot

FIGURES = ("total", "reserved", "allocatable", "used", "free", "largest_free", "providers")


class CapacityFigureSerializer(serializers.ModelSerializer):
    region = serializers.CharField(source="region.key", read_only=True)
    region_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = CapacityFigure
        fields = ["id", "region", "region_id", "zone", "resource_class", "taken_at", *FIGURES]


class CapacitySnapshotSerializer(serializers.ModelSerializer):
    """A region's capacity as last measured: the region's sums per resource class, and each zone's."""

    region = serializers.CharField(source="region.key", read_only=True)
    region_id = serializers.IntegerField(read_only=True)
    cloud = serializers.CharField(source="region.cloud.slug", read_only=True)
    resources = serializers.SerializerMethodField()
    zones = serializers.SerializerMethodField()

    class Meta:
        model = CapacitySnapshot
        fields = ["id", "region", "region_id", "cloud", "taken_at", "status", "error", "resources", "zones", "job"]

    def _figures(self, snapshot: CapacitySnapshot) -> list[CapacityFigure]:
        return list(snapshot.figures.all())

    @extend_schema_field(OpenApiTypes.OBJECT)  # {resource class: {total, reserved, allocatable, used, free, ...}}
    def get_resources(self, snapshot: CapacitySnapshot) -> dict[str, dict[str, int]]:
        return {f.resource_class: {k: getattr(f, k) for k in FIGURES} for f in self._figures(snapshot) if not f.zone}

    @extend_schema_field(OpenApiTypes.OBJECT)  # {zone: {resource class: figures}}
    def get_zones(self, snapshot: CapacitySnapshot) -> dict[str, dict[str, dict[str, int]]]:
        zones: dict[str, Any] = {}
        for f in self._figures(snapshot):
            if f.zone:
                zones.setdefault(f.zone, {})[f.resource_class] = {k: getattr(f, k) for k in FIGURES}
        return zones


class CapacitySnapshotDetailSerializer(CapacitySnapshotSerializer):
    class Meta(CapacitySnapshotSerializer.Meta):
        fields = [*CapacitySnapshotSerializer.Meta.fields, "providers"]
