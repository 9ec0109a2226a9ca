from rest_framework import serializers

from ..models import OperatorPolicy, PolicyActivation, PolicyVersion


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


class PolicyUploadSerializer(serializers.Serializer):
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
