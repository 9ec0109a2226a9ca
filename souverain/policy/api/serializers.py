from typing import Any

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from souverain.core.api import RejectUnknownFieldsMixin

from ..models import NAME_PATTERN, NAME_RULE, CompliancePass, OperatorPolicy, PolicyActivation, PolicyVersion, Violation


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
    name = serializers.CharField(max_length=80, validators=[RegexValidator(NAME_PATTERN, NAME_RULE)],
                                 help_text="Lower case letters, digits and _; the module's package is "
                                           "souverain.custom.<name>")
    source = serializers.CharField()
    tests = serializers.CharField(help_text="A Rego module with test_ rules for this policy")
    description = serializers.CharField(required=False, allow_blank=True, default="")


class PolicyErrorSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="name, source or tests")
    module = serializers.CharField()
    line = serializers.IntegerField(allow_null=True)
    column = serializers.IntegerField(allow_null=True)
    message = serializers.CharField()


class PolicyRefusalSerializer(serializers.Serializer):
    """A refused upload (nothing stored): each problem, also listed by field as DRF reports field errors."""

    errors = PolicyErrorSerializer(many=True)
    name = serializers.ListField(child=serializers.CharField(), required=False)
    source = serializers.ListField(child=serializers.CharField(), required=False)
    tests = serializers.ListField(child=serializers.CharField(), required=False)


def refusal_body(errors: list[dict[str, Any]]) -> dict[str, Any]:
    body: dict[str, Any] = {"errors": errors}
    for error in errors:
        where = f"{error['module']}:{error['line']}:{error['column']}: " if error.get("line") else ""
        body.setdefault(error["field"], []).append(f"{where}{error['message']}")
    return body


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
    # The text lives in the violation's Denial (stored once for every violation that carries it).
    message = serializers.CharField(source="denial.message", read_only=True)
    reason = serializers.JSONField(source="denial.reason", read_only=True, help_text=_("The rule's facts and source"))

    class Meta:
        model = Violation
        fields = ["id", "resource", "resource_kind", "resource_name", "resource_external_id", "tenant", "region",
                  "rule", "severity", "message", "reason", "first_seen", "last_seen", "resolved_at"]


class CompliancePassSerializer(serializers.ModelSerializer):
    class Meta:
        model = CompliancePass
        fields = ["id", "started", "finished", "trigger", "scope", "date", "policy_version", "resources", "classes",
                  "opened", "resolved"]
