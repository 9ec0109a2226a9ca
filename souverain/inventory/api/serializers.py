from __future__ import annotations

from rest_framework import serializers

from souverain.estate.models import Cloud
from souverain.tenancy.models import Tenant

from ..models import ProjectMapping, Resource, ResourceChange, SyncState


class ResourceSerializer(serializers.ModelSerializer):
    cloud = serializers.CharField(source="cloud.slug", read_only=True)
    region = serializers.CharField(source="region.slug", read_only=True)
    tenant = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    gone = serializers.BooleanField(source="is_gone", read_only=True)

    class Meta:
        model = Resource
        fields = ["id", "kind", "cloud", "region", "project_id", "tenant", "external_id", "name", "status", "tags",
                  "managed", "gone", "first_seen", "last_seen", "gone_at", "last_sync", "attrs"]
        read_only_fields = fields


class ResourceListSerializer(ResourceSerializer):
    """The list leaves out ``attrs`` (the bulk of each row) unless asked with ``?attrs=true``."""

    class Meta(ResourceSerializer.Meta):
        fields = [f for f in ResourceSerializer.Meta.fields if f != "attrs"]


class ResourceChangeSerializer(serializers.ModelSerializer):
    # No "id": a change is only ever read as part of its resource's history.
    class Meta:
        model = ResourceChange
        fields = ["time", "action", "job", "changes"]
        read_only_fields = fields


class SyncStateSerializer(serializers.ModelSerializer):
    cloud = serializers.CharField(source="cloud.slug", read_only=True)
    region = serializers.CharField(source="region.slug", read_only=True)

    class Meta:
        model = SyncState
        fields = ["id", "cloud", "region", "kind", "status", "error", "last_attempt", "last_success", "last_full",
                  "last_job", "resource_count", "duration"]
        read_only_fields = fields


class ProjectMappingSerializer(serializers.ModelSerializer):
    cloud = serializers.SlugRelatedField(slug_field="slug", queryset=Cloud.objects.all())
    tenant = serializers.SlugRelatedField(slug_field="slug", queryset=Tenant.objects.all())

    class Meta:
        model = ProjectMapping
        fields = ["id", "cloud", "project_id", "tenant", "description"]
