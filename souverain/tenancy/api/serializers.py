from __future__ import annotations

from rest_framework import serializers

from souverain.core.api import RejectUnknownFieldsMixin

from ..models import Membership, Tenant


class TenantSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = Tenant
        fields = ["id", "slug", "name", "description", "category", "default_data_classes", "default_requirements",
                  "safeguards"]


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    role = serializers.CharField(allow_null=True)
    tenant = serializers.CharField(allow_null=True)


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    # Operators and unbound auditors have no tenant.
    tenant = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)

    class Meta:
        model = Membership
        fields = ["id", "username", "role", "tenant"]
