from __future__ import annotations

from rest_framework import serializers

from souverain.estate.models import Cloud
from souverain.tenancy.models import Tenant

from .. import services
from ..models import ProjectMapping, Resource, ResourceChange, SyncState


class ResourceSerializer(serializers.ModelSerializer):
    cloud = serializers.CharField(source="cloud.slug", read_only=True)
    region = serializers.CharField(source="region.slug", read_only=True)
    tenant = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    gone = serializers.BooleanField(source="is_gone", read_only=True)
    last_seen = serializers.SerializerMethodField(help_text="When a sync last saw it (its kind's last listing, for "
                                                            "a present resource)")

    class Meta:
        model = Resource
        fields = ["id", "kind", "cloud", "region", "project_id", "tenant", "external_id", "name", "status", "tags",
                  "managed", "gone", "first_seen", "last_seen", "gone_at", "last_sync", "attrs"]
        read_only_fields = fields

    def get_last_seen(self, resource: Resource) -> str:
        times = self.context.get("listing_times")
        if times is None:
            times = self.context["listing_times"] = services.listing_times()
        return serializers.DateTimeField().to_representation(services.last_seen(resource, times))


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
