from __future__ import annotations

from typing import Any

from rest_framework import serializers

from souverain.core.api import RejectUnknownFieldsMixin
from souverain.estate.models import Cloud, Region
from souverain.tenancy.models import Tenant

from .. import services
from ..models import ProjectMapping, Resource, ResourceChange, SyncState


def _slugs(context: dict[str, Any]) -> dict[str, dict[int, str]]:
    """Slugs of clouds, regions and tenants by id, read once per request: cheaper than joining the estate
    tables to every row of a page (and it keeps the page query on the inventory table alone)."""
    slugs = context.get("slugs")
    if slugs is None:
        slugs = context["slugs"] = {
            "cloud": dict(Cloud.objects.values_list("id", "slug")),
            "region": dict(Region.objects.values_list("id", "slug")),
            "tenant": dict(Tenant.objects.values_list("id", "slug")),
        }
    return slugs


class ResourceSerializer(serializers.ModelSerializer):
    cloud = serializers.SerializerMethodField()
    region = serializers.SerializerMethodField()
    tenant = serializers.SerializerMethodField()
    gone = serializers.BooleanField(source="is_gone", read_only=True)
    last_seen = serializers.SerializerMethodField(help_text="When a sync last saw it (its kind's last listing, for "
                                                            "a present resource)")

    class Meta:
        model = Resource
        fields = ["id", "kind", "cloud", "region", "project_id", "tenant", "external_id", "name", "status", "tags",
                  "managed", "gone", "first_seen", "last_seen", "gone_at", "last_sync", "attrs"]
        read_only_fields = fields

    def get_cloud(self, resource: Resource) -> str:
        return _slugs(self.context)["cloud"].get(resource.cloud_id, "")

    def get_region(self, resource: Resource) -> str:
        return _slugs(self.context)["region"].get(resource.region_id, "")

    def get_tenant(self, resource: Resource) -> str | None:
        return _slugs(self.context)["tenant"].get(resource.tenant_id) if resource.tenant_id else None

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


class ProjectMappingSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    cloud = serializers.SlugRelatedField(slug_field="slug", queryset=Cloud.objects.all())
    tenant = serializers.SlugRelatedField(slug_field="slug", queryset=Tenant.objects.all())

    class Meta:
        model = ProjectMapping
        fields = ["id", "cloud", "project_id", "tenant", "description"]
