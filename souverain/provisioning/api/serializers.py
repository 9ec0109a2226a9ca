from __future__ import annotations

from typing import Any

from rest_framework import serializers

from souverain.core.api import RejectUnknownFieldsMixin

from .. import approvals, quotas
from ..models import QUOTA_FIELDS, Approval, ApprovalPolicy, Quota, RequestEvent, ServiceRequest


class RequestEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = RequestEvent
        fields = ["step", "actor", "at", "message", "message_fr", "data"]


class ApprovalSerializer(serializers.ModelSerializer):
    approver_tenant = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    request = serializers.PrimaryKeyRelatedField(read_only=True)
    request_name = serializers.CharField(source="request.name", read_only=True)
    request_kind = serializers.CharField(source="request.kind", read_only=True)
    request_tenant = serializers.CharField(source="request.tenant.slug", read_only=True)
    actionable = serializers.SerializerMethodField(help_text="Whether the current user may decide it now")

    class Meta:
        model = Approval
        fields = ["id", "request", "request_name", "request_kind", "request_tenant", "level", "rule", "approver",
                  "approver_tenant", "status", "decided_by_name", "decided_at", "comment", "actionable"]

    def get_actionable(self, approval: Approval) -> bool:
        from souverain.tenancy.permissions import membership_of

        user = self.context["request"].user if "request" in self.context else None
        return approval.status == Approval.Status.PENDING and approvals.may_decide(
            membership_of(user), approval, approval.request)


class ServiceRequestSerializer(serializers.ModelSerializer):
    tenant = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    region = serializers.CharField(source="region.key", read_only=True, allow_null=True, default=None)
    job = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = ServiceRequest
        fields = ["id", "tenant", "requester_name", "kind", "name", "spec", "region", "auto", "data_classes",
                  "requirements", "effective_classes", "demand", "status", "status_detail", "refusal",
                  "created_objects", "job", "approval_level", "created", "last_updated", "started_at",
                  "finished_at", "expires_at"]


class ServiceRequestDetailSerializer(ServiceRequestSerializer):
    timeline = RequestEventSerializer(source="events", many=True, read_only=True)
    approvals = ApprovalSerializer(many=True, read_only=True)

    class Meta(ServiceRequestSerializer.Meta):
        fields = [*ServiceRequestSerializer.Meta.fields, "timeline", "approvals"]


class ServiceRequestCreateSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    tenant = serializers.SlugField(required=False, help_text="Tenant slug; tenant users: their own node by default")
    kind = serializers.ChoiceField(choices=ServiceRequest.Kind.choices)
    name = serializers.CharField(max_length=255)
    spec = serializers.DictField(help_text="The kind's fields (docs/provisioning.md)")
    region = serializers.CharField(required=False, allow_blank=True, help_text="cloud/region")
    auto = serializers.BooleanField(required=False, default=False, help_text="Let Souverain choose the region")
    data_classes = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    requirements = serializers.DictField(required=False, default=dict)


class DecisionSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class CancelSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class QuotaSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    # A slug, not a related field: the browsable API would list every tenant in its form.
    tenant = serializers.SlugField(source="tenant.slug", help_text="The tenant node's slug")
    cloud = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    cloud_slug = serializers.SlugField(write_only=True, required=False, allow_null=True,
                                       help_text="A cloud's slug; empty: the limits across all clouds")
    usage = serializers.SerializerMethodField(help_text="The subtree's usage: inventory plus in-flight requests")
    over = serializers.SerializerMethodField(help_text="The limits the usage exceeds")

    class Meta:
        model = Quota
        fields = ["id", "tenant", "cloud", "cloud_slug", *QUOTA_FIELDS, "usage", "over", "created", "last_updated"]
        read_only_fields = ["created", "last_updated"]

    def _usage(self, quota: Quota) -> dict[str, int]:
        cache = self.context.setdefault("_usage", {})
        if quota.pk not in cache:
            cache[quota.pk] = quotas.usage(quota.tenant, quota.cloud)
        return cache[quota.pk]

    def get_usage(self, quota: Quota) -> dict[str, int]:
        return self._usage(quota)

    def get_over(self, quota: Quota) -> list[str]:
        used, limits = self._usage(quota), quota.limits()
        return [n for n in QUOTA_FIELDS if limits[n] is not None and used[n] > limits[n]]


class ApprovalPolicySerializer(serializers.ModelSerializer):
    class Meta:
        model = ApprovalPolicy
        fields = ["number", "source", "rules", "active", "uploaded_by", "created"]


class ApprovalPolicyUploadSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    source = serializers.CharField(max_length=approvals.MAX_RULES_BYTES, trim_whitespace=False,
                                   help_text="The rules, YAML (docs/provisioning.md)")

    def validate_source(self, value: Any) -> str:
        return str(value)
