from rest_framework import serializers

from souverain.core.api import RejectUnknownFieldsMixin

from ..models import CompliancePass, OperatorPolicy, PolicyActivation, PolicyVersion, Violation


class PolicyVersionSerializer(serializers.ModelSerializer):
    policy = serializers.SlugRelatedField(slug_field="name", read_only=True)
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = PolicyVersion
        fields = ["id", "policy", "number", "status", "sha256", "errors", "tests", "uploaded_by", "uploaded_at",
                  "source", "test_source"]


class OperatorPolicySerializer(serializers.ModelSerializer):
    active_version = serializers.IntegerField(source="active_version.number", read_only=True, allow_null=True)

    class Meta:
        model = OperatorPolicy
        fields = ["id", "name", "description", "active_version", "created"]


class PolicyUploadSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    name = serializers.CharField(max_length=80)
    source = serializers.CharField()
    tests = serializers.CharField(help_text="A Rego module with test_ rules for this policy")
    description = serializers.CharField(required=False, allow_blank=True, default="")


class PolicyActivationSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="version.number")
    previous = serializers.IntegerField(source="previous.number", allow_null=True)
    activated_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = PolicyActivation
        fields = ["id", "version", "previous", "activated_by", "activated_at", "diff"]


class ViolationSerializer(serializers.ModelSerializer):
    tenant = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    region = serializers.CharField(source="region.key", read_only=True)
    resource_name = serializers.CharField(source="resource.name", read_only=True)
    resource_kind = serializers.CharField(source="resource.kind", read_only=True)
    resource_external_id = serializers.CharField(source="resource.external_id", read_only=True)

    class Meta:
        model = Violation
        fields = ["id", "resource", "resource_kind", "resource_name", "resource_external_id", "tenant", "region",
                  "rule", "severity", "message", "reason", "first_seen", "last_seen", "resolved_at"]


class CompliancePassSerializer(serializers.ModelSerializer):
    class Meta:
        model = CompliancePass
        fields = ["id", "started", "finished", "trigger", "scope", "date", "policy_version", "resources", "classes",
                  "opened", "resolved"]
