from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from souverain.policy import services as policy_services
from souverain.policy.workloads import WorkloadError, validate
from souverain.tenancy.models import Tenant
from souverain.tenancy.permissions import tenant_of

from ..models import SavedWorkload


class SavedWorkloadSerializer(serializers.ModelSerializer):
    """A workload kept for what-ifs. A tenant user's are always their tenant's; an operator's may name one."""

    tenant = serializers.SlugRelatedField(slug_field="slug", queryset=Tenant.objects.all(), required=False,
                                          allow_null=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = SavedWorkload
        fields = ["id", "name", "tenant", "descriptor", "created_by", "created", "last_updated"]
        read_only_fields = ["created", "last_updated"]
        validators: list = []  # the unique name per tenant is checked in validate(), after the tenant is known

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        own = tenant_of(request.user) if request is not None else None
        if own is not None:  # a tenant user names (and the browsable API's form offers) their own tenant only
            self.fields["tenant"].queryset = Tenant.objects.filter(pk=own.pk)

    def validate_descriptor(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise serializers.ValidationError(_("A workload is a JSON object (see docs/policies.md)."))
        engine = policy_services.current_engine()
        try:
            validate(value, known_laws=policy_services.known_law_ids(),
                     known_packs=list(engine.packs_config.get("packs") or {}))
        except WorkloadError as exc:
            raise serializers.ValidationError(exc.problems) from exc
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        own = tenant_of(self.context["request"].user)
        if own is not None:
            if attrs.get("tenant") not in (None, own):
                raise serializers.ValidationError({"tenant": [_("You can only save workloads of your own tenant.")]})
            attrs["tenant"] = own
        tenant = attrs.get("tenant", getattr(self.instance, "tenant", None))
        name = attrs.get("name", getattr(self.instance, "name", None))
        clash = SavedWorkload.objects.filter(tenant=tenant, name=name)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError({"name": [_("A saved workload of this tenant already has this name.")]})
        return attrs
